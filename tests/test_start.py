"""`labelhub start` as a user runs it: migrates, ensures the admin with the given token,
and serves the API through gunicorn with a Celery worker beside it."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

TOKEN = "0123456789abcdef0123456789abcdef01234567"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(LABELHUB_USER_TOKEN=TOKEN)
    command = [
        str(Path(sys.executable).parent / "labelhub"),
        "start",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--username",
        "boss@example.com",
        "--password",
        "a-long-password",
    ]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Migrating a new SQLite database and starting gunicorn and Celery takes a few
        # seconds, much longer on a loaded machine: wait up to two minutes, then fail
        # with what the server printed.
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{base}/api/version/", timeout=10)
                break
            except requests.RequestException:
                assert proc.poll() is None, proc.stdout.read()
                if time.monotonic() > deadline:
                    proc.terminate()
                    pytest.fail(f"labelhub start did not answer in 120 s:\n{proc.stdout.read()}")
                time.sleep(0.2)
        yield base, proc, tmp_path / "data"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


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
