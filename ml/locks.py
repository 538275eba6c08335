"""A job lock that lives exactly as long as the worker process holding it: a PostgreSQL
session advisory lock (freed by the server when the worker's connection drops) or, on
SQLite (one machine), an ``flock`` on a file in the data directory (freed by the kernel
when the process dies). Whoever finds a ``running`` job whose lock is free knows its
worker is gone."""

import fcntl
from pathlib import Path

from django.conf import settings
from django.db import connection

TRAINING = 0x4D4C  # "ML"
PREDICTION = 0x4D50  # "MP"


class JobLock:
    def __init__(self, namespace: int, job_id: int) -> None:
        self.namespace = namespace
        self.job_id = job_id
        self.handle = None
        self.held = False

    def acquire(self) -> bool:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [self.namespace, self.job_id])
                self.held = bool(cursor.fetchone()[0])
            return self.held
        folder = Path(settings.DATA_DIR) / "ml-locks"
        folder.mkdir(parents=True, exist_ok=True)
        self.handle = open(folder / f"{self.namespace}-{self.job_id}.lock", "a+")  # noqa: SIM115
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            return False
        self.held = True
        return True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [self.namespace, self.job_id])
        elif self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
