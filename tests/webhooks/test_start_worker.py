"""`labelhub start` runs a worker for the webhook queue: a change made through the API
reaches a loopback receiver through the real broker (kombu's filesystem transport) and
that worker, not the default one."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.factories import free_port

TOKEN = "abcdef0123456789abcdef0123456789abcdef01"


@pytest.fixture
def server(tmp_path):
    port = free_port()  # parallel runs never meet on a fixed port
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(LABELHUB_USER_TOKEN=TOKEN, LABELHUB_WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    proc = subprocess.Popen(
        [
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
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the teardown stops it whole
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{base}/api/version/", timeout=10)
                break
            except requests.RequestException:
                assert proc.poll() is None, proc.stdout.read()
                if time.monotonic() > deadline:
                    os.killpg(proc.pid, signal.SIGTERM)
                    pytest.fail(f"labelhub start did not answer in 120 s:\n{proc.stdout.read()}")
                time.sleep(0.2)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)  # gunicorn and two workers, on a busy machine
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def test_start_delivers_webhooks_from_their_own_worker(server, receiver):
    base, proc = server
    workers = subprocess.run(
        ["ps", "-o", "comm=", "--ppid", str(proc.pid)], capture_output=True, text=True
    ).stdout.split()
    assert "labelhub-hooks" in workers
    headers = {"Authorization": f"Token {TOKEN}"}
    project = requests.post(
        f"{base}/api/projects/", json={"title": "Hooked"}, headers=headers, timeout=30
    ).json()
    hook = requests.post(
        f"{base}/api/webhooks/",
        json={"url": receiver.url, "project": project["id"]},
        headers=headers,
        timeout=30,
    )
    assert hook.status_code == 201, hook.text
    requests.patch(
        f"{base}/api/projects/{project['id']}/", json={"title": "Renamed"}, headers=headers
    )
    deadline = time.monotonic() + 60
    while not receiver.calls and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [b["action"] for b in receiver.bodies()] == ["PROJECT_UPDATED"]
    assert receiver.bodies()[0]["project"]["title"] == "Renamed"
    assert receiver.calls[0]["headers"]["X-LabelHub-Signature"].startswith("t=")
