"""Label Studio's import paths beside ``/import``: ``import/predictions``, ``tasks/bulk``
and ``imports/{id}`` for an import that ran in the request (data_import.tavern.yml)."""

import io
import json

import pytest

from annotations.models import Prediction
from importers.models import ImportJob
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


def _tasks(api, project, n=2) -> list[int]:
    response = api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        [{"text": f"t{i}"} for i in range(n)],
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["task_ids"]


def test_import_predictions_for_existing_tasks(api, project):
    first, second = _tasks(api, project)
    response = api.post(
        f"/api/projects/{project.pk}/import/predictions",
        [
            {"task": first, "result": choice("Positive"), "score": 0.9, "model_version": "m1"},
            {"task": first, "result": choice("Negative")},
            {"task": second, "result": choice("Negative"), "score": 0.4, "model_version": "m1"},
        ],
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 3}
    rows = Prediction.objects.filter(project=project).order_by("id")
    assert [(p.task_id, p.model_version, p.score) for p in rows] == [
        (first, "m1", 0.9),
        (first, "undefined", None),
        (second, "m1", 0.4),
    ]
    tasks = {t.pk: t for t in Task.objects.filter(project=project)}
    assert tasks[first].total_predictions == 2 and tasks[second].total_predictions == 1
    assert tasks[first].prediction_score == pytest.approx(0.9)
    project.refresh_from_db()
    assert project.total_predictions_number == 3
    # The result index knows them: the Data Manager filters on prediction results.
    listed = api.get(f"/api/projects/{project.pk}/model-versions/").json()
    assert listed == {"m1": 2, "undefined": 1}


def test_import_predictions_is_all_or_nothing(api, project, make_project, client_for, annotator):
    (task,) = _tasks(api, project, 1)
    other = make_project(project.label_config, "other")
    (foreign,) = _tasks(api, other, 1)
    response = api.post(
        f"/api/projects/{project.pk}/import/predictions",
        [
            {"task": task, "result": choice("Positive")},
            {"task": foreign, "result": choice("Positive")},
            {"task": task, "result": choice("NotAChoice")},
            {"task": task, "result": choice("Positive"), "score": "high"},
            "nonsense",
        ],
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["record"], e["field"]) for e in errors] == [
        (1, "task"),
        (2, "result"),
        (3, "score"),
        (4, "prediction"),
    ]
    assert not Prediction.objects.exists()
    assert api.post(
        f"/api/projects/{project.pk}/import/predictions", {"task": task}, format="json"
    ).status_code == (400)
    denied = client_for(annotator).post(
        f"/api/projects/{project.pk}/import/predictions",
        [{"task": task, "result": choice("Positive")}],
        format="json",
    )
    assert denied.status_code == 403


def test_tasks_bulk_is_the_import(api, project):
    response = api.post(
        f"/api/projects/{project.pk}/tasks/bulk", [{"text": "a"}, {"text": "b"}], format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["task_count"], body["annotation_count"], body["prediction_count"]) == (2, 0, 0)


def test_an_import_in_the_request_is_recorded(api, project, client_for, annotator):
    response = api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        [{"text": "a"}, {"data": {"text": "b"}, "predictions": [{"result": choice("Positive")}]}],
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    job = ImportJob.objects.get(pk=body["import"])
    assert job.status == "completed" and job.project_id == project.pk
    status = api.get(f"/api/projects/{project.pk}/imports/{body['import']}/?return_task_ids=1")
    assert status.status_code == 200
    shown = status.json()
    assert shown["status"] == "completed"
    assert (shown["task_count"], shown["prediction_count"]) == (2, 1)
    assert shown["task_ids"] == body["task_ids"]
    assert shown["files"] == ["request body"]
    assert body["found_formats"] == shown["found_formats"] == {".json": 1}
    assert (
        client_for(annotator)
        .get(f"/api/projects/{project.pk}/imports/{body['import']}")
        .status_code
        == 403
    )


