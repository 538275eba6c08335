"""Issue #24, row 7: every outbound call has a total deadline and a size cap, and calls
to outside servers run on a queue of their own.

A malicious backend that answered a byte a second held ``predict/test`` (and an
annotator's ``/api/projects/{id}/predict/``) for 120 s against a documented 10 s; a
400 MB answer grew a worker to 1.4 GB. These servers are real sockets on loopback."""

import http.server
import threading
import time

import pytest

from labelhub import ssrf
from ml.models import MLBackend, PredictionJob
from tasks.models import Task

pytestmark = pytest.mark.django_db


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _drain(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._drain()
        self._serve()

    def _serve(self):
        try:
            if self.path.startswith("/drip-headers"):
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 50:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            elif self.path.startswith("/drip"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                for _ in range(600):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif self.path.startswith("/huge"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b" " * 65536
                for _ in range(16 * 50):  # 50 MB, no Content-Length
                    self.wfile.write(chunk)
            else:
                body = b'{"status": "UP", "model_version": "x"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile(settings):
    settings.LABELHUB_ML_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _refuse(url, why):
    return ValueError(why)


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_the_shared_call_holds_its_total_deadline(hostile, path):
    started = time.monotonic()
    with pytest.raises(ssrf.CallError) as caught:
        ssrf.call(
            hostile + path,
            allowed=["127.0.0.1"],
            refuse=_refuse,
            allow_setting="X",
            seconds=1.5,
            max_bytes=1 << 20,
        )
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 8


def test_the_shared_call_caps_the_answer(hostile):
    with pytest.raises(ssrf.CallError) as caught:
        ssrf.call(
            hostile + "/huge",
            allowed=["127.0.0.1"],
            refuse=_refuse,
            allow_setting="X",
            seconds=30,
            max_bytes=1 << 20,
        )
    assert caught.value.kind == "too_large"


def _backend(project, url):
    return MLBackend.objects.create(project=project, kind=MLBackend.Kind.REMOTE, url=url, title="h")


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_predict_test_against_a_dripping_backend_ends_at_the_bound(
    api, project, hostile, settings, path
):
    settings.LABELHUB_ML_INTERACTIVE_TIMEOUT = 1.5
    backend = _backend(project, hostile + path)
    task = Task.objects.create(project=project, data={"text": "x"})
    started = time.monotonic()
    response = api.post(f"/api/ml/{backend.pk}/predict/test", {"task": task.pk}, format="json")
    assert time.monotonic() - started < 8
    assert response.status_code == 504, response.content


def test_a_huge_backend_answer_is_cut_off(api, project, hostile, settings):
    settings.LABELHUB_ML_MAX_RESPONSE_BYTES = 1 << 20
    backend = _backend(project, hostile + "/huge")
    task = Task.objects.create(project=project, data={"text": "x"})
    response = api.post(f"/api/ml/{backend.pk}/predict/test", {"task": task.pk}, format="json")
    assert response.status_code == 502, response.content
    assert "LABELHUB_ML_MAX_RESPONSE_BYTES" in response.json()["detail"]


def test_a_url_import_from_a_dripping_server_ends_at_the_bound(api, project, hostile, settings):
    settings.LABELHUB_IMPORT_URL_TIMEOUT = 1.5
    started = time.monotonic()
    response = api.post(f"/api/projects/{project.pk}/import?url={hostile}/drip-headers")
    assert time.monotonic() - started < 8
    assert response.status_code == 400, response.content
    assert "timed out" in response.json()["detail"]


def test_remote_backend_jobs_go_to_the_outbound_queue(project, settings, monkeypatch):
    from labelhub import jobs

    settings.LABELHUB_OUTBOUND_QUEUE = "outbound"
    remote = _backend(project, "http://example.com")
    builtin = MLBackend.objects.create(
        project=project, kind=MLBackend.Kind.BUILTIN, model="text-classifier"
    )
    sent = []
    monkeypatch.setattr(
        jobs.job_task, "apply_async", lambda args, queue=None, **kwargs: sent.append(queue)
    )
    for backend in (remote, builtin):
        job = PredictionJob.objects.create(project=project, backend=backend)
        jobs.job_enqueue(job)
    assert sent == ["outbound", settings.LABELHUB_ML_QUEUE or None]


def test_labelhub_start_runs_a_worker_for_the_outbound_queue():
    import inspect

    from labelhub import cli

    assert "LABELHUB_OUTBOUND_QUEUE" in inspect.getsource(cli.start)
