"""The one job framework: imports, Label Studio migrations, training, prediction, export
snapshots and their conversions, and storage syncs are each a row of a ``Job`` model run
by ``job_run``.

The shape (``Job``): ``status`` moves ``QUEUED`` -> ``RUNNING`` -> ``COMPLETED`` or
``FAILED`` (each kind keeps the values its API has always answered: an import says
``created``/``in_progress`` as Label Studio does, a training job ``queued``/``running``;
a storage, which is the row of its own syncs, adds Label Studio's ``initialized``),
``progress`` (0..1), ``error`` (one sentence for a person) and ``errors`` (the records
and fields at fault), ``attempts``, ``worker`` (host:pid of the last run), and the
``created_at``/``started_at``/``finished_at`` times.

The lifecycle, written once here:

- **enqueue** (``job_enqueue``, called by each app's service once the row is committed):
  one Celery task, ``labelhub.job_run(kind, id)``, on the kind's queue. An unreachable
  broker fails the job at once with the kind's ``queue_down`` sentence; a job never runs
  inline instead, so where it runs does not depend on the broker being up.
- **run once** (``job_run``): under a ``labelhub.joblock`` lock that lives exactly as long
  as the worker process (a PostgreSQL session advisory lock, or an ``flock`` on SQLite).
  A redelivered message for a finished job, or one a live worker holds, does nothing.
- **progress and failure**: the body reports with ``job_progress`` and fails with
  ``JobFailed(message, errors)``; any other exception fails the job with the kind's
  ``crashed`` sentence (the traceback goes to the log, not to the user).
- **a dead worker**: whoever looks at a ``RUNNING`` job whose lock is free (the status
  API through ``job_check_alive``, or a worker starting: ``jobs_sweep``) marks it
  ``FAILED`` with the kind's ``worker_lost`` sentence. Bodies write their results and
  ``COMPLETED`` in one transaction (or clean up what they wrote), so a job killed at any
  moment is safe to fail.

The model shape lives in ``labelhub.jobmodel``, which the apps' models import at
``django.setup()``; this module (Celery with it) loads with the first job. Each app
registers its kinds (``register``) from its ``AppConfig.ready``: the core never
imports an app, and an app's services enqueue through the core without importing the
module that holds the body, so bodies import only downward.
"""

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F
from django.utils import timezone

from labelhub import joblock, registrations
from labelhub.exceptions import MAX_ERRORS
from labelhub.jobmodel import Job

logger = logging.getLogger(__name__)

ERROR_LENGTH = 2000  # characters of ``error`` kept


class JobFailed(Exception):
    """Raised by a job body: the job fails with ``message`` (shown as it is),
    ``errors`` (the records and fields at fault, at most ``MAX_ERRORS`` kept) and any
    other ``fields`` of its row."""

    def __init__(self, message: str, errors: list | None = None, **fields) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.fields = fields


def _nothing(job: Any) -> None:
    return None


def _default_queue(job_id: int) -> str | None:
    return None


