"""Background imports: the threshold, the job status API, failures, abandoned jobs."""

import json
from pathlib import Path

import orjson
import pytest
from django.db import connection

from importers.jobs import KIND, WORKER_LOST
from importers.models import ImportJob
from labelhub.jobs import JobLock
from labelhub.jobs import job_run as run
from tasks.models import Task
from tests.factories import assert_nothing_written, choice, import_url, upload

pytestmark = pytest.mark.django_db


def status_url(project, job_id) -> str:
    return f"/api/projects/{project.pk}/imports/{job_id}/"


def tasks_json(n: int, *, bad_at: int | None = None) -> bytes:
    records = [
        {
            "data": {"text": f"t{i}"},
            "predictions": [{"model_version": "m", "score": i / n, "result": choice("Positive")}],
        }
        for i in range(n)
    ]
    if bad_at is not None:
        records[bad_at] = {"data": {"txt": "no text key"}}
    return orjson.dumps(records)


@pytest.fixture
def small_threshold(settings):
    settings.LABELHUB_ASYNC_IMPORT_TASKS = 3


def test_over_the_task_threshold_answers_an_import_id(
    api, project, small_threshold, jobs_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            import_url(project), data=tasks_json(5), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    job_id = response.json()["import"]
    body = api.get(status_url(project, job_id) + "?return_task_ids=true").json()
    assert body["status"] == "completed", body
    assert (body["task_count"], body["prediction_count"], body["processed"], body["total"]) == (
        5,
        5,
        5,
        5,
    )
    assert body["task_ids"] == list(
        Task.objects.filter(project=project).order_by("id").values_list("id", flat=True)
    )
    assert "task_ids" not in api.get(status_url(project, job_id)).json()
    project.refresh_from_db()
    assert project.task_number == 5 and project.total_predictions_number == 5
    assert not Path(ImportJob.objects.get(pk=job_id).work_dir).exists()


def test_over_the_byte_threshold(
    api, project, settings, jobs_inline, django_capture_on_commit_callbacks
):
    settings.LABELHUB_ASYNC_IMPORT_BYTES = 100
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api, project, "t.txt", b"a line of text\n" * 20)
    job_id = response.json()["import"]
    assert api.get(status_url(project, job_id)).json()["task_count"] == 20


def test_under_the_thresholds_runs_in_the_request(api, project):
    response = api.post(import_url(project), data=tasks_json(3), content_type="application/json")
    assert response.json()["task_count"] == 3
    # Recorded as a finished job (Label Studio records every import), never queued.
    job = ImportJob.objects.get()
    assert response.json()["import"] == job.pk and job.status == "completed"


