"""Export snapshots: Label Studio's /exports/ API through the SDK and directly, a
consistent read while annotators write, and a lost worker leaving the export failed."""

import csv
import io
import threading
import time

import orjson
import pytest
from label_studio_sdk import LabelStudio
from rest_framework.authtoken.models import Token

from annotations.models import Annotation
from exporters import selectors, snapshots
from exporters.models import ExportSnapshot
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def _tasks(n: int) -> list[dict]:
    return [
        {"data": {"text": f"t{i}"}, "annotations": [{"result": choice("Positive")}]}
        for i in range(n)
    ]


def test_sdk_create_get_download_convert(live_server, owner, jobs_inline):
    token, _ = Token.objects.get_or_create(user=owner)
    sdk = LabelStudio(base_url=live_server.url, api_key=token.key)
    project = sdk.projects.create(title="Snap", label_config=TEXT_CONFIG)
    sdk.projects.import_tasks(id=project.id, request=[*_tasks(3), {"data": {"text": "empty"}}])

    created = sdk.projects.exports.create(
        id=project.id,
        title="first",
        task_filter_options={"only_with_annotations": True},
    )
    snapshot = sdk.projects.exports.get(id=project.id, export_pk=created.id)
    assert snapshot.status == "completed" and snapshot.md5
    assert snapshot.counters == {"task_number": 3, "annotation_number": 3, "prediction_number": 0}
    body = b"".join(
        sdk.projects.exports.download(id=project.id, export_pk=created.id, export_type="JSON")
    )
    tasks = orjson.loads(body)
    assert [t["data"]["text"] for t in tasks] == ["t0", "t1", "t2"]
    assert tasks[0]["annotations"][0]["completed_by"]["email"] == owner.email
    import hashlib

    assert hashlib.md5(body).hexdigest() == snapshot.md5

    converted = sdk.projects.exports.convert(id=project.id, export_pk=created.id, export_type="CSV")
    assert converted.export_type == "CSV"
    snapshot = sdk.projects.exports.get(id=project.id, export_pk=created.id)
    assert [(c.export_type, c.status) for c in snapshot.converted_formats] == [("CSV", "completed")]
    table = b"".join(
        sdk.projects.exports.download(id=project.id, export_pk=created.id, export_type="CSV")
    )
    rows = list(csv.DictReader(io.StringIO(table.decode())))
    assert [r["sentiment"] for r in rows] == ["Positive"] * 3
    assert {r["annotator"] for r in rows} == {owner.email}

    listed = sdk.projects.exports.list(id=project.id)
    assert [e.id for e in listed] == [created.id]
    sdk.projects.exports.delete(id=project.id, export_pk=created.id)
    assert not ExportSnapshot.objects.exists()


def test_snapshot_api_and_bad_options(api, project, outsider, client_for, jobs_inline):
    url = f"/api/projects/{project.pk}/exports/"
    for payload, field in [
        ({"task_filter_options": {"skipped": "maybe"}}, "task_filter_options.skipped"),
        ({"task_filter_options": {"colour": 1}}, "task_filter_options.colour"),
        (
            {"annotation_filter_options": {"ground_truth": "yes"}},
            "annotation_filter_options.ground_truth",
        ),
        ({"serialization_options": {"predictions": 3}}, "serialization_options.predictions"),
        ({"task_filter_options": []}, "task_filter_options"),
    ]:
        response = api.post(url, payload, format="json")
        assert response.status_code == 400, payload
        assert response.json()["errors"][0]["field"] == field
    assert not ExportSnapshot.objects.exists()
    assert client_for(outsider).post(url, {}, format="json").status_code == 404

    api.post(f"/api/projects/{project.pk}/import", _tasks(2), format="json")
    created = api.post(
        url,
        {
            "title": "x",
            "task_filter_options": {"only_with_annotations": True},
            "annotation_filter_options": {"ground_truth": True, "usual": False},
        },
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    detail = api.get(f"{url}{pk}").json()
    assert detail["status"] == "completed" and detail["counters"]["task_number"] == 0
    assert api.post(f"{url}{pk}/convert", {"export_type": "COCO"}, format="json").status_code == 400
    assert (
        api.post(f"{url}{pk}/convert", {"export_type": "XML"}, format="json").json()["errors"][0][
            "field"
        ]
        == "export_type"
    )
    assert api.get(f"{url}{pk}/download?exportType=CSV").status_code == 404  # not converted
    assert api.get(f"{url}{pk}/download?exportType=NOPE").status_code == 400


def test_lost_worker_leaves_the_export_failed(api, project):
    snapshot = ExportSnapshot.objects.create(project=project, status="in_progress")
    detail = api.get(f"/api/projects/{project.pk}/exports/{snapshot.pk}").json()
    assert detail["status"] == "failed" and detail["md5"] is None
    assert "worker stopped" in detail["detail"]
    assert api.get(f"/api/projects/{project.pk}/exports/{snapshot.pk}/download").status_code == 409
    # A redelivered job for a failed export does nothing.
    snapshots.snapshot_build(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == "failed" and not snapshot.file


@pytest.mark.postgres
def test_annotations_written_during_an_export_do_not_leak_in(api, project, owner, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("REPEATABLE READ is the PostgreSQL path")
    api.post(f"/api/projects/{project.pk}/import", _tasks(40), format="json")
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 5)
    ids = list(Task.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    snapshot = ExportSnapshot.objects.create(project=project, created_by=owner)
    wrote = threading.Event()
    original = snapshots._counted

    def writer():
        # Another connection adds a completion to the last task and deletes the one
        # before it, committed while the export is between its first and second chunk.
        from annotations.services import annotation_create

        task = Task.objects.get(pk=ids[-1])
        annotation_create(task=task, user=owner, result=choice("Negative"))
        Task.objects.filter(pk=ids[-2]).delete()
        from django.db import connection as own

        own.close()
        wrote.set()

    def counted(rows, counters, progress):
        for n, row in enumerate(original(rows, counters, progress)):
            if n == 1:
                threading.Thread(target=writer).start()
                assert wrote.wait(30)
                time.sleep(0.1)
            yield row

    monkeypatch.setattr(snapshots, "_counted", counted)
    snapshots.snapshot_build(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == "completed", snapshot.error
    # The writes happened: the last task has two completions now, and one task is gone.
    assert Annotation.objects.filter(task_id=ids[-1]).count() == 2
    assert not Task.objects.filter(pk=ids[-2]).exists()
    assert snapshot.counters == {"task_number": 40, "annotation_number": 40, "prediction_number": 0}
    from django.core.files.storage import default_storage

    with default_storage.open(snapshot.file, "rb") as handle:
        tasks = orjson.loads(handle.read())
    assert [t["id"] for t in tasks] == ids
    assert all(len(t["annotations"]) == 1 for t in tasks)
