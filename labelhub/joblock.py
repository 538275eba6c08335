"""A job lock that lives exactly as long as the worker process holding it: a PostgreSQL
session advisory lock (freed by the server when the worker's connection drops) or, on
SQLite (one machine), an ``flock`` on a file (freed by the kernel when the process dies).
Whoever finds a ``running`` job whose lock is free knows its worker is gone.

The job framework (``labelhub.jobs``) subclasses it with each kind's advisory-lock
namespace and the folder of the lock files.
"""

import fcntl
from pathlib import Path

from django.db import connection


class JobLock:
    def __init__(self, namespace: int, job_id: int, path: Path) -> None:
        self.key = [namespace, job_id]
        self.path = path
        self.handle = None
        self.held = False

    def acquire(self) -> bool:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", self.key)
                self.held = bool(cursor.fetchone()[0])
            return self.held
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+")
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
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", self.key)
        elif self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None

    def held_elsewhere(self) -> bool:
        """True while another worker holds the lock (taken and let go at once if free)."""
        if not self.acquire():
            return True
        self.release()
        return False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
