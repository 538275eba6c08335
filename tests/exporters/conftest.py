"""Fixtures for the export tests: tasks imported through the API."""

import orjson
import pytest


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