def test_a_json_list_in_the_request_is_parsed_once(api, project, monkeypatch):
    """The import policy's orjson parse of a list under the byte threshold is what the
    import reads: the streaming reader (ijson and a second nesting scan) is not run."""

    def unused(*args, **kwargs):
        raise AssertionError("the JSON list was parsed a second time")

    monkeypatch.setattr("importers.sources.read_json", unused)
    response = api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true",
        [{"text": "a"}, {"data": {"text": "b"}, "predictions": [{"result": choice("Negative")}]}],
        format="json",
    )
    assert response.status_code == 201, response.content
    tasks = Task.objects.filter(pk__in=response.json()["task_ids"]).order_by("pk")
    assert [task.data for task in tasks] == [{"text": "a"}, {"text": "b"}]
    assert Prediction.objects.get(task=tasks[1]).result == choice("Negative")
    bad = api.post(f"/api/projects/{project.pk}/import", [{"text": "c"}, 7], format="json")
    assert bad.status_code == 400
    assert Task.objects.filter(project=project).count() == 2


BBOX_CONFIG = """<View><Image name="image" value="$image"/>
<RectangleLabels name="bbox" toName="image" choices="multiple">
<Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>"""


def test_preannotated_from_fields_become_predictions(api, make_project):
    project = make_project(BBOX_CONFIG, "bbox")
    records = [
        {
            "image": "https://example.com/1.jpg",
            "bbox": {"x": 10, "y": 20, "width": 30, "height": 40, "rectanglelabels": ["Cat"]},
        },
        {"image": "https://example.com/2.jpg", "bbox": None},
    ]
    upload = io.BytesIO(json.dumps(records).encode())
    upload.name = "image_urls_with_bboxes.json"
    response = api.post(
        f"/api/projects/{project.pk}/import?return_task_ids=true&preannotated_from_fields=bbox",
        {"file": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["prediction_count"] == 1
    first = Task.objects.get(pk=response.json()["task_ids"][0])
    prediction = first.predictions.get()
    assert prediction.model_version == "preannotated" and prediction.score == 1.0
    assert prediction.result == [
        {
            "from_name": "bbox",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": records[0]["bbox"],
        }
    ]
    assert first.data["bbox"] == records[0]["bbox"]  # kept in the data, as Label Studio does
    missing = api.post(
        f"/api/projects/{project.pk}/import?preannotated_from_fields=nothere",
        [{"image": "https://example.com/3.jpg"}],
        format="json",
    )
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "nothere"
    bad = api.post(
        f"/api/projects/{project.pk}/import?preannotated_from_fields=bbox",
        [{"image": "https://example.com/3.jpg", "bbox": {"rectanglelabels": ["Cow"]}}],
        format="json",
    )
    assert bad.status_code == 400
    assert Task.objects.filter(project=project).count() == 2


def test_media_without_a_matching_object_tag_take_label_studios_key(api, make_project):
    """An image uploaded into a project whose config has no <Image> goes under the first
    data key the config reads (a template ``<Hypertext value="<embed src='$image'/>">``
    reads ``image``), or Label Studio's ``$undefined$`` when it reads none."""
    from tests.factories import upload
    from tests.importers.test_archives_media import PNG

    hypertext = make_project(
        """<View><Hypertext name="hyper" value="&lt;embed src='$image'/&gt;"/></View>""", "h"
    )
    response = upload(api, hypertext, "first.png", PNG)
    assert response.status_code == 201, response.content
    (data,) = Task.objects.filter(project=hypertext).values_list("data", flat=True)
    assert list(data) == ["image"] and data["image"].startswith("/data/upload/")
    listed = api.get(f"/api/tasks?project={hypertext.pk}").json()["tasks"]
    assert list(listed[0]["data"]) == ["image"]

    empty = make_project("<View></View>", "e")
    response = upload(api, empty, "first.png", PNG)
    assert response.status_code == 201, response.content
    (data,) = Task.objects.filter(project=empty).values_list("data", flat=True)
    assert list(data) == ["$undefined$"]
    summary = api.get(f"/api/projects/{empty.pk}/summary/").json()
    assert summary["all_data_columns"] == {"$undefined$": 1}
