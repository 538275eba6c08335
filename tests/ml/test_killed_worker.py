"""A real Celery worker on Redis and PostgreSQL, killed with SIGKILL in the middle of a
training run: the job ends ``failed`` and the previous model stays in use."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from labelhub import jobs
from ml.modelfiles import model_load
from ml.models import MLBackend, TrainingJob
from ml.services import backend_create, training_job_create

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


def test_killing_the_worker_mid_training_keeps_the_previous_model(
    pg, api, project, text_tasks, settings, tmp_path
):
    assert django_settings.REDIS_URL, "needs REDIS_URL (the postgres pass sets it)"
    queue = f"labelhub-ml-test-{uuid.uuid4().hex[:8]}"
    settings.LABELHUB_ML_QUEUE = queue
    backend = backend_create(project=project, kind="builtin", model="text-classifier")
    first = training_job_create(backend=backend, queue=False)
    jobs.job_run(kind="training", job_id=first.pk)  # version 1, trained here
    backend.refresh_from_db()
    assert backend.current_job_id == first.pk and backend.model_version == "text-classifier-v1"

    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        REDIS_URL=django_settings.REDIS_URL,
        LABELHUB_DATA_DIR=str(django_settings.DATA_DIR),
        LABELHUB_ML_QUEUE=queue,
        LABELHUB_ML_PROGRESS_PAUSE="3",
    )
    response = api.post(f"/api/ml/{backend.pk}/train")
    assert response.status_code == 201
    job_url = f"/api/ml/{backend.pk}/jobs/{response.json()['job']}/"
    worker = _start_worker(queue, env, tmp_path / "worker.log")
    try:
        _wait_for(
            lambda: (b := api.get(job_url).json())["status"] == "running" and b["progress"] > 0,
            60,
            "training to get going",
        )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    body = api.get(job_url).json()
    assert body["status"] == "failed", body
    assert "worker stopped" in body["error"]
    backend.refresh_from_db()
    assert backend.current_job_id == first.pk and backend.model_version == "text-classifier-v1"
    first.refresh_from_db()
    assert model_load(first).predict(["a lovely day"])[0]  # the old model still loads
    assert TrainingJob.objects.get(pk=response.json()["job"]).model_file == ""

    # A new worker does not bring it back, and the job stays failed.
    again = _start_worker(queue, env, tmp_path / "worker2.log")
    try:
        _wait_for(
            lambda: b"ready" in (tmp_path / "worker2.log").read_bytes(), 60, "the second worker"
        )
        time.sleep(1)
    finally:
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(timeout=30)
    assert TrainingJob.objects.get(pk=response.json()["job"]).status == "failed"
    assert MLBackend.objects.get(pk=backend.pk).current_job_id == first.pk
