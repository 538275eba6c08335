"""Issue #24, beyond the list: two web nodes and one worker that share nothing but
PostgreSQL, Redis and an S3 server (moto in server mode).

Two ``labelhub start --no-worker`` processes, each with its own data directory, and one
Celery worker. Media uploaded through one node is read through the other, an import
through one is exported through the other (a streamed export and a snapshot the worker
builds into the bucket), and one node is killed with SIGKILL while 20 annotators submit
through both: every submit that answered 201 is in the database exactly once.
"""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import psycopg2
import pytest
import requests

from tests.factories import free_port

pytestmark = pytest.mark.postgres

TOKEN = "abcdefabcdefabcdefabcdefabcdefabcdef0001"
BUCKET = "two-nodes"
BIN = Path(sys.executable).parent
ANNOTATORS = 20
CONFIG = (
    '<View><Image name="image" value="$image"/><Choices name="c" toName="image">'
    '<Choice value="A"/><Choice value="B"/></Choices></View>'
)


def _db_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def _sql(url: str, statement: str, params=None) -> list:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


@pytest.fixture
def cluster(tmp_path):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        pytest.skip("needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    from moto.server import ThreadedMotoServer

    base_db = urlsplit(os.environ["DATABASE_URL"]).path.strip("/") or "labelhub"
    db_name = f"{base_db}_two_nodes"
    admin_url = _db_url("postgres")
    _sql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    _sql(admin_url, f'CREATE DATABASE "{db_name}"')
    s3_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    moto.start()
    s3_url = f"http://127.0.0.1:{s3_port}"
    boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    ).create_bucket(Bucket=BUCKET)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LABELHUB_")},
        "DATABASE_URL": _db_url(db_name),
        "SECRET_KEY": "two-nodes-share-one-secret-key-for-sessions-and-tokens",
        "S3_ENDPOINT_URL": s3_url,
        "S3_BUCKET": BUCKET,
        "S3_ACCESS_KEY_ID": "k",
        "S3_SECRET_ACCESS_KEY": "s",
        "LABELHUB_WORKERS": "1",
        "LABELHUB_THROTTLE_USER": "100000/min",
    }
    procs: list[subprocess.Popen] = []

    def spawn(name: str, args: list[str]) -> subprocess.Popen:
        node_env = {**env, "LABELHUB_DATA_DIR": str(tmp_path / name)}  # nothing shared
        log = open(tmp_path / f"{name}.log", "wb")
        proc = subprocess.Popen(
            args, env=node_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        procs.append(proc)
        return proc

    # Schema, admin and 20 annotators once, before the nodes start (each node's own
    # migrate is then a no-op).
    setup = (
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        "from projects.services import admin_ensure\n"
        f"admin_ensure(email='boss@example.com', password='a-long-password', token='{TOKEN}')\n"
        f"for i in range({ANNOTATORS}):\n"
        "    u = get_user_model().objects.create_user(username=f'a{i}@x.org', email=f'a{i}@x.org', password='pw-pw-pw-1')\n"
        "    Token.objects.create(user=u, key=f'{i:040d}')\n"
    )
    setup_env = {**env, "LABELHUB_DATA_DIR": str(tmp_path / "setup")}
    subprocess.run(
        [str(BIN / "labelhub"), "migrate", "--noinput"],
        env=setup_env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [str(BIN / "labelhub"), "shell", "-c", setup],
        env=setup_env,
        check=True,
        capture_output=True,
    )

    nodes = []
    for index in range(2):
        port = free_port()
        proc = spawn(
            f"web{index}",
            [
                str(BIN / "labelhub"),
                "start",
                "--no-worker",
                "--port",
                str(port),
                "--username",
                "boss@example.com",
                "--password",
                "a-long-password",
                "--user-token",
                TOKEN,
            ],
        )
        nodes.append((f"http://127.0.0.1:{port}", proc))
    spawn(
        "worker",
        [
            str(BIN / "celery"),
            "-A",
            "labelhub",
            "worker",
            "-l",
            "WARNING",
            "--concurrency=2",
            "-Q",
            "celery,outbound,webhooks",
        ],
    )
    try:
        deadline = time.monotonic() + 90
        for url, proc in nodes:
            while True:
                try:
                    if requests.get(f"{url}/api/version/", timeout=5).ok:
                        break
                except requests.RequestException:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "\n".join(
                    (tmp_path / f"web{i}.log").read_text()[-3000:] for i in range(2)
                )
                time.sleep(0.3)
        yield {"nodes": nodes, "db": _db_url(db_name), "s3": s3_url, "logs": tmp_path}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        moto.stop()
        _sql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _session(token: str = TOKEN) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def test_two_web_nodes_share_nothing_but_postgres_redis_and_s3(cluster):
    (a, proc_a), (b, _proc_b) = cluster["nodes"]
    admin = _session()
    project = admin.post(f"{a}/api/projects/", json={"title": "two", "label_config": CONFIG}).json()
    pid = project["id"]

    # Media through A, read through B (a presigned redirect into the shared bucket).
    png = _png()
    uploaded = admin.post(
        f"{a}/api/projects/{pid}/import?return_task_ids=true",
        files={"file": ("cat.png", png, "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    (task_id,) = uploaded.json()["task_ids"]
    url = admin.get(f"{b}/api/tasks/{task_id}/").json()["data"]["image"]
    served = admin.get(f"{b}{url}", allow_redirects=False)
    assert served.status_code == 302, served.text
    assert requests.get(served.headers["Location"], timeout=10).content == png

    # Import through A, export through B: streamed, and a snapshot the worker builds.
    tasks = [{"image": f"/x/{i}.png"} for i in range(60)]
    imported = admin.post(f"{a}/api/projects/{pid}/import?return_task_ids=true", json=tasks)
    assert imported.status_code == 201, imported.text
    exported = admin.get(
        f"{b}/api/projects/{pid}/export",
        params={"exportType": "JSON", "download_all_tasks": "true"},
    )
    assert exported.status_code == 200
    assert len(exported.json()) == 61
    snapshot = admin.post(
        f"{b}/api/projects/{pid}/exports/",
        json={"task_filter_options": {"only_with_annotations": False}},
    ).json()
    deadline = time.monotonic() + 30
    while snapshot["status"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        snapshot = admin.get(f"{a}/api/projects/{pid}/exports/{snapshot['id']}/").json()
    assert snapshot["status"] == "completed", snapshot
    downloaded = admin.get(f"{a}/api/projects/{pid}/exports/{snapshot['id']}/download")
    assert len(downloaded.json()) == 61

    # 20 annotators submit through both nodes; A dies by SIGKILL in the middle.
    user_ids = dict(_sql(cluster["db"], "SELECT email, id FROM auth_user"))
    for i in range(ANNOTATORS):
        member = admin.post(
            f"{a}/api/projects/{pid}/members/",
            json={"user": user_ids[f"a{i}@x.org"], "role": "annotator"},
        )
        assert member.status_code in (200, 201), member.text
    created: list[tuple[int, int, int]] = []  # (annotation id, task id, annotator index)
    lock = threading.Lock()
    stop = threading.Event()

    def annotate(index: int) -> None:
        session = _session(f"{index:040d}")
        turn = index
        while not stop.is_set():
            node = (a, b)[turn % 2]
            turn += 1
            try:
                task = session.get(f"{node}/api/projects/{pid}/next/", timeout=10)
                if task.status_code == 404:
                    return
                if task.status_code != 200:
                    continue
                tid = task.json()["id"]
                result = [
                    {
                        "from_name": "c",
                        "to_name": "image",
                        "type": "choices",
                        "value": {"choices": ["A"]},
                    }
                ]
                answer = session.post(
                    f"{node}/api/tasks/{tid}/annotations/", json={"result": result}, timeout=10
                )
            except requests.RequestException:
                continue  # the killed node: the next try goes to the other one
            if answer.status_code == 201:
                with lock:
                    created.append((answer.json()["id"], tid, index))

    threads = [threading.Thread(target=annotate, args=(i,)) for i in range(ANNOTATORS)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    os.killpg(proc_a.pid, signal.SIGKILL)
    time.sleep(5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(created) > ANNOTATORS, len(created)
    ids = [row[0] for row in created]
    assert len(ids) == len(set(ids))
    rows = _sql(
        cluster["db"],
        "SELECT id, task_id, completed_by_id FROM annotations_annotation WHERE id = ANY(%s)",
        [ids],
    )
    assert len(rows) == len(ids)  # every 201 is stored
    pairs = _sql(
        cluster["db"],
        "SELECT task_id, completed_by_id, count(*) FROM annotations_annotation "
        "WHERE project_id = %s GROUP BY 1, 2 HAVING count(*) > 1",
        [pid],
    )
    assert pairs == []  # and stored once
    # B still serves.
    assert admin.get(f"{b}/api/projects/{pid}/").status_code == 200
