"""`labelhub start` as a user runs it: migrates, ensures the admin with the given token,
and serves the API through gunicorn with a Celery worker beside it."""

import os
import signal
import sqlite3
import subprocess
import time

import pytest
import requests

from tests.embedded import embedded_server

pytestmark = pytest.mark.embedded  # run once, in the SQLite half of make test

TOKEN = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def server(tmp_path):
    with embedded_server(tmp_path / "data", TOKEN) as (base, proc):
        yield base, proc, tmp_path / "data"


def test_start_serves_the_api_on_sqlite_with_a_worker(server):
    base, proc, data_dir = server
    headers = {"Authorization": f"Token {TOKEN}"}
    assert requests.get(f"{base}/api/version/").status_code == 200  # no log-in, as LS
    assert requests.get(f"{base}/api/projects/").status_code == 401
    assert (
        requests.get(f"{base}/api/current-user/whoami", headers=headers).json()["email"]
        == "boss@example.com"
    )
    assert (data_dir / "labelhub.sqlite3").exists() and (data_dir / "secret_key").exists()
    # WAL mode (kept in the file): readers and the worker don't block.
    with sqlite3.connect(data_dir / "labelhub.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    login = requests.Session()
    page = login.get(f"{base}/user/login/")
    assert (
        page.status_code == 200 and 'name="email"' in page.text and 'name="password"' in page.text
    )
    # The web server and the worker are forks of the launcher, named for ps and top.
    children = subprocess.run(
        ["ps", "-o", "comm=", "--ppid", str(proc.pid)], capture_output=True, text=True
    ).stdout.split()
    assert "labelhub-web" in children and "labelhub-worker" in children

    # A worker that dies (a crash, the OOM killer) is started again; the web stays up.
    def worker_pids() -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=,comm=", "--ppid", str(proc.pid)], capture_output=True, text=True
        ).stdout
        return [
            int(pid) for pid, comm in map(str.split, out.splitlines()) if comm == "labelhub-worker"
        ]

    (dead,) = worker_pids()
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker_pids() in ([], [dead]):
        time.sleep(0.2)
    assert worker_pids() and dead not in worker_pids()
    assert proc.poll() is None
    assert requests.get(f"{base}/api/projects/", headers=headers).status_code == 200
