"""Fixtures for the importer tests: uploads, projects per media type, background jobs
run in-process, a loopback HTTP server, and PostgreSQL-only guards."""

import http.server
import threading

import pytest

from tests.factories import IMAGE_CONFIG, MEDIA_CONFIG


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Each test stores media files in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def image_project(make_project):
    return make_project(IMAGE_CONFIG, "images")


@pytest.fixture
def media_project(make_project):
    return make_project(MEDIA_CONFIG, "media")


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):
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
