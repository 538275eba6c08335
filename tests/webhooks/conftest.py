"""A real HTTP receiver on loopback (a free port the kernel picks, so parallel runs never
collide) that records each call and answers with the statuses it is told to, and the
settings that allow it."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.statuses: list[int] = []  # answered in order; 200 once they run out
        self.delay = 0.0
        self.stream = ""  # "drip" or "flood": an answer that never ends
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append(
                    {"path": self.path, "headers": dict(self.headers), "raw": raw}
                )
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.stream:
                    self._stream(receiver.stream)
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except BrokenPipeError:  # the caller's time limit hung up first
                    pass

            def _stream(self, mode: str) -> None:
                """An answer without end: ``drip`` a byte every 50 ms, or ``flood``."""
                self.send_response(200)
                self.end_headers()
                stop = time.monotonic() + 20
                try:
                    while time.monotonic() < stop:
                        self.wfile.write(b"x" if mode == "drip" else b"x" * 65536)
                        self.wfile.flush()
                        if mode == "drip":
                            time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        return Handler

    def bodies(self, action: str | None = None) -> list[dict]:
        out = [json.loads(call["raw"]) for call in self.calls]
        return [body for body in out if action is None or body["action"] == action]


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def allow_loopback(settings):
    settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.LABELHUB_WEBHOOK_BACKOFF = 0
    settings.LABELHUB_WEBHOOK_TIMEOUT = 2
    return settings
