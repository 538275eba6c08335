"""Fixtures for the importer tests: uploads, projects per media type, background jobs
run in-process, a loopback HTTP server, and PostgreSQL-only guards."""

import http.server
import io
import socket
import threading

import pytest
from django.db import connection

from projects.services import project_create
from tasks.models import Task
from tests.conftest import IMAGE_CONFIG

AUDIO_CONFIG = """<View><Audio name="audio" value="$audio"/>
  <Choices name="kind" toName="audio"><Choice value="Speech"/><Choice value="Music"/></Choices></View>"""
HTML_CONFIG = """<View><HyperText name="page" value="$page"/>
  <Choices name="kind" toName="page"><Choice value="Spam"/><Choice value="Ham"/></Choices></View>"""
TWO_IMAGES_CONFIG = """<View><Image name="left" value="$left"/><Image name="right" value="$right"/>
  <Choices name="same" toName="left"><Choice value="Yes"/><Choice value="No"/></Choices></View>"""
MEDIA_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Image name="group" valueList="$images"/>
  <Video name="video" value="$video"/>
  <Audio name="audio" value="$audio"/>
  <PDF name="pdf" value="$pdf"/>
  <Text name="text" value="$text"/>
  <Choices name="ok" toName="image"><Choice value="Yes"/><Choice value="No"/></Choices>
</View>"""


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Each test stores media files in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def pg(db):
    """For tests marked ``postgres``: fail, never skip, when the database is not PostgreSQL
    (the SQLite pass deselects them with -m 'not postgres')."""
    assert connection.vendor == "postgresql", "this test needs DATABASE_URL to point at PostgreSQL"


def url(project) -> str:
    return f"/api/projects/{project.pk}/import"


def upload(api, project, name: str, content: bytes, *, query: str = "", **extra):
    handle = io.BytesIO(content)
    handle.name = name
    return api.post(url(project) + query, {"file": handle, **extra}, format="multipart")


def upload_many(api, project, files: dict[str, bytes], *, query: str = ""):
    handles = []
    for name, content in files.items():
        handle = io.BytesIO(content)
        handle.name = name
        handles.append(handle)
    return api.post(url(project) + query, {"file": handles}, format="multipart")


def task_data(project) -> list[dict]:
    return list(Task.objects.filter(project=project).order_by("id").values_list("data", flat=True))


def assert_nothing_written(project):
    assert not Task.objects.filter(project=project).exists()
    project.refresh_from_db()
    assert project.task_number == 0


@pytest.fixture
def make_project(owner):
    def make(config: str, title: str = "p"):
        return project_create(user=owner, title=title, label_config=config)

    return make


@pytest.fixture
def image_project(make_project):
    return make_project(IMAGE_CONFIG, "images")


@pytest.fixture
def media_project(make_project):
    return make_project(MEDIA_CONFIG, "media")


@pytest.fixture
def jobs_inline():
    """Background jobs run in-process when enqueued (Celery's eager mode); tests run the
    commit callbacks with ``django_capture_on_commit_callbacks(execute=True)``."""
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        route = self.routes.get(self.path)
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        status, headers, body = route
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A loopback HTTP server; set ``server.routes[path] = (status, headers, body)``."""
    handler = type("Handler", (_Handler,), {"routes": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    server.routes = handler.routes
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()
