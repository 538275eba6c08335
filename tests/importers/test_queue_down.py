"""Issue #12, faults: Redis (the job queue) down. A background import answers a clear
503 and nothing runs inline; exports, which stream in the request, go on working.

Redis is "down" by pointing the broker at a closed port on loopback (the shared Redis
server is not stopped)."""

import socket

import pytest

from importers.models import ImportJob
from importers.sources import imports_root
from tasks.models import Task


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


@pytest.fixture
def queue_down(monkeypatch):
    from labelhub.celery import app

    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{_closed_port()}/0")
    monkeypatch.setitem(app.conf, "broker_transport", None)  # the embedded default names one
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield
    app._pool = None


@pytest.mark.django_db(transaction=True)
def test_background_import_with_the_queue_down_is_a_503_and_runs_nothing(
    api, project, settings, queue_down
):
    settings.LABELHUB_ASYNC_IMPORT_TASKS = 10
    records = [{"text": f"t{i}"} for i in range(50)]
    response = api.post(f"/api/projects/{project.pk}/import", records, format="json")
    assert response.status_code == 503, response.content
    assert "job queue could not be reached" in response.json()["detail"]
    assert Task.objects.filter(project=project).count() == 0  # nothing ran inline
    job = ImportJob.objects.get(project=project)
    assert job.status == ImportJob.Status.FAILED
    assert list(imports_root().glob("import-*")) == []  # job-N.lock: SQLite job locks


@pytest.mark.django_db(transaction=True)
def test_small_imports_and_exports_do_not_need_the_queue(api, project, queue_down):
    response = api.post(f"/api/projects/{project.pk}/import", [{"text": "a"}], format="json")
    assert response.status_code == 201
    export = api.get(f"/api/projects/{project.pk}/export?exportType=JSON&download_all_tasks=true")
    assert export.status_code == 200
    assert b'"a"' in b"".join(export.streaming_content)
