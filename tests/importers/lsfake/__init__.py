"""A small fake Label Studio 1.23: recorded API answers (``recorded.json``, the shapes
Label Studio 1.23.2 gives) served by a loopback HTTP server, for the migration's unit
tests. It checks the token like Label Studio does (``Token <legacy key>`` or, for a
personal access token, ``Bearer <access>`` after ``/api/token/refresh/``)."""

import copy
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).with_name("recorded.json")
LEGACY = "0123456789abcdef0123456789abcdef01234567"
# A JWT-shaped refresh token (a personal access token) and the access token it buys.
PAT = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"
ACCESS = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.YWNjZXNz"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


class FakeLabelStudio:
    def __init__(self) -> None:
        self.state = json.loads(RECORDED.read_text())
        self.requests: list[str] = []
        self.exports: list[tuple[int, int]] = []  # (project, tasks) per export answered
        self.refreshes = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="application/json"):
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                fake.requests.append("POST " + self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/api/token/refresh/" and body.get("refresh") == PAT:
                    fake.refreshes += 1
                    return self._send(200, {"access": ACCESS})
                return self._send(401, {"detail": "Token is invalid or expired"})

            def do_GET(self):
                fake.requests.append("GET " + self.path)
                auth = self.headers.get("Authorization", "")
                if auth not in (f"Token {LEGACY}", f"Bearer {ACCESS}"):
                    return self._send(
                        401, {"detail": "Authentication credentials were not provided."}
                    )
                parts = urlsplit(self.path)
                lists = parse_qs(parts.query)
                query = {k: v[0] for k, v in lists.items()}
                query["ids[]"] = [int(i) for i in lists.get("ids[]", [])]
                status, body = fake.answer(parts.path, query)
                if isinstance(body, bytes):
                    return self._send(status, body, "image/png")
                return self._send(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, query: dict):
        state = self.state
        if path == "/api/current-user/whoami":
            return 200, state["users"][0]
        if path == "/api/users/":
            return 200, state["users"]
        if path == "/api/projects/":
            return 200, {
                "count": len(state["projects"]),
                "next": None,
                "previous": None,
                "results": [self._counted(p) for p in state["projects"]],
            }
        project = int(query.get("project") or 0)
        if path == "/api/predictions/":
            if query.get("task"):
                return 200, [p for p in state["predictions"] if p["task"] == int(query["task"])]
            return 200, [p for p in state["predictions"] if p["project"] == project]
        if path == "/api/tasks/":
            return self._dm_list(project, query)
        if path == "/api/storages/":
            return 200, [s for s in state.get("storages", []) if s["project"] == project]
        if path == "/api/storages/export":
            return 200, [s for s in state.get("export_storages", []) if s["project"] == project]
        if path == "/api/labels/":
            return 200, {
                "count": len(state.get("labels", [])),
                "next": None,
                "results": state.get("labels", []),
            }
        if path == "/api/label_links/":
            links = [link for link in state.get("label_links", []) if link["project"] == project]
            return 200, {"count": len(links), "next": None, "results": links}
        if path == "/api/dm/views/":
            return 200, [v for v in state["views"] if v["project"] == project]
        if path == "/api/webhooks/":
            return 200, [w for w in state.get("webhooks", []) if w["project"] == project]
        if path == "/api/ml/":
            return 200, [b for b in state["ml"] if b["project"] == project]
        if path.startswith("/api/projects/") and path.endswith("/export"):
            pid = int(path.split("/")[3])
            tasks = copy.deepcopy(state["tasks"].get(str(pid), []))
            if query["ids[]"]:
                tasks = [t for t in tasks if t["id"] in query["ids[]"]]
            self.exports.append((pid, len(tasks)))
            for task in tasks:
                task["predictions"] = [
                    p["id"] for p in state["predictions"] if p["task"] == task["id"]
                ]
            return 200, tasks
        if path.startswith("/data/upload/"):
            return 200, PNG
        return 404, {"detail": "Not found."}

    def _counted(self, project: dict) -> dict:
        """The project with Label Studio's counters, computed as it does."""
        tasks = self.state["tasks"].get(str(project["id"]), [])
        annotations = [a for t in tasks for a in t["annotations"]]
        return {
            **project,
            "task_number": len(tasks),
            "total_annotations_number": sum(not a["was_cancelled"] for a in annotations),
            "skipped_annotations_number": sum(bool(a["was_cancelled"]) for a in annotations),
            "total_predictions_number": sum(
                p["project"] == project["id"] for p in self.state["predictions"]
            ),
        }

    def _dm_list(self, project: int, query: dict):
        """The Data Manager's task list with the two filters the migration's re-run asks
        for (``updated_at`` greater than, ``draft_exists``), paginated as Label Studio."""
        tasks = self.state["tasks"].get(str(project), [])
        for item in json.loads(query.get("query") or "{}").get("filters", {}).get("items", []):
            if item["filter"] == "filter:tasks:updated_at" and item["operator"] == "greater":
                since = datetime.fromisoformat(item["value"].replace("Z", "+00:00"))
                tasks = [
                    t
                    for t in tasks
                    if datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")) > since
                ]
            elif item["filter"] == "filter:tasks:draft_exists":
                tasks = [t for t in tasks if bool(t.get("drafts")) == bool(item["value"])]
            else:
                return 400, {"detail": f"unknown filter {item['filter']}"}
        page, size = int(query.get("page") or 1), int(query.get("page_size") or 100)
        chunk = tasks[(page - 1) * size : page * size]
        if page > 1 and not chunk:
            return 404, {"detail": "Invalid page."}
        return 200, {"total": len(tasks), "tasks": [{"id": t["id"]} for t in chunk]}

    def add_annotation(self, project: int, task_index: int, annotation: dict) -> None:
        """As Label Studio: the new annotation moves its task's ``updated_at`` to now."""
        task = self.state["tasks"][str(project)][task_index]
        task["annotations"].append(annotation)
        task["updated_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
