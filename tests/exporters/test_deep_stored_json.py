"""Issue #24, row 3: a result nested 300 deep was stored (through a form field) and then
broke JSON exports mid-stream and failed every snapshot. New writes are refused (see
tests/test_body_nesting.py); rows already stored must still export, in every format,
whole."""

import pytest

from annotations.models import Annotation
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db

DEPTH = 300


def _deep(depth: int):
    value: list = ["leaf"]
    for _ in range(depth - 1):
        value = [value]
    return value


def _depth(value) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


@pytest.fixture
def stored_deep(project, owner):
    good = Task.objects.create(project=project, data={"text": "fine"})
    Annotation.objects.create(
        task=good, project=project, completed_by=owner, result=choice("Positive")
    )
    bad = Task.objects.create(project=project, data={"text": "deep", "nested": _deep(DEPTH)})
    Annotation.objects.create(
        task=bad,
        project=project,
        completed_by=owner,
        result=[{**choice("Negative")[0], "meta": {"x": _deep(DEPTH)}}],
    )
    return good, bad


@pytest.mark.parametrize("export_type", ["JSON", "JSON_MIN", "CSV", "TSV"])
def test_an_export_streams_stored_deep_rows_whole(api, project, stored_deep, export_type):
    response = api.get(
        f"/api/projects/{project.pk}/export?exportType={export_type}&download_all_tasks=true"
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    if export_type == "JSON":
        import json

        parsed = json.loads(body)  # Python's json: any depth orjson would refuse
        by_text = {t["data"]["text"]: t for t in parsed}
        assert set(by_text) == {"fine", "deep"}
        assert _depth(by_text["deep"]["data"]["nested"]) == DEPTH
    elif export_type == "JSON_MIN":
        import json

        assert {r["text"] for r in json.loads(body)} == {"fine", "deep"}
    else:
        assert body.count(b"\n") >= 3  # header and both rows


def test_a_snapshot_of_stored_deep_rows_completes(api, project, stored_deep, settings):
    snapshot = api.post(
        f"/api/projects/{project.pk}/exports/",
        {"task_filter_options": {"only_with_annotations": False}},
        format="json",
    ).json()
    assert snapshot["status"] == "completed", snapshot
    download = api.get(f"/api/projects/{project.pk}/exports/{snapshot['id']}/download")
    import json

    parsed = json.loads(b"".join(download.streaming_content))
    assert len(parsed) == 2
