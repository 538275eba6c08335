"""Background import jobs: create, run, watch.

A job runs under a lock that lives exactly as long as the worker process that holds it:
a PostgreSQL session advisory lock (released by the server when the worker's connection
drops), or, on SQLite (one machine by definition), an ``flock`` on a file in the data
directory (released by the kernel when the process dies). The tasks and the
``completed`` status are written in one transaction, so a worker killed at any moment
leaves no tasks behind; whoever next looks at the job (the status API, or a worker that
starts) finds it ``in_progress`` with its lock free, and marks it ``failed``. A redelivered
message for a job that is not finished runs it again from the start (safe, since nothing
of it was written); for a finished job it does nothing.
"""

import json
import logging
import os
import shutil
import socket
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from importers.models import ImportJob
from importers.services import files_import
from importers.sources import ImportFile, imports_root, work_dir
from labelhub import joblock
from labelhub.errors import MAX_ERRORS, ApiError

logger = logging.getLogger(__name__)

LOCK_CLASS = 0x4C48  # "LH": the advisory-lock namespace for import jobs
WORKER_LOST = "The worker stopped during the import; nothing was imported. Import the file again."
Status = ImportJob.Status


class JobLock(joblock.JobLock):
    """Held while a worker runs an import job; free once that worker's process is gone."""

    def __init__(self, job_id: int) -> None:
        super().__init__(LOCK_CLASS, job_id, imports_root() / f"job-{job_id}.lock")
        self.job_id = job_id


# --------------------------------------------------------------------------- progress


def _progress_path(job: ImportJob) -> Path | None:
    return Path(job.work_dir) / "progress.json" if job.work_dir else None


PROGRESS_TTL = 3600  # seconds a job's progress stays in Redis after its last write


def _progress_key(job: ImportJob) -> str:
    return f"labelhub:import-progress:{job.pk}"


def _redis():
    """A client for ``REDIS_URL``, or None (the embedded default has no Redis)."""
    if not settings.REDIS_URL:
        return None
    import redis  # the broker's client, installed with Celery's Redis transport

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)


class ProgressFile:
    """Progress goes to a small file next to the job's input, not to the database: the
    job's writes are one open transaction until the end (and SQLite has one writer).

    With ``S3_*`` the job's input is in the bucket and the worker's folder is not the
    web's, so there is no shared file: progress goes to Redis instead (``REDIS_URL``,
    which production has for the broker), or the bar sat at 0 until the end (issue #26).
    """

    INTERVAL = 0.25

    def __init__(self, job: ImportJob) -> None:
        self.path = _progress_path(job)
        self.key = _progress_key(job)
        self.redis = _redis() if self.path is None else None
        self.last = 0.0

    def __call__(self, ctx, processed: int) -> None:
        now = time.monotonic()
        if (self.path is None and self.redis is None) or now - self.last < self.INTERVAL:
            return
        self.last = now
        data = {
            "processed": processed,
            "bytes_done": ctx.bytes_done,
            "bytes_total": ctx.bytes_total,
        }
        if self.path is None:
            try:
                self.redis.set(self.key, json.dumps(data), ex=PROGRESS_TTL)
            except Exception:  # a progress bar is not worth failing an import for
                logger.warning("import progress not written to Redis", exc_info=True)
            return
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data))
        os.replace(temporary, self.path)


def progress_read(job: ImportJob) -> dict:
    path = _progress_path(job)
    if path is None:
        client = _redis()
        if client is None:
            return {}
        try:
            raw = client.get(_progress_key(job))
            return json.loads(raw) if raw else {}
        except Exception:
            logger.warning("import progress not read from Redis", exc_info=True)
            return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


# --------------------------------------------------------------------------- lifecycle


def job_create(*, project, user, files: list[ImportFile], folder: Path, options: dict) -> ImportJob:
    """Record a job and enqueue it once the surrounding transaction commits.

    With ``S3_*`` set, the files go to the bucket (``imports/<job>/...``) so that a
    worker on another machine can read them; the web's local folder is removed once the
    job is committed. Otherwise they stay in the data directory's folder."""
    job = ImportJob.objects.create(
        project=project,
        created_by=user,
        files=[item.as_dict() for item in files],
        work_dir="" if settings.S3_MEDIA else str(folder),
        options=options,
        total_bytes=sum(item.size for item in files),
    )
    if settings.S3_MEDIA:
        stored = []
        for index, item in enumerate(files):
            with open(item.path, "rb") as handle:
                key = default_storage.save(
                    f"imports/{job.pk}/{index}-{item.path.name}", File(handle)
                )
            stored.append({**item.as_dict(), "path": "", "key": key})
        ImportJob.objects.filter(pk=job.pk).update(files=stored)
        transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
    transaction.on_commit(lambda: job_enqueue(job.pk))
    return job


def import_record(*, project, user, files: list[ImportFile], result, started) -> ImportJob:
    """Record an import that ran in the request as a finished job, so that
    ``/api/projects/{id}/imports/{id}/`` answers for it as for a background one (Label
    Studio records every import). No file is kept: only the names."""
    now = timezone.now()
    return ImportJob.objects.create(
        project=project,
        created_by=user,
        status=ImportJob.Status.COMPLETED,
        files=[{"path": "", "name": item.name, "kind": item.kind} for item in files],
        total_bytes=sum(item.size for item in files),
        processed=result.task_count + result.skipped_count,
        total=result.task_count + result.skipped_count,
        task_count=result.task_count,
        annotation_count=result.annotation_count,
        prediction_count=result.prediction_count,
        skipped_count=result.skipped_count,
        task_id_ranges=result.ids.ranges,
        duration=result.duration,
        created_at=started,
        started_at=started,
        finished_at=now,
    )