def test_a_failed_job_reports_located_errors_and_writes_nothing(
    api, project, small_threshold, jobs_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.post(
            import_url(project), data=tasks_json(10, bad_at=7), content_type="application/json"
        ).json()["import"]
    body = api.get(status_url(project, job_id)).json()
    assert body["status"] == "failed"
    assert body["errors"][0] == {
        "record": 7,
        "field": "data.text",
        "message": 'the labeling config needs data key "text"',
        "file": "request body",
    }
    assert "nothing was imported" in body["detail"]
    assert_nothing_written(project)


def test_a_job_runs_once(
    api, project, small_threshold, jobs_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.post(
            import_url(project), data=tasks_json(4), content_type="application/json"
        ).json()["import"]
    job_run(job_id=job_id)  # a redelivered message
    assert Task.objects.filter(project=project).count() == 4
    assert ImportJob.objects.get(pk=job_id).attempts == 1


def test_job_list_and_permissions(
    api,
    client_for,
    outsider,
    annotator,
    project,
    small_threshold,
    jobs_inline,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.post(
            import_url(project), data=tasks_json(4), content_type="application/json"
        ).json()["import"]
    assert [j["id"] for j in api.get(f"/api/projects/{project.pk}/imports/").json()] == [job_id]
    assert client_for(outsider).get(status_url(project, job_id)).status_code == 404
    assert client_for(annotator).get(status_url(project, job_id)).status_code == 403
    assert api.get(status_url(project, job_id + 1)).status_code == 404


def _in_progress_job(project, owner, tmp_path) -> ImportJob:
    return ImportJob.objects.create(
        project=project, created_by=owner, status="in_progress", work_dir=str(tmp_path)
    )


def test_an_abandoned_job_ends_failed(api, project, owner, tmp_path):
    job = _in_progress_job(project, owner, tmp_path)
    body = api.get(status_url(project, job.pk)).json()
    assert body["status"] == "failed" and body["detail"] == WORKER_LOST


class _HeldElsewhere:
    """Hold a job's lock as another worker process would (another session on PostgreSQL,
    another open file on SQLite)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def __enter__(self):
        if connection.vendor == "postgresql":
            self.conn = connection.get_new_connection(connection.get_connection_params())
            self.conn.autocommit = True
            self.conn.cursor().execute(
                "SELECT pg_advisory_lock(%s, %s)", [KIND.lock_namespace, self.job_id]
            )
        else:
            self.lock = JobLock("import", self.job_id)
            assert self.lock.acquire()
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            self.conn.close()
        else:
            self.lock.release()


def test_a_running_job_reports_progress(api, project, owner, tmp_path):
    job = _in_progress_job(project, owner, tmp_path)
    (tmp_path / "progress.json").write_text(
        json.dumps({"processed": 250, "bytes_done": 500, "bytes_total": 2000})
    )
    with _HeldElsewhere(job.pk):
        body = api.get(status_url(project, job.pk)).json()
        assert body["status"] == "in_progress"
        assert (body["processed"], body["total"], body["progress"]) == (250, 1000, 0.25)
        # a second worker would not start it while the first holds it
        job_run(job_id=job.pk)
        assert ImportJob.objects.get(pk=job.pk).attempts == 0


def test_a_worker_starting_fails_abandoned_jobs(project, owner, tmp_path):
    from labelhub.jobs import jobs_sweep

    abandoned = _in_progress_job(project, owner, tmp_path)
    running = _in_progress_job(project, owner, tmp_path / "other")
    with _HeldElsewhere(running.pk):
        assert jobs_sweep() == 1
    assert ImportJob.objects.get(pk=abandoned.pk).status == "failed"
    assert ImportJob.objects.get(pk=running.pk).status == "in_progress"


def test_a_job_records_progress_as_it_goes(
    api, project, settings, monkeypatch, jobs_inline, django_capture_on_commit_callbacks
):
    """The worker's progress file moves with the bytes parsed and the tasks written, batch
    by batch, so the page's bar does not jump from 0 to 100."""
    import importers.progress as jobs

    settings.LABELHUB_ASYNC_IMPORT_TASKS = 3
    settings.LABELHUB_IMPORT_BATCH_SIZE = 200
    monkeypatch.setattr(jobs.ProgressFile, "INTERVAL", 0)
    monkeypatch.setattr("importers.sources.CHUNK", 4096)  # a small file, read in steps
    snapshots: list[dict] = []
    replace = jobs.os.replace

    def record(source, target):
        snapshots.append(json.loads(Path(source).read_text()))
        replace(source, target)

    monkeypatch.setattr(jobs.os, "replace", record)
    body = tasks_json(2000)  # about 380 kB
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api, project, "big.json", body)
    assert api.get(status_url(project, response.json()["import"])).json()["task_count"] == 2000
    processed = [s["processed"] for s in snapshots]
    done = [s["bytes_done"] for s in snapshots]
    assert processed == sorted(processed) and processed[0] == 200 and processed[-1] == 2000
    assert done == sorted(done) and 0 < done[0] < len(body) // 2 and done[-1] == len(body)
    assert {s["bytes_total"] for s in snapshots} == {len(body)}


def test_the_status_carries_the_bytes(api, project, owner, tmp_path):
    job = _in_progress_job(project, owner, tmp_path)
    (tmp_path / "progress.json").write_text(
        json.dumps({"processed": 250, "bytes_done": 500, "bytes_total": 2000})
    )
    with _HeldElsewhere(job.pk):
        body = api.get(status_url(project, job.pk)).json()
    assert (body["bytes_done"], body["bytes_total"]) == (500, 2000)


@pytest.mark.django_db(transaction=True)
def test_return_task_ids_waits_for_a_background_import(api, project, small_threshold, jobs_inline):
    """A Label Studio script reads ``task_ids`` from the import's answer, whatever its
    size: the request waits (bounded) for the job when the ids are asked for."""
    response = api.post(
        import_url(project) + "?return_task_ids=true",
        data=tasks_json(5),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["import"] == ImportJob.objects.get(project=project).pk
    assert body["task_ids"] == list(
        Task.objects.filter(project=project).order_by("id").values_list("id", flat=True)
    )
    assert (body["task_count"], body["prediction_count"]) == (5, 5)


def test_return_task_ids_past_the_wait_answers_where_to_poll(
    api, project, small_threshold, settings
):
    settings.LABELHUB_IMPORT_WAIT_SECONDS = 0
    response = api.post(
        import_url(project) + "?return_task_ids=true",
        data=tasks_json(5),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "created" and "task_ids" not in body
    job_run(job_id=body["import"])  # the worker, later
    polled = api.get(body["poll"]).json()
    assert polled["status"] == "completed" and len(polled["task_ids"]) == 5


@pytest.mark.django_db(transaction=True)
def test_return_task_ids_on_a_failed_background_import_is_a_400(
    api, project, small_threshold, jobs_inline
):
    response = api.post(
        import_url(project) + "?return_task_ids=true",
        data=tasks_json(5, bad_at=2),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "record" in response.json()["detail"]
    assert not Task.objects.filter(project=project).exists()


def job_run(*, job_id: int) -> None:
    run(kind="import", job_id=job_id)
