"""The one job framework (labelhub/jobs.py): every job kind has the shared shape and
answers the shared fields, and the runner's lifecycle (run once, failure with the
records at fault, a crash, an unreachable queue) is the same for every kind."""

import contextlib
import dataclasses

import pytest
from django.db import connection

from exporters.api import converted_dict, snapshot_dict
from exporters.models import ConvertedFormat, ExportSnapshot
from importers.lsmigrate.service import job_state
from importers.models import ImportJob, MigrationJob
from importers.selectors import import_job_dict
from io_storages.api import storage_as_dict
from io_storages.models import ExportStorage, ImportStorage
from labelhub import jobs
from ml.api import job_dict, prediction_job_dict
from ml.models import MLBackend, PredictionJob, TrainingJob

pytestmark = pytest.mark.django_db

SHARED = set(jobs.job_fields(PredictionJob()))


@contextlib.contextmanager
def _held_elsewhere(kind: str, job_id: int):
    """Hold a job's lock as another worker process would (another session on
    PostgreSQL, another open file on SQLite)."""
    if connection.vendor == "postgresql":
        other = connection.get_new_connection(connection.get_connection_params())
        other.autocommit = True
        namespace = jobs.KINDS[kind].lock_namespace
        other.cursor().execute("SELECT pg_advisory_lock(%s, %s)", [namespace, job_id])
        try:
            yield
        finally:
            other.close()
    else:
        lock = jobs.JobLock(kind, job_id)
        assert lock.acquire()
        try:
            yield
        finally:
            lock.release()


def test_every_kind_has_the_shared_shape():
    assert set(jobs.KINDS) == {
        "import",
        "lsmigrate",
        "training",
        "prediction",
        "export",
        "export_convert",
        "import_sync",
        "export_sync",
    }
    for name, kind in jobs.KINDS.items():
        assert issubclass(kind.model, jobs.Job) and kind.model.job_kind == name
        for role in ("QUEUED", "RUNNING", "COMPLETED", "FAILED"):
            assert hasattr(kind.model.Status, role), (name, role)
    namespaces = [kind.lock_namespace for kind in jobs.KINDS.values()]
    assert len(set(namespaces)) == len(namespaces)


def test_every_job_answers_the_shared_fields(project, owner):
    backend = MLBackend.objects.create(project=project, url="http://ml.example")
    snapshot = ExportSnapshot.objects.create(project=project)
    answers = {
        "import": import_job_dict(
            ImportJob.objects.create(project=project, created_by=owner), with_task_ids=False
        ),
        "training": job_dict(TrainingJob.objects.create(backend=backend, project=project)),
        "prediction": prediction_job_dict(
            PredictionJob.objects.create(backend=backend, project=project)
        ),
        "export": snapshot_dict(snapshot),
        "export_convert": converted_dict(
            ConvertedFormat.objects.create(snapshot=snapshot, export_type="CSV")
        ),
        "lsmigrate": job_state(MigrationJob.objects.create(url="http://ls.example")),
        "import_sync": storage_as_dict(ImportStorage.objects.create(project=project, kind="s3")),
        "export_sync": storage_as_dict(ExportStorage.objects.create(project=project, kind="s3")),
    }
    for name, answer in answers.items():
        assert SHARED <= set(answer), (name, SHARED - set(answer))
        # A new job is queued; a new storage has not been synced yet (Label Studio's value).
        new = "initialized" if name.endswith("_sync") else jobs.KINDS[name].model.Status.QUEUED
        assert answer["status"] == new, name
    # What the endpoints documented before the shared fields stays.
    assert {"detail", "error", "errors", "task_count", "found_formats"} <= set(answers["import"])
    assert answers["export"]["progress"] == {"processed": 0, "total": 0}
    assert {"detail", "report", "invites"} <= set(answers["lsmigrate"])
    # Label Studio's shapes come first, as it answers them; the shared fields follow.
    assert list(answers["export_convert"])[:4] == ["id", "export_type", "status", "traceback"]
    for name in ("import_sync", "export_sync"):
        storage = list(answers[name])
        assert storage[:4] == ["id", "type", "synchronizable", "title"]
        assert storage.index("meta") < storage.index("progress")
        ls_state = {"last_sync", "last_sync_count", "last_sync_job", "traceback", "meta"}
        assert ls_state <= set(storage)


