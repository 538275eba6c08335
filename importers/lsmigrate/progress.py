"""A migration's step-by-step progress while it runs: a small JSON file in the data
directory. The worker's writes are one open transaction per project (and SQLite has one
writer), so the row's ``stage`` is written only at the end."""

import json
import os
import time
from pathlib import Path

from django.conf import settings

from importers.models import MigrationJob


def _root() -> Path:
    root = Path(settings.DATA_DIR) / "migrations"
    root.mkdir(parents=True, exist_ok=True)
    return root


def progress_path(job_id: int) -> Path:
    return _root() / f"job-{job_id}.json"


def progress_read(job: MigrationJob) -> dict:
    try:
        return json.loads(progress_path(job.pk).read_text())
    except (OSError, ValueError):
        return dict(job.stage or {})


class ProgressFile:
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
