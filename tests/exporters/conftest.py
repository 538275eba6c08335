"""Helpers for export tests: import tasks, export through the API, unpack archives."""

import io
import zipfile

import orjson
import pytest

from projects.services import project_create


def export_bytes(api, project, **params) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.get(f"/api/projects/{project.pk}/export?{query}")
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    assert response["Content-Disposition"].startswith("attachment")
    return b"".join(response.streaming_content)


def unzip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def make_project(owner):
    def make(config: str, title: str = "Export"):
        return project_create(user=owner, title=title, label_config=config)

    return make


@pytest.fixture
def import_tasks(api):
    def run(project, tasks: list[dict]) -> list[int]:
        response = api.post(
            f"/api/projects/{project.pk}/import?return_task_ids=true",
            data=orjson.dumps(tasks),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        return response.json()["task_ids"]

    return run
