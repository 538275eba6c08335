"""The ML jobs' locks (see labelhub.joblock): training and prediction jobs, each with its
advisory-lock namespace; on SQLite the lock files live in ``<data dir>/ml-locks``."""

from pathlib import Path

from django.conf import settings

from labelhub import joblock

TRAINING = 0x4D4C  # "ML"
PREDICTION = 0x4D50  # "MP"


class JobLock(joblock.JobLock):
    def __init__(self, namespace: int, job_id: int) -> None:
        path = Path(settings.DATA_DIR) / "ml-locks" / f"{namespace}-{job_id}.lock"
        super().__init__(namespace, job_id, path)
