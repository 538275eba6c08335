"""Celery tasks: thin, idempotent wrappers over importers.jobs."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="importers.import_job_run", acks_late=True, reject_on_worker_lost=True)
def import_job_run(job_id: int) -> None:
    from importers.jobs import job_run

    job_run(job_id=job_id)


@worker_ready.connect
def _sweep_abandoned_jobs(**kwargs) -> None:
    """A starting worker fails the jobs whose worker died (their locks are free)."""
    from django.db import close_old_connections

    from importers.jobs import jobs_sweep

    try:
        jobs_sweep()
    finally:
        close_old_connections()


@shared_task(name="importers.migration_job_run", acks_late=True, reject_on_worker_lost=True)
def migration_job_run(job_id: int) -> None:
    from importers.lsmigrate.jobs import job_run

    job_run(job_id=job_id)
