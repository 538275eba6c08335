"""Celery tasks: thin, idempotent wrappers over ml.training and ml.predicting."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="ml.training_job_run", acks_late=True, reject_on_worker_lost=True)
def training_job_run(job_id: int) -> None:
    from ml.training import job_run

    job_run(job_id=job_id)


@shared_task(name="ml.prediction_job_run", acks_late=True, reject_on_worker_lost=True)
def prediction_job_run(job_id: int) -> None:
    from ml.predicting import job_run

    job_run(job_id=job_id)


@shared_task(name="ml.annotation_event", acks_late=True)
def annotation_event(project_id: int, action: str, annotation_id: int, task_id: int) -> None:
    from ml.services import annotation_event_handle

    annotation_event_handle(
        project_id=project_id, action=action, annotation_id=annotation_id, task_id=task_id
    )


TASKS = {
    "training": training_job_run,
    "prediction": prediction_job_run,
}


def job_queue(model, job_id: int) -> str | None:
    """A job for a remote backend calls an outside server, possibly for its whole
    timeout: it goes to ``LABELHUB_OUTBOUND_QUEUE`` (a worker of its own), so a slow
    backend never holds the slots imports, snapshots and built-in training need. Built-in
    models run on ``LABELHUB_ML_QUEUE`` (the default queue when empty)."""
    from ml.models import MLBackend

    remote = model.objects.filter(pk=job_id, backend__kind=MLBackend.Kind.REMOTE).exists()
    if remote and settings.LABELHUB_OUTBOUND_QUEUE:
        return settings.LABELHUB_OUTBOUND_QUEUE
    return settings.LABELHUB_ML_QUEUE or None


def enqueue(kind: str, job_id: int) -> None:
    """Send a job to the workers. An unreachable queue fails the job at once; it never
    runs inline instead (where a job runs must not depend on the broker)."""
    from ml.models import PredictionJob, TrainingJob

    model = TrainingJob if kind == "training" else PredictionJob
    try:
        TASKS[kind].apply_async((job_id,), queue=job_queue(model, job_id))
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        logger.exception("ml %s job %s could not be queued", kind, job_id)
        model.objects.filter(pk=job_id).update(
            status="failed",
            error=f"The job queue could not be reached ({type(exc).__name__})",
            finished_at=timezone.now(),
        )


@worker_ready.connect
def _sweep_abandoned_jobs(**kwargs) -> None:
    """A starting worker fails the ML jobs whose worker died (their locks are free)."""
    from django.db import close_old_connections

    from ml import predicting, training
    from ml.models import PredictionJob, TrainingJob

    try:
        for job in TrainingJob.objects.filter(status="running"):
            training.job_check_alive(job)
        for job in PredictionJob.objects.filter(status="running"):
            predicting.job_check_alive(job)
    finally:
        close_old_connections()
