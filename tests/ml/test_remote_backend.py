"""The Label Studio ML backend protocol against a real ``label-studio-ml`` backend: the
package's ``init`` and ``start`` commands serve tests/ml/ls_backend/model.py in its own
process, and LabelHub talks to it over HTTP (health, setup, predict, webhook)."""

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from annotations.models import Prediction
from ml.models import MLBackend, PredictionJob, TrainingJob
from tasks.models import Task
from tests.factories import sentiment_choice

pytestmark = pytest.mark.django_db
HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ls_backend(tmp_path_factory):
    """Start the backend as label-studio-ml serves it; yield (url, events file)."""
    root = tmp_path_factory.mktemp("ls-ml")
    shutil.copy(HERE / "ls_backend" / "model.py", root / "model.py")
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env.update(
        PATH=f"{bin_dir}:{env.get('PATH', '')}",
        EVENTS_FILE=str(root / "events.jsonl"),
        REDIS_PORT="1",  # no Redis for the backend: it runs its jobs in-process
        PYTHONPATH=str(root),
    )
    subprocess.run(
        [str(bin_dir / "label-studio-ml"), "init", "backend", "--script", str(root / "model.py")],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = open(root / "backend.log", "wb")
    process = subprocess.Popen(
        [
            str(bin_dir / "label-studio-ml"),
            "start",
            "backend",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError((root / "backend.log").read_text()[-3000:])
        time.sleep(0.2)
    yield url, root / "events.jsonl"
    os.killpg(process.pid, 15)
    process.wait(timeout=20)
    log.close()


@pytest.fixture
def allow_local(settings):
    settings.LABELHUB_ML_ALLOWED_HOSTS = ["127.0.0.1"]


def connect(api, project, url, **extra):
    return api.post(
        "/api/ml/", {"project": project.pk, "url": url, "title": "kw", **extra}, format="json"
    )


def test_a_private_backend_needs_the_allow_list(api, project, ls_backend, settings):
    settings.LABELHUB_ML_ALLOWED_HOSTS = []
    response = connect(api, project, ls_backend[0])
    assert response.status_code == 400
    assert "LABELHUB_ML_ALLOWED_HOSTS" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "url"
    assert not MLBackend.objects.exists()


def test_unreachable_and_garbage_backends_are_a_400(api, project, allow_local, tmp_path):
    response = connect(api, project, f"http://127.0.0.1:{free_port()}")
    assert response.status_code == 400 and "could not be reached" in response.json()["detail"]

    (tmp_path / "health").write_text("this is not json")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = connect(api, project, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert response.status_code == 400 and "not JSON" in response.json()["detail"]
    assert connect(api, project, "ftp://example.com/x").status_code == 400
    assert not MLBackend.objects.exists()


def test_the_protocol_against_a_real_backend(
    api,
    project,
    owner,
    ls_backend,
    allow_local,
    settings,
    jobs_inline,
    django_capture_on_commit_callbacks,
):
    url, events = ls_backend
    created = connect(api, project, url, extra_params={"threshold": 0.5})
    assert created.status_code == 201, created.content
    backend = created.json()
    assert backend["state"] == "CO" and backend["kind"] == "remote" and backend["url"] == url
    assert api.get(f"/api/ml/{backend['id']}/health").json()["status"] == "UP"

    tasks = [
        Task.objects.create(project=project, data={"text": text})
        for text in ["good film", "bad film", "broken one", "good day", "bad day"]
    ]
    test = api.post(f"/api/ml/{backend['id']}/predict/test", {"task": tasks[0].pk}, format="json")
    assert test.status_code == 200, test.content
    assert test.json()["prediction"]["result"][0]["value"]["choices"] == ["Positive"]

    # The Data Manager action: predictions written, the one that breaks the config dropped.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/dm/actions/?id=retrieve_tasks_predictions&project={project.pk}",
            {"selectedItems": {"all": True}},
            format="json",
        )
    assert response.status_code == 200, response.content
    job = PredictionJob.objects.get()
    assert (job.status, job.written, job.dropped) == ("completed", 4, 1), job.error
    assert "NotAChoice" in job.dropped_errors[0]["message"]
    assert Prediction.objects.filter(project=project).count() == 4
    # Each prediction keeps the model_version its /predict answer named (Label Studio:
    # r.get("model_version", backend.model_version)), not the /setup version, and the
    # job that wrote them goes by the same name.
    stored = Prediction.objects.filter(project=project).values_list("model_version", flat=True)
    assert set(stored) == {"keyword-1"}
    setup_version = MLBackend.objects.get(pk=backend["id"]).model_version
    assert setup_version != "keyword-1"
    assert job.model_version == "keyword-1"
    jobs = api.get(f"/api/ml/{backend['id']}/prediction-jobs/").json()
    assert jobs[0]["model_version"] == "keyword-1"
    assert not Prediction.objects.filter(task=tasks[2]).exists()
    assert Prediction.objects.get(task=tasks[1]).result[0]["value"]["choices"] == ["Negative"]

    # New samples, no tasks created.
    answer = api.post(
        f"/api/projects/{project.pk}/predict",
        {"tasks": [{"data": {"text": "good"}}]},
        format="json",
    )
    assert answer.status_code == 200 and answer.json()["predictions"][0]["score"] == 0.75

    # Webhooks go out from Celery after the annotation commits; training sends START_TRAINING.
    project.min_annotations_to_start_training = 1
    project.save()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/tasks/{tasks[0].pk}/annotations/",
            {"result": sentiment_choice("Positive")},
            format="json",
        )
    with django_capture_on_commit_callbacks(execute=True):
        train = api.post(f"/api/ml/{backend['id']}/train")
    assert train.status_code == 201
    assert TrainingJob.objects.get(pk=train.json()["job"]).status == "completed"
    shown = api.get(f"/api/ml/{backend['id']}/jobs/{train.json()['job']}/").json()
    assert shown["model_version"] == "" and shown["number"] == 1
    deadline = time.monotonic() + 20
    seen = []
    while time.monotonic() < deadline:
        seen = (
            [json.loads(line) for line in events.read_text().splitlines()]
            if events.exists()
            else []
        )
        if {"ANNOTATION_CREATED", "START_TRAINING"} <= {e["event"] for e in seen}:
            break
        time.sleep(0.2)
    by_event = {e["event"]: e for e in seen}
    assert {"ANNOTATION_CREATED", "START_TRAINING"} <= set(by_event), seen
    assert by_event["ANNOTATION_CREATED"]["keys"] == ["annotation", "project", "task"]


def test_timeouts_and_errors(
    api, project, ls_backend, allow_local, settings, jobs_inline, django_capture_on_commit_callbacks
):
    url, _ = ls_backend
    backend = connect(api, project, url).json()
    slow = Task.objects.create(project=project, data={"text": "slow one"})
    settings.LABELHUB_ML_INTERACTIVE_TIMEOUT = 0.5
    response = api.post(f"/api/ml/{backend['id']}/predict/test", {"task": slow.pk}, format="json")
    assert response.status_code == 504 and "did not answer" in response.json()["detail"]

    explode = Task.objects.create(project=project, data={"text": "explode"})
    response = api.post(
        f"/api/ml/{backend['id']}/predict/test", {"task": explode.pk}, format="json"
    )
    assert response.status_code == 502 and "HTTP 500" in response.json()["detail"]

    # A prediction job that meets the error after a first good batch leaves nothing.
    settings.LABELHUB_ML_BATCH_SIZE = 2
    slow.delete()
    explode.delete()
    for text in ["good a", "bad b", "good c", "explode d"]:
        Task.objects.create(project=project, data={"text": text})
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/dm/actions/?id=retrieve_tasks_predictions&project={project.pk}",
            {"selectedItems": {"all": True}},
            format="json",
        )
    job = PredictionJob.objects.get()
    assert job.status == "failed" and "HTTP 500" in job.error, job.error
    assert not Prediction.objects.filter(project=project).exists()
    assert not Task.objects.filter(project=project, total_predictions__gt=0).exists()
    project.refresh_from_db()
    assert project.total_predictions_number == 0


def test_basic_auth_header_is_sent(api, project, allow_local):
    seen = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, body: dict):
            seen.setdefault(self.path, self.headers.get("Authorization"))
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            self._answer({"status": "UP"})

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer({"model_version": "basic-1"})

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = connect(
            api,
            project,
            f"http://127.0.0.1:{server.server_port}",
            auth_method="BASIC_AUTH",
            basic_auth_user="ml",
            basic_auth_pass="secret",
        )
    finally:
        server.shutdown()
    assert response.status_code == 201, response.content
    assert response.json()["model_version"] == "basic-1"
    assert response.json()["basic_auth_pass_is_set"] is True
    assert seen["/health"] == seen["/setup"] == "Basic bWw6c2VjcmV0"
