"""A sync as a background job: progress on the storage row as it goes (Label Studio's
``last_sync_count`` and ``meta`` counts), one transaction per batch, and resumable (a
sync after a failure imports only what is missing, never a task twice)."""

import orjson
import pytest

from annotations.services import annotation_create
from importers import services as importer_services
from io_storages import jobs, services
from io_storages.models import ExportStorage, ExportStorageLink, ImportStorage, ImportStorageLink
from labelhub.jobs import job_check_alive, job_run
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db
URL = "/api/storages/localfiles"
TARGET = "/api/storages/export/localfiles"


def _files(folder, count: int, *, bad: int | None = None) -> None:
    for n in range(count):
        body = b'[{"text": "broken' if n == bad else orjson.dumps([{"text": f"t{n}"}])
        (folder / f"{n:02d}.json").write_bytes(body)


def test_source_sync_commits_in_batches_with_progress_and_resumes(
    api, project, local_root, sync, settings, monkeypatch
):
    settings.LABELHUB_STORAGE_SYNC_BATCH = 2
    folder = local_root / "tasks"
    folder.mkdir()
    _files(folder, 7, bad=4)  # batches: [00 01] [02 03] [04 05] [06]
    storage = api.post(URL, {"project": project.pk, "path": str(folder)}, format="json").json()

    seen: list[tuple[str, int | None, int]] = []
    real_import = importer_services.records_import

    def watching(**kwargs):
        # What the row says when each batch starts: the batches before it, all counted.
        row = ImportStorage.objects.get(pk=storage["id"])
        seen.append((row.status, row.last_sync_count, Task.objects.filter(project=project).count()))
        return real_import(**kwargs)

    monkeypatch.setattr(jobs, "records_import", watching)
    failed = sync(f"{URL}/{storage['id']}")
    assert seen == [("in_progress", 0, 0), ("in_progress", 2, 2), ("in_progress", 4, 4)]
    assert failed["status"] == "failed"
    assert "04.json" in failed["traceback"]
    # The two batches before the bad file committed, with their links and their count.
    assert failed["last_sync_count"] == 4
    assert failed["meta"]["tasks_existed"] == 0
    assert "time_last_ping" in failed["meta"] and "time_failure" in failed["meta"]
    assert sorted(Task.objects.filter(project=project).values_list("data__text", flat=True)) == [
        "t0",
        "t1",
        "t2",
        "t3",
    ]
    assert ImportStorageLink.objects.filter(storage_id=storage["id"]).count() == 4

    # Fixed: the next sync skips the four imported files and imports the other three.
    (folder / "04.json").write_bytes(orjson.dumps([{"text": "t4"}]))
    seen.clear()
    done = sync(f"{URL}/{storage['id']}")
    assert done["status"] == "completed", done
    assert done["last_sync_count"] == 3
    assert done["meta"]["tasks_existed"] == 4
    assert done["last_sync"] is not None and done["last_sync_job"]
    assert Task.objects.filter(project=project).count() == 7
    assert len(set(Task.objects.filter(project=project).values_list("data__text", flat=True))) == 7

    # Again: nothing new, nothing twice.
    again = sync(f"{URL}/{storage['id']}")
    assert again["status"] == "completed" and again["last_sync_count"] == 0
    assert again["meta"]["tasks_existed"] == 7
    assert Task.objects.filter(project=project).count() == 7


