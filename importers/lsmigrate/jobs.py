"""The migration as a background job (the staff page): create, run, watch.

Same lifecycle as the import jobs (``importers.jobs``): a ``labelhub.joblock`` lock that
lives as long as the worker process, ``in_progress`` while it runs, a job whose lock is
free while it says ``in_progress`` is marked failed by whoever looks next. Progress goes
to a small JSON file in the data directory: the worker's writes are one open
transaction per project (and SQLite has one writer), so the row is updated only
between projects and at the end. The token is blanked when the job ends.
"""

import json
import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from importers.lsmigrate.client import MigrationError, normalize_url
from importers.lsmigrate.service import migrate, pending_invites
from importers.models import MigrationJob
from labelhub import joblock
from labelhub.errors import ApiError

logger = logging.getLogger(__name__)

LOCK_CLASS = 0x4C4D  # "LM": the advisory-lock namespace for migration jobs
WORKER_LOST = (
    "The worker stopped during the migration. Start it again: it continues where it stopped."
)
QUEUE_DOWN = "The job queue could not be reached, so the migration was not started."
Status = MigrationJob.Status


def _root() -> Path:
    root = Path(settings.DATA_DIR) / "migrations"
    root.mkdir(parents=True, exist_ok=True)
    return root


class JobLock(joblock.JobLock):
    def __init__(self, job_id: int) -> None:
        super().__init__(LOCK_CLASS, job_id, _root() / f"job-{job_id}.lock")


def progress_path(job_id: int) -> Path:
    return _root() / f"job-{job_id}.json"


def progress_read(job: MigrationJob) -> dict:
    try:
        return json.loads(progress_path(job.pk).read_text())
    except (OSError, ValueError):
        return dict(job.progress or {})


class _ProgressFile:
    INTERVAL = 0.25

    def __init__(self, job_id: int) -> None:
        self.path = progress_path(job_id)
        self.last = 0.0
        self.state: dict = {}

    def __call__(self, state: dict) -> None:
        self.state = dict(state)  # the last one is kept on the row at the end
        now = time.monotonic()
        if now - self.last < self.INTERVAL:
            return
        self.last = now
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.path)


def job_create(
    *, user, url: str, token: str, project_ids: list[int], dry_run: bool
) -> MigrationJob:
    """Record a migration and enqueue it once the surrounding transaction commits."""
    try:
        url = normalize_url(url)
    except MigrationError as exc:
        raise ApiError(str(exc), [{"field": "url", "message": str(exc)}]) from None
    if not token.strip():
        raise ApiError(
            "A Label Studio token is needed.", [{"field": "token", "message": "required"}]
        )
    job = MigrationJob.objects.create(
        created_by=user, url=url, token=token.strip(), project_ids=project_ids, dry_run=dry_run
    )
    transaction.on_commit(lambda: job_enqueue(job.pk))
    return job


def job_enqueue(job_id: int) -> None:
    from importers.tasks import migration_job_run

    try:
        migration_job_run.apply_async(
            (job_id,), queue=settings.LABELHUB_IMPORT_QUEUE or None, retry=False
        )
    except Exception:  # kombu raises several kinds for an unreachable broker
        logger.exception("migration %s could not be queued", job_id)
        MigrationJob.objects.filter(pk=job_id).update(
            status=Status.FAILED, detail=QUEUE_DOWN, token="", finished_at=timezone.now()
        )


def job_run(*, job_id: int) -> None:
    """Run a migration job unless a live worker holds it or it is finished."""
    lock = JobLock(job_id)
    if not lock.acquire():
        return
    try:
        job = MigrationJob.objects.select_related("created_by").filter(pk=job_id).first()
        if job is None or job.is_finished:
            return
        MigrationJob.objects.filter(pk=job_id).update(
            status=Status.IN_PROGRESS, started_at=timezone.now()
        )
        fields: dict = {}
        progress = _ProgressFile(job_id)
        try:
            report = migrate(
                url=job.url,
                token=job.token,
                user=job.created_by,
                project_ids=job.project_ids or None,
                dry_run=job.dry_run,
                progress=progress,
            )
            fields = {
                "status": Status.COMPLETED,
                "report": "\n".join(report.lines(with_links=False)),
            }
            if not report.ok:
                fields["detail"] = "Finished with differences or failed projects: see the report."
        except MigrationError as exc:
            fields = {"status": Status.FAILED, "detail": str(exc)}
        except Exception as exc:
            logger.exception("migration %s failed", job_id)
            fields = {
                "status": Status.FAILED,
                "detail": f"The migration failed ({type(exc).__name__}).",
            }
        MigrationJob.objects.filter(pk=job_id).update(
            token="", finished_at=timezone.now(), progress=progress.state, **fields
        )
        progress_path(job_id).unlink(missing_ok=True)
    finally:
        lock.release()


def job_check_alive(job: MigrationJob) -> MigrationJob:
    """Mark an in-progress job whose worker is gone as failed; returns the fresh job."""
    if job.status != Status.IN_PROGRESS:
        return job
    lock = JobLock(job.pk)
    if not lock.acquire():
        return job
    try:
        MigrationJob.objects.filter(pk=job.pk, status=Status.IN_PROGRESS).update(
            status=Status.FAILED, detail=WORKER_LOST, token="", finished_at=timezone.now()
        )
    finally:
        lock.release()
    job.refresh_from_db()
    return job


def job_state(job: MigrationJob) -> dict:
    """What the staff page polls (never the token)."""
    job = job_check_alive(job)
    return {
        "id": job.pk,
        "url": job.url,
        "status": job.status,
        "dry_run": job.dry_run,
        "progress": progress_read(job) if not job.is_finished else job.progress,
        "detail": job.detail,
        "report": job.report,
        # made fresh on each look, for the staff member to hand on (never stored)
        "invites": [
            {"email": email, "link": link}
            for email, link in (
                pending_invites(source=job.url)
                if job.status == Status.COMPLETED and not job.dry_run
                else []
            )
        ],
    }
