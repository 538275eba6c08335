"""`labelhub start` runs a worker for the webhook queue: a change made through the API
reaches a loopback receiver through the real broker (kombu's filesystem transport) and
that worker, not the default one."""

import subprocess
import time

import pytest
import requests

from tests.embedded import embedded_server

pytestmark = pytest.mark.embedded  # run once, in the SQLite half of make test

TOKEN = "abcdef0123456789abcdef0123456789abcdef01"


@pytest.fixture
def server(tmp_path):
    with embedded_server(
        tmp_path / "data", TOKEN, LABELHUB_WEBHOOK_ALLOWED_HOSTS="127.0.0.1"
    ) as started:
        yield started


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