def test_a_worker_that_dies_mid_sync_loses_only_its_open_batch(
    api, project, local_root, sync, settings, monkeypatch
):
    settings.LABELHUB_STORAGE_SYNC_BATCH = 2
    folder = local_root / "tasks"
    folder.mkdir()
    _files(folder, 5)
    storage = api.post(URL, {"project": project.pk, "path": str(folder)}, format="json").json()
    real_import = importer_services.records_import
    calls = []

    def dying(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is killed inside the second batch
        return real_import(**kwargs)

    monkeypatch.setattr(jobs, "records_import", dying)
    with pytest.raises(KeyboardInterrupt):
        sync(f"{URL}/{storage['id']}")
    row = ImportStorage.objects.get(pk=storage["id"])
    assert row.status == "in_progress" and row.last_sync_count == 2
    assert Task.objects.filter(project=project).count() == 2
    # The lock died with the worker: the next request sees the sync failed, and may sync.
    assert job_check_alive(row).status == "failed"
    monkeypatch.setattr(jobs, "records_import", real_import)
    done = sync(f"{URL}/{storage['id']}")
    assert done["status"] == "completed"
    assert (done["last_sync_count"], done["meta"]["tasks_existed"]) == (3, 2)
    assert Task.objects.filter(project=project).count() == 5


def test_target_sync_reports_progress_per_batch(
    api, project, owner, local_root, sync, settings, monkeypatch, import_tasks
):
    settings.LABELHUB_STORAGE_SYNC_BATCH = 2
    task_ids = import_tasks(project, [{"text": f"t{n}"} for n in range(5)])
    for task_id in task_ids:
        annotation_create(task=Task.objects.get(pk=task_id), user=owner, result=choice("Positive"))
    out = local_root / "out"
    out.mkdir()
    target = api.post(TARGET, {"project": project.pk, "path": str(out)}, format="json").json()
    counts: list[int | None] = []
    real_touch = jobs.links_touch

    def watching(storage, annotation_ids):
        counts.append(ExportStorage.objects.get(pk=target["id"]).last_sync_count)
        real_touch(storage, annotation_ids)

    monkeypatch.setattr(jobs, "links_touch", watching)
    done = sync(f"{TARGET}/{target['id']}")
    assert counts == [0, 2, 4]
    assert done["status"] == "completed" and done["last_sync_count"] == 5
    assert done["meta"]["total_annotations"] == 5
    assert len(list(out.iterdir())) == 5
    assert ExportStorageLink.objects.filter(storage_id=target["id"]).count() == 5
    # A re-sync overwrites the same five objects and links (Label Studio's target sync).
    again = sync(f"{TARGET}/{target['id']}")
    assert again["last_sync_count"] == 5
    assert len(list(out.iterdir())) == 5
    assert ExportStorageLink.objects.filter(storage_id=target["id"]).count() == 5


@pytest.mark.django_db(transaction=True)
def test_sync_answer_waits_a_bounded_time_for_the_worker(
    api, project, local_root, settings, monkeypatch
):
    """Outside a transaction the sync request waits (up to
    LABELHUB_STORAGE_SYNC_WAIT_SECONDS) for the worker, so a quick sync answers its
    result as Label Studio's does; the request itself never runs the sync."""
    from io_storages import selectors

    folder = local_root / "tasks"
    folder.mkdir()
    _files(folder, 3)
    storage = api.post(URL, {"project": project.pk, "path": str(folder)}, format="json").json()
    sent: list[int] = []
    monkeypatch.setattr(services, "_sync_enqueue", lambda queued: sent.append(queued.pk))

    def worker_runs_meanwhile(seconds):
        # The first pause of the waiting request: a worker takes the job and finishes it.
        while sent:
            job_run(kind="import_sync", job_id=sent.pop())

    monkeypatch.setattr(selectors.time, "sleep", worker_runs_meanwhile)
    answer = api.post(f"{URL}/{storage['id']}/sync").json()
    assert answer["status"] == "completed" and answer["last_sync_count"] == 3

    (folder / "new.json").write_bytes(orjson.dumps([{"text": "new"}]))
    settings.LABELHUB_STORAGE_SYNC_WAIT_SECONDS = 0
    answer = api.post(f"{URL}/{storage['id']}/sync").json()
    assert answer["status"] == "queued" and answer["last_sync_count"] is None
    assert sent == [storage["id"]] and Task.objects.filter(project=project).count() == 3


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_queue_answers_503_and_fails_the_sync_at_once(
    api, project, local_root, monkeypatch, settings
):
    """The sync is never run in the request instead: the storage is failed with the
    sentence, and the next sync (queue back) runs."""
    from io_storages.jobs import QUEUE_DOWN
    from labelhub import jobs as job_framework

    settings.LABELHUB_STORAGE_SYNC_WAIT_SECONDS = 0  # no worker runs here
    folder = local_root / "tasks"
    folder.mkdir()
    _files(folder, 2)
    storage = api.post(URL, {"project": project.pk, "path": str(folder)}, format="json").json()

    def down(*args, **kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(job_framework.job_task, "apply_async", down)
    response = api.post(f"{URL}/{storage['id']}/sync")
    assert response.status_code == 503 and QUEUE_DOWN in str(response.json())
    shown = api.get(f"{URL}/{storage['id']}").json()
    assert (shown["status"], shown["traceback"], shown["error"]) == (
        "failed",
        QUEUE_DOWN,
        QUEUE_DOWN,
    )
    assert "time_failure" in shown["meta"] and Task.objects.filter(project=project).count() == 0

    sent: list[tuple] = []
    monkeypatch.setattr(
        job_framework.job_task, "apply_async", lambda args, **kwargs: sent.append((args, kwargs))
    )
    assert api.post(f"{URL}/{storage['id']}/sync").status_code == 200
    ((args, kwargs),) = sent
    row = ImportStorage.objects.get(pk=storage["id"])
    # One Celery task for every job, named after the sync's Label Studio job id.
    assert args == ("import_sync", row.pk) and kwargs["task_id"] == row.last_sync_job
    job_run(kind="import_sync", job_id=row.pk)
    done = api.get(f"{URL}/{storage['id']}").json()
    assert (done["status"], done["last_sync_count"], done["traceback"]) == ("completed", 2, None)
    assert done["progress"] == 1.0 and done["attempts"] == 1 and done["finished_at"]
