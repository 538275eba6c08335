"""Issue #26 row 4: with the media in a bucket (no folder shared by the web and the
worker) a background import's progress goes through Redis, so the page's bar moves
with the job instead of sitting at 0 until the end."""

import types

import pytest
from django.conf import settings

from importers.models import ImportJob
from importers.progress import ProgressFile, progress_read
from importers.selectors import import_job_dict

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL"),
]


def test_progress_without_a_shared_folder_goes_through_redis(project, owner):
    job = ImportJob.objects.create(
        project=project,
        created_by=owner,
        files=[{"path": "", "key": "imports/1/0-a.json", "name": "a.json", "kind": ""}],
        work_dir="",  # as with S3_*: the input is in the bucket
        status=ImportJob.Status.RUNNING,
    )
    write = ProgressFile(job)
    write.redis.delete(write.key)  # a job id an earlier run of the suite used
    assert progress_read(job) == {}
    write(types.SimpleNamespace(bytes_done=250, bytes_total=1000), 5000)
    assert progress_read(job) == {"processed": 5000, "bytes_done": 250, "bytes_total": 1000}
    body = import_job_dict(job, with_task_ids=False)
    assert body["progress"] == 0.25 and body["processed"] == 5000 and body["total"] == 20000
