"""Issue #24, row 15: a script polling through one keep-alive session saw "Remote end
closed connection without response" on the embedded default (``labelhub start``).

The cause: gunicorn closes an idle keep-alive connection after ``keepalive`` seconds (2
by default). A client that polls every 2 s sends its next request on the pooled
connection at the very moment the server closes it; the request crosses the server's
FIN, and requests/urllib3 do not retry it (a request already sent may not be
idempotent). Busy workers (training, prediction) move the close later and make the
crossing likelier. The fix: the server keeps idle connections longer than clients poll
(``labelhub.gunicorn_conf.keepalive``, as nginx's 75 s), so the client, not the server,
is the side that drops an idle connection.
"""

import os
import socket
import time

import pytest
import requests

from tests.embedded import embedded_server

pytestmark = pytest.mark.embedded  # run once, in the SQLite half of make test

TOKEN = "fedcba9876543210fedcba9876543210fedcba98"
PORT = int(os.environ.get("LABELHUB_TEST_KEEPALIVE_PORT", 18517))


@pytest.fixture
def started(tmp_path):
    with embedded_server(tmp_path / "data", TOKEN, port=PORT, LABELHUB_WORKERS="1") as (base, _):
        yield base


def _get(sock: socket.socket, path: str) -> bytes:
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {TOKEN}\r\n\r\n".encode()
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            (
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            b"0",
        )
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_polling_through_one_session_across_job_runs_never_sees_a_reset(started):
    base = started
    session = requests.Session()
    session.headers["Authorization"] = f"Token {TOKEN}"
    config = (
        '<View><Text name="text" value="$text"/><Choices name="s" toName="text">'
        '<Choice value="Pos"/><Choice value="Neg"/></Choices></View>'
    )
    project = session.post(
        f"{base}/api/projects/", json={"title": "k", "label_config": config}
    ).json()
    tasks = [
        {
            "data": {"text": f"{'good fine' if i % 2 else 'bad awful'} {i}"},
            "annotations": [
                {
                    "result": [
                        {
                            "from_name": "s",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["Pos" if i % 2 else "Neg"]},
                        }
                    ]
                }
            ],
        }
        for i in range(40)
    ]
    assert (
        session.post(f"{base}/api/projects/{project['id']}/import", json=tasks).status_code == 201
    )

    # 1. The connection a client holds idle for a poll interval is still served.
    sock = socket.create_connection(("127.0.0.1", PORT))
    assert _get(sock, "/api/version/").startswith(b"HTTP/1.1 200")
    time.sleep(5)
    assert _get(sock, "/api/version/").startswith(b"HTTP/1.1 200"), "idle connection closed"
    sock.close()

    # 2. A script's poll loop around job runs: one session, intervals around 2 s.
    backend = session.post(
        f"{base}/api/ml/", json={"project": project["id"], "model": "text-classifier"}
    )
    errors = []
    intervals = [1.95, 2.0, 2.05, 2.1, 1.9, 2.0]
    for step in range(12):
        if step in (0, 6) and backend.ok:
            session.post(f"{base}/api/ml/{backend.json()['id']}/train", json={})
        try:
            response = session.get(f"{base}/api/predictions/", params={"project": project["id"]})
            assert response.status_code == 200
        except requests.ConnectionError as exc:
            errors.append(f"poll {step}: {exc}")
        time.sleep(intervals[step % len(intervals)])
    assert not errors, errors


def test_the_server_keeps_idle_connections_longer_than_clients_poll():
    from labelhub import gunicorn_conf

    assert gunicorn_conf.keepalive >= 60