@pytest.fixture
def prediction(project, monkeypatch):
    """A prediction job whose body the test sets with ``run(body)``."""
    backend = MLBackend.objects.create(project=project, url="http://ml.example")
    job = PredictionJob.objects.create(backend=backend, project=project)
    kind = jobs.KINDS["prediction"]

    def run(body, **hooks):
        changed = dataclasses.replace(kind, body=body, **hooks)
        monkeypatch.setitem(jobs.KINDS, "prediction", changed)
        jobs.job_run(kind="prediction", job_id=job.pk)
        job.refresh_from_db()
        return job

    return run


def test_a_job_runs_once_and_completes(prediction):
    calls = []
    job = prediction(lambda job: calls.append(job.status))
    assert calls == ["running"]
    assert job.status == "completed" and job.progress == 1.0 and job.attempts == 1
    assert job.started_at and job.finished_at and job.worker
    prediction(lambda job: calls.append("again"))  # a redelivered message
    assert calls == ["running"]


def test_a_failed_job_keeps_its_message_and_the_records_at_fault(prediction):
    ended = []

    def body(job):
        jobs.job_progress(job, 0.5, processed=3)
        raise jobs.JobFailed("record 2: bad", [{"record": 2, "field": "data"}], dropped=1)

    job = prediction(body, ended=ended.append)
    assert job.status == "failed" and job.error == "record 2: bad"
    assert job.errors == [{"record": 2, "field": "data"}]
    assert job.processed == 3 and job.dropped == 1 and job.progress == 0.5
    assert len(ended) == 1


def test_a_crash_fails_the_job_with_the_kinds_sentence(prediction):
    failed = []

    def body(job):
        raise KeyError("secret detail")

    job = prediction(body, failed=failed.append)
    assert job.status == "failed"
    assert job.error.startswith("Predicting failed on the worker (KeyError")
    assert failed == [job]


def test_an_unreachable_queue_fails_the_job_at_once(project, monkeypatch):
    backend = MLBackend.objects.create(project=project, url="http://ml.example")
    job = PredictionJob.objects.create(backend=backend, project=project)

    def down(*args, **kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(jobs.job_task, "apply_async", down)
    assert jobs.job_enqueue(job) is False
    job.refresh_from_db()
    assert job.status == "failed" and "could not be reached (ConnectionError)" in job.error


RUNNING_ROWS = {
    "prediction": lambda project: PredictionJob.objects.create(
        backend=MLBackend.objects.create(project=project, url="http://ml.example"),
        project=project,
        status=PredictionJob.Status.RUNNING,
    ),
    "export_convert": lambda project: ConvertedFormat.objects.create(
        snapshot=ExportSnapshot.objects.create(project=project, status="completed"),
        export_type="CSV",
        status=ConvertedFormat.Status.RUNNING,
    ),
    "import_sync": lambda project: ImportStorage.objects.create(
        project=project, kind="s3", status=ImportStorage.Status.RUNNING
    ),
    "export_sync": lambda project: ExportStorage.objects.create(
        project=project, kind="s3", status=ExportStorage.Status.RUNNING
    ),
}


@pytest.mark.parametrize("kind", sorted(RUNNING_ROWS))
def test_a_dead_workers_job_is_failed_by_the_next_look(project, kind):
    job = RUNNING_ROWS[kind](project)
    with _held_elsewhere(kind, job.pk):  # a live worker holds it
        assert jobs.job_check_alive(job).status == job.Status.RUNNING
        assert jobs.jobs_sweep() == 0
    assert jobs.jobs_sweep() == 1  # its worker is gone
    job.refresh_from_db()
    assert job.status == "failed" and job.error == jobs.KINDS[kind].worker_lost
