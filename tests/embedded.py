"""`labelhub start` on the embedded default (SQLite and a data folder, no Redis), as a user
runs it, for the tests that need the whole server: migrate, admin, web, workers."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.factories import free_port


@contextmanager
def embedded_server(data_dir: Path, token: str, *, port: int | None = None, **env_extra: str):
    """Yield ``(base URL, process)`` once the server answers; stop its whole process
    group afterwards. ``env_extra`` adds LABELHUB_* settings."""
    port = port or free_port()  # parallel runs never meet on a fixed port
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(LABELHUB_USER_TOKEN=token, **env_extra)
    log = open(data_dir.parent / f"server-{port}.log", "w+")  # read back on a failure
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "labelhub"),
            "start",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--username",
            "boss@example.com",
            "--password",
            "a-long-password",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the teardown stops it whole
    )
    base = f"http://127.0.0.1:{port}"

    def printed() -> str:
        log.seek(0)
        return log.read()

    try:
        # Migrating a new SQLite database and starting the web server and workers takes a
        # few seconds, much longer on a loaded machine: wait up to two minutes, then fail
        # with what the server printed.
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{base}/api/version/", timeout=10)
                break
            except requests.RequestException:
                assert proc.poll() is None, printed()
                if time.monotonic() > deadline:
                    pytest.fail(f"labelhub start did not answer in 120 s:\n{printed()}")
                time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)  # the web server and two workers, on a busy machine
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
