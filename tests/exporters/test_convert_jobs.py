"""A conversion of a snapshot (``POST .../exports/{pk}/convert``) is a job of the one job
framework (``labelhub.jobs``): Label Studio's ``converted_formats`` answer keeps its
fields (``traceback`` is the job's ``error``), a crash, a dead worker and an unreachable
queue each leave it ``failed`` with a sentence, and a failed one converts again."""

import pytest

from exporters import snapshots
from exporters.formats import writers
from exporters.models import ConvertedFormat
from labelhub import jobs
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot_url(api, project):
    tasks = [
        {"data": {"text": f"t{i}"}, "annotations": [{"result": choice("Positive")}]}
        for i in range(3)
    ]
    api.post(f"/api/projects/{project.pk}/import", tasks, format="json")
    created = api.post(f"/api/projects/{project.pk}/exports/", {}, format="json").json()
    assert created["status"] == "completed"  # a small project builds in the request
    return f"/api/projects/{project.pk}/exports/{created['id']}"


def _converted(api, snapshot_url) -> list[dict]:
    return api.get(snapshot_url).json()["converted_formats"]


def test_a_conversion_answers_label_studios_fields_and_the_jobs(api, snapshot_url):
    answer = api.post(f"{snapshot_url}/convert", {"export_type": "CSV"}, format="json").json()
    (converted,) = _converted(api, snapshot_url)
    assert answer == {"export_type": "CSV", "converted_format": converted["id"]}
    assert list(converted)[:4] == ["id", "export_type", "status", "traceback"]
    assert (converted["status"], converted["traceback"]) == ("completed", None)
    assert converted["progress"] == 1.0 and converted["attempts"] == 1
    assert converted["finished_at"] and converted["error"] == ""
    assert api.get(f"{snapshot_url}/download", {"exportType": "CSV"}).status_code == 200


def test_a_crash_fails_the_conversion_and_it_converts_again(api, snapshot_url, monkeypatch):
    def broken(ctx, tasks):
        raise ValueError("no columns")

    monkeypatch.setitem(writers.WRITERS, "CSV", broken)
    api.post(f"{snapshot_url}/convert", {"export_type": "CSV"}, format="json")
    (converted,) = _converted(api, snapshot_url)
    assert converted["status"] == "failed"
    assert converted["traceback"] == (
        "The conversion failed on the server (ValueError: no columns)."
    )
    assert api.get(f"{snapshot_url}/download", {"exportType": "CSV"}).status_code == 404

    monkeypatch.undo()
    api.post(f"{snapshot_url}/convert", {"export_type": "CSV"}, format="json")
    (again,) = _converted(api, snapshot_url)
    assert again["id"] == converted["id"] and again["status"] == "completed"
    assert again["traceback"] is None and again["attempts"] == 2


def test_a_dead_workers_conversion_shows_failed_and_a_redelivery_does_nothing(api, snapshot_url):
    api.post(f"{snapshot_url}/convert", {"export_type": "CSV"}, format="json")
    row = ConvertedFormat.objects.get()
    ConvertedFormat.objects.filter(pk=row.pk).update(status="in_progress", file="")
    (converted,) = _converted(api, snapshot_url)  # the lock is free: its worker is gone
    assert converted["status"] == "failed" and converted["traceback"] == snapshots.CONVERT_LOST
    snapshots.snapshot_convert(converted_id=row.pk)  # a redelivered message
    row.refresh_from_db()
    assert row.status == "failed" and row.file == ""


def test_an_unreachable_queue_fails_a_queued_conversion_at_once(
    api, snapshot_url, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(snapshots, "INLINE_MAX_TASKS", 1)  # past it: the job queue converts
    monkeypatch.setattr(jobs.job_task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(f"{snapshot_url}/convert", {"export_type": "CSV"}, format="json")
    assert answer.status_code == 200
    (converted,) = _converted(api, snapshot_url)
    assert converted["status"] == "failed"
    assert converted["traceback"] == "The job queue could not be reached (ConnectionError)."