@dataclass(frozen=True)
class Kind:
    """One kind of job. ``body(job)`` does the work; it may call ``job_complete`` itself
    (inside the transaction that writes its results), else the runner completes the job
    when it returns. The hooks run after the row is written: ``failed(job)`` when the run
    failed (the body's ``JobFailed``, a crash), ``lost(job)`` when a dead worker's job
    was failed, ``ended(job)`` after every run that got to the body, whatever the end."""

    name: str
    model: type[Job]
    lock_namespace: int  # the PostgreSQL advisory-lock namespace of this kind
    body: Callable[[Any], None]
    worker_lost: str
    queue_down: str  # may name the broker's error as {error}
    crashed: str  # may name the exception as {error} and {message}
    queue: Callable[[int], str | None] = _default_queue
    select_related: tuple[str, ...] = ()
    failed: Callable[[Any], None] = _nothing
    lost: Callable[[Any], None] = _nothing
    ended: Callable[[Any], None] = _nothing
    # Fields written with every end (FAILED or COMPLETED), e.g. a secret blanked.
    end_fields: tuple[tuple[str, Any], ...] = ()


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Add a kind (from its app's ``AppConfig.ready``); registering again replaces it."""
    KINDS[kind.name] = kind


def kind_of(job: Job) -> Kind:
    registrations.load()
    return KINDS[type(job).job_kind]


class JobLock(joblock.JobLock):
    """Held while a worker runs the job; free once that worker's process is gone. On
    SQLite the lock files live in ``<data dir>/job-locks``."""

    def __init__(self, kind: str, job_id: int) -> None:
        registrations.load()
        path = Path(settings.DATA_DIR) / "job-locks" / f"{kind}-{job_id}.lock"
        super().__init__(KINDS[kind].lock_namespace, job_id, path)


# --------------------------------------------------------------------------- writes


def _update(job: Job, **fields) -> int:
    """Write ``fields`` to the row and to ``job``; the rows changed."""
    changed = type(job)._default_manager.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        if not isinstance(value, F):
            setattr(job, name, value)
    return changed


def job_progress(job: Job, progress: float, **fields) -> None:
    """Record how far a job is (0..1, kept below 1 until it completes) and any of its
    own counters (``processed``, ``total``...) on the row."""
    _update(job, progress=round(min(max(progress, 0.0), 1.0), 4), **fields)


def job_complete(job: Job, **fields) -> None:
    """Mark the job ``COMPLETED`` with its results; call it inside the transaction that
    writes them, so ``completed`` never shows for a partial result."""
    values = {
        "status": job.Status.COMPLETED,
        "progress": 1.0,
        "finished_at": timezone.now(),
        **dict(kind_of(job).end_fields),
        **fields,
    }
    _update(job, **values)


def job_queue_again(job: Job, **fields) -> None:
    """Mark a finished job ``QUEUED`` for another run of the same row (a storage's next
    sync, a failed conversion asked for again): what the last run wrote of the shared
    fields is cleared, ``fields`` are written with it. The caller holds the row (or
    knows no worker does) and enqueues it once this commits."""
    _update(
        job,
        status=job.Status.QUEUED,
        progress=0.0,
        error="",
        errors=[],
        worker="",
        started_at=None,
        finished_at=None,
        **fields,
    )


def job_fail(job: Job, message: str, errors: list | None = None, **fields) -> None:
    """Mark the job ``FAILED`` with a sentence for a person and the records at fault."""
    values = {
        "status": job.Status.FAILED,
        "error": message[:ERROR_LENGTH],
        "errors": (errors or [])[:MAX_ERRORS],
        "finished_at": timezone.now(),
        **dict(kind_of(job).end_fields),
        **fields,
    }
    _update(job, **values)


# ---------------------------------------------------------------------------- queue


@shared_task(name="labelhub.job_run", acks_late=True, reject_on_worker_lost=True)
def job_task(kind: str, job_id: int) -> None:
    job_run(kind=kind, job_id=job_id)


def job_enqueue(job: Job, *, task_id: str | None = None) -> bool:
    """Send the job to the workers (call it once the row is committed: ``on_commit``),
    as the Celery task ``task_id`` if given. If the queue is unreachable the job fails at
    once with its ``queue_down`` sentence; False then. It never runs inline instead."""
    kind = kind_of(job)
    try:
        job_task.apply_async(
            (kind.name, job.pk), queue=kind.queue(job.pk), task_id=task_id, retry=False
        )
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        logger.exception("%s job %s could not be queued", kind.name, job.pk)
        job_fail(job, kind.queue_down.format(error=type(exc).__name__))
        kind.lost(job)
        return False
    return True


def job_enqueue_on_commit(job: Job) -> None:
    transaction.on_commit(lambda: job_enqueue(job))


# ------------------------------------------------------------------------------ run


def job_run(*, kind: str, job_id: int) -> None:
    """Run a job if it is not finished and no live worker holds it (idempotent)."""
    registrations.load()
    spec = KINDS[kind]
    lock = JobLock(kind, job_id)
    if not lock.acquire():
        logger.info("%s job %s: another worker holds it", kind, job_id)
        return
    try:
        query = spec.model._default_manager.filter(pk=job_id)
        if spec.select_related:
            query = query.select_related(*spec.select_related)
        job = query.first()
        if job is None or job.is_finished:
            return
        _update(
            job,
            status=job.Status.RUNNING,
            progress=0.0,
            error="",
            errors=[],
            attempts=F("attempts") + 1,
            started_at=timezone.now(),
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )
        job.attempts += 1
        try:
            try:
                spec.body(job)
            except JobFailed as exc:
                job_fail(job, exc.message, exc.errors, **exc.fields)
                spec.failed(job)
                return
            except Exception as exc:
                logger.exception("%s job %s failed", kind, job_id)
                job_fail(job, spec.crashed.format(error=type(exc).__name__, message=exc))
                spec.failed(job)
                return
            if not job.is_finished:
                job_complete(job)
        finally:
            spec.ended(job)
    finally:
        lock.release()


def job_check_alive(job: Job) -> Job:
    """Mark a ``RUNNING`` job whose worker is gone as failed; returns the fresh job."""
    if job.status != job.Status.RUNNING:
        return job
    kind = kind_of(job)
    lock = JobLock(kind.name, job.pk)
    if not lock.acquire():
        return job  # a live worker holds it
    try:
        # A worker writes its end before it lets go of the lock, so this update only
        # matches a job that really was abandoned.
        abandoned = type(job)._default_manager.filter(pk=job.pk, status=job.Status.RUNNING)
        changed = abandoned.update(
            status=job.Status.FAILED,
            error=kind.worker_lost,
            finished_at=timezone.now(),
            **dict(kind.end_fields),
        )
    finally:
        lock.release()
    job.refresh_from_db()
    if changed:
        kind.lost(job)
    return job


def jobs_sweep() -> int:
    """Fail every abandoned job of every kind (run when a worker starts); how many."""
    registrations.load()
    count = 0
    for kind in KINDS.values():
        for job in kind.model._default_manager.filter(status=kind.model.Status.RUNNING):
            count += job_check_alive(job).status == job.Status.FAILED
    return count


@worker_ready.connect
def _sweep_abandoned_jobs(**kwargs) -> None:
    """A starting worker fails the jobs whose worker died (their locks are free)."""
    try:
        jobs_sweep()
    finally:
        close_old_connections()


# ------------------------------------------------------------------------------ API


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def job_fields(job: Job) -> dict:
    """The fields every job's API answer carries (a kind adds its own, and keeps any
    name its API documented with another meaning)."""
    return {
        "id": job.pk,
        "status": job.status,
        "progress": job.progress,
        "error": job.error,
        "errors": job.errors,
        "attempts": job.attempts,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def with_job_fields(body: dict, job: Job) -> dict:
    """``body`` (an answer in Label Studio's shape, whose fields and order stay) with the
    fields every job answers that it lacks, after its own."""
    for name, value in job_fields(job).items():
        body.setdefault(name, value)
    return body
