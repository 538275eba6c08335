"""A background import's progress, where web and worker both see it while the job's
writes are still one open transaction (see ``ProgressFile``)."""

import json
import logging
import os
import time
from pathlib import Path

from django.conf import settings

from importers.models import ImportJob

logger = logging.getLogger(__name__)


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
