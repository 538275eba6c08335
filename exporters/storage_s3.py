"""S3 target storage (Label Studio's ``/api/storages/export/s3``): a sync writes each
annotated task of the project as one JSON object, ``<prefix>/<task id>.json``, holding
the task as the JSON export writes it (annotations with the annotator (id, email, name), reviews,
predictions). Tasks are read in the export's keyset chunks, so memory stays flat; a
re-sync overwrites the objects with the current state. The client comes from
labelhub.s3.client_for, shared with the S3 source storage.
"""

import posixpath

import orjson
from botocore.exceptions import BotoCoreError, ClientError
from django.utils import timezone

from exporters import selectors
from exporters.models import S3ExportStorage
from exporters.selectors import TaskFilter
from labelhub.errors import ApiError
from labelhub.s3 import client_for

FIELDS = [
    "id",
    "title",
    "description",
    "bucket",
    "prefix",
    "s3_endpoint",
    "region_name",
    "can_delete_objects",
    "last_sync",
    "last_sync_count",
    "status",
    "traceback",
    "created_at",
]


def object_key(storage: S3ExportStorage, task_id: int) -> str:
    prefix = storage.prefix.strip("/")
    return posixpath.join(prefix, f"{task_id}.json") if prefix else f"{task_id}.json"


def storage_sync(*, storage: S3ExportStorage) -> S3ExportStorage:
    """Write every annotated task (one with a non-cancelled completion) to the bucket."""
    task_filter = TaskFilter(exclude_cancelled=True)
    tasks = selectors.export_tasks_queryset(project=storage.project, task_filter=task_filter)
    s3 = client_for(storage)
    count = 0
    S3ExportStorage.objects.filter(pk=storage.pk).update(status="in_progress", traceback="")
    try:
        for task in selectors.export_task_dicts(tasks, task_filter=task_filter):
            s3.put_object(
                Bucket=storage.bucket,
                Key=object_key(storage, task["id"]),
                Body=orjson.dumps(task),
                ContentType="application/json",
            )
            count += 1
    except (BotoCoreError, ClientError) as exc:
        message = str(exc)
        if isinstance(exc, ClientError):
            message = exc.response.get("Error", {}).get("Message") or message
        S3ExportStorage.objects.filter(pk=storage.pk).update(
            status="failed", traceback=message[:4000], last_sync_count=count
        )
        raise ApiError(
            f"S3 error for s3://{storage.bucket}/{storage.prefix}: {message}",
            [{"field": "bucket", "message": message}],
        ) from None
    S3ExportStorage.objects.filter(pk=storage.pk).update(
        status="completed", last_sync=timezone.now(), last_sync_count=count
    )
    storage.refresh_from_db()
    return storage


def storage_as_dict(storage: S3ExportStorage) -> dict:
    body = {name: getattr(storage, name) for name in FIELDS}
    body["project"] = storage.project_id
    body["type"] = "s3"
    body["aws_access_key_id"] = storage.aws_access_key_id  # the secret parts are write-only
    return body
