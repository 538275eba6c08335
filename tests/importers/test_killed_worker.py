"""A real Celery worker on Redis and PostgreSQL, killed with SIGKILL in the middle of an
import: no task is left behind and the job ends ``failed``."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
from django.conf import settings as django_settings
from django.db import connection

from importers.models import ImportJob
from projects.models import Project
from tasks.models import Task
from tests.factories import import_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    params = connection.settings_dict
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def worker_env(pg, settings):
    assert django_settings.REDIS_URL, (
        "the killed-worker test needs REDIS_URL (the postgres pass sets it)"
    )
    queue = f"labelhub-test-{uuid.uuid4().hex[:8]}"
    settings.LABELHUB_IMPORT_QUEUE = queue
    settings.LABELHUB_ASYNC_IMPORT_TASKS = 100
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        REDIS_URL=django_settings.REDIS_URL,
        LABELHUB_DATA_DIR=str(django_settings.DATA_DIR),
        LABELHUB_IMPORT_QUEUE=queue,
        LABELHUB_IMPORT_BATCH_SIZE="100",
        LABELHUB_IMPORT_BATCH_PAUSE="0.05",
    )
    return queue, env


def _start_worker(queue: str, env: dict, log: Path) -> subprocess.Popen:
    celery = Path(sys.executable).parent / "celery"
    return subprocess.Popen(
        [
            str(celery),
            "-A",
            "labelhub",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_killing_the_worker_mid_job_leaves_no_tasks(api, project, worker_env, tmp_path):
    queue, env = worker_env
    records = [{"data": {"text": f"task {i}"}} for i in range(20_000)]
    response = api.post(
        import_url(project), data=orjson.dumps(records), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["import"]
    status = f"/api/projects/{project.pk}/imports/{job_id}/"

    worker = _start_worker(queue, env, tmp_path / "worker.log")
    try:
        # Wait until the worker has written some batches inside its transaction.
        _wait_for(lambda: api.get(status).json()["processed"] >= 1000, 60, "the job to get going")
        body = api.get(status).json()
        assert body["status"] == "in_progress" and body["processed"] < 20_000, body
        assert not Task.objects.filter(project=project).exists()  # nothing visible mid-job
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    final = _wait_for(
        lambda: (b := api.get(status).json())["status"] != "in_progress" and b, 30, "the job to end"
    )
    assert final["status"] == "failed", final
    assert "worker stopped" in final["detail"]
    assert not Task.objects.filter(project=project).exists()
    assert Project.objects.get(pk=project.pk).task_number == 0

    # A new worker does not bring it back to life, and the job stays failed.
    again = _start_worker(queue, env, tmp_path / "worker2.log")
    try:
        _wait_for(
            lambda: b"ready" in (tmp_path / "worker2.log").read_bytes(), 60, "the second worker"
        )
    finally:
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(timeout=30)
    assert ImportJob.objects.get(pk=job_id).status == "failed"
    assert not Task.objects.filter(project=project).exists()


def test_a_real_worker_completes_a_job(api, project, worker_env, tmp_path):
    queue, env = worker_env
    env["LABELHUB_IMPORT_BATCH_PAUSE"] = "0"
    records = [{"data": {"text": f"task {i}"}} for i in range(500)]
    job_id = api.post(
        import_url(project), data=orjson.dumps(records), content_type="application/json"
    ).json()["import"]
    worker = _start_worker(queue, env, tmp_path / "worker.log")
    try:
        body = _wait_for(
            lambda: (
                (b := api.get(f"/api/projects/{project.pk}/imports/{job_id}/").json())["status"]
                == "completed"
                and b
            ),
            60,
            "the job to complete",
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert body["task_count"] == 500
    assert Task.objects.filter(project=project).count() == 500