QUEUE_DOWN = (
    "The job queue could not be reached, so the import was not started and nothing was "
    "imported. Try again when the queue (Redis) is back."
)


def _job_files(job: ImportJob) -> tuple[list[ImportFile], Path]:
    """The job's files on this machine: downloaded from the bucket into a fresh local
    folder when they live there, else the job's own folder."""
    if not any(item.get("key") for item in job.files):
        return [
            ImportFile(Path(item["path"]), item["name"], item.get("kind")) for item in job.files
        ], Path(job.work_dir)
    folder = work_dir()
    files = []
    for index, item in enumerate(job.files):
        target = folder / f"{index}-{Path(item['key']).name}"
        with default_storage.open(item["key"], "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        files.append(ImportFile(target, item["name"], item.get("kind")))
    return files, folder


def _drop_stored_files(job: ImportJob, folder: Path) -> None:
    keys = [item["key"] for item in job.files if item.get("key")]
    if not keys:
        return
    for key in keys:
        default_storage.delete(key)
    shutil.rmtree(folder, ignore_errors=True)


def job_enqueue(job_id: int) -> None:
    """Send the job to the workers. If the queue is unreachable the job fails at once and
    the request answers 503: it never runs inline instead (where a job runs must not
    depend on the broker being up)."""
    from importers.tasks import import_job_run

    try:
        import_job_run.apply_async(
            (job_id,), queue=settings.LABELHUB_IMPORT_QUEUE or None, retry=False
        )
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        logger.exception("import %s could not be queued", job_id)
        _finish(job_id, status=Status.FAILED, detail=QUEUE_DOWN)
        job = ImportJob.objects.filter(pk=job_id).only("work_dir").first()
        if job is not None:
            _remove_work_dir(job)
        raise ApiError(QUEUE_DOWN, status_code=503) from exc


def _finish(job_id: int, **fields) -> int:
    return ImportJob.objects.filter(pk=job_id).update(finished_at=timezone.now(), **fields)


def _remove_work_dir(job: ImportJob) -> None:
    if job.work_dir and Path(job.work_dir).resolve().is_relative_to(imports_root().resolve()):
        shutil.rmtree(job.work_dir, ignore_errors=True)


def job_run(*, job_id: int) -> None:
    """Run a job if no live worker holds it and it is not finished (idempotent)."""
    lock = JobLock(job_id)
    if not lock.acquire():
        logger.info("import %s: another worker holds it", job_id)
        return
    try:
        job = ImportJob.objects.select_related("project", "created_by").filter(pk=job_id).first()
        if job is None or job.is_finished:
            return
        ImportJob.objects.filter(pk=job_id).update(
            status=Status.IN_PROGRESS,
            attempts=F("attempts") + 1,
            started_at=timezone.now(),
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )
        started = time.monotonic()
        files, folder = _job_files(job)
        user = job.created_by or job.project.created_by
        try:
            with transaction.atomic():
                result = files_import(
                    project=job.project,
                    files=files,
                    user=user,
                    options=job.options,
                    folder=folder,
                    progress=ProgressFile(job),
                )
                _finish(
                    job_id,
                    status=Status.COMPLETED,
                    processed=result.task_count + result.skipped_count,
                    total=result.task_count + result.skipped_count,
                    task_count=result.task_count,
                    annotation_count=result.annotation_count,
                    prediction_count=result.prediction_count,
                    skipped_count=result.skipped_count,
                    task_id_ranges=result.ids.ranges,
                    duration=time.monotonic() - started,
                )
        except ApiError as exc:
            _finish(
                job_id,
                status=Status.FAILED,
                detail=str(exc.detail),
                errors=exc.errors[:MAX_ERRORS],
                duration=time.monotonic() - started,
            )
        except Exception as exc:
            logger.exception("import %s failed", job_id)
            _finish(
                job_id,
                status=Status.FAILED,
                detail=f"The import failed on the server ({type(exc).__name__}); nothing was imported.",
                duration=time.monotonic() - started,
            )
        _remove_work_dir(job)
        _drop_stored_files(job, folder)
    finally:
        lock.release()


def job_check_alive(job: ImportJob) -> ImportJob:
    """Mark an in-progress job whose worker is gone as failed; returns the fresh job."""
    if job.status != Status.IN_PROGRESS:
        return job
    lock = JobLock(job.pk)
    if not lock.acquire():
        return job  # a live worker holds it
    try:
        # The worker writes ``completed`` before it lets go of the lock, so this update
        # only matches a job that really was abandoned.
        ImportJob.objects.filter(pk=job.pk, status=Status.IN_PROGRESS).update(
            status=Status.FAILED, detail=WORKER_LOST, finished_at=timezone.now()
        )
    finally:
        lock.release()
    job.refresh_from_db()
    if job.status == Status.FAILED:
        _remove_work_dir(job)
    return job


def jobs_sweep() -> int:
    """Fail every abandoned job (run when a worker starts)."""
    count = 0
    for job in ImportJob.objects.filter(status=Status.IN_PROGRESS).only("pk", "status", "work_dir"):
        count += job_check_alive(job).status == Status.FAILED
    return count
