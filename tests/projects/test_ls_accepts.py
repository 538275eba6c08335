"""What Label Studio accepts, LabelHub accepts (issue #21, part 2): a project created
without a config takes anything until a config is set, and that config is then checked
against what is stored; numeric choices; ``?was_cancelled=1``; form-encoded and multipart
project bodies; the config flags Label Studio's project JSON carries."""

import pytest

from annotations.models import Annotation, Prediction
from tests.factories import IMAGE_CONFIG, TEXT_CONFIG

pytestmark = pytest.mark.django_db

RESULT = [
    {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": ["pos"]}}
]
FITS = """<View><Text name="text" value="$text"/>
  <Choices name="label" toName="text"><Choice value="pos"/><Choice value="neg"/></Choices></View>"""
CLASHES = """<View><Text name="text" value="$text"/>
  <Labels name="label" toName="text"><Label value="pos"/></Labels></View>"""
NUMERIC = """<View><Text name="text" value="$text"/>
  <Choices name="label" toName="text"><Choice value="1"/><Choice value="2"/></Choices></View>"""


def _open_project(api) -> dict:
    response = api.post("/api/projects/", {"title": "Open"})  # form-encoded, no config
    assert response.status_code == 201, response.content
    return response.json()


def _task(api, project_id: int, data: dict) -> int:
    response = api.post(f"/api/projects/{project_id}/import", [data], format="json")
    assert response.status_code == 201, response.content
    return response.json()["task_ids"][0] if "task_ids" in response.json() else _last_task()


def _last_task() -> int:
    from tasks.models import Task

    return Task.objects.order_by("-id").values_list("id", flat=True).first()


def test_a_project_without_config_gets_an_empty_view_and_takes_anything(api):
    project = _open_project(api)
    assert project["label_config"] == "<View></View>"
    assert project["config_has_control_tags"] is False
    assert project["config_suitable_for_bulk_annotation"] is True

    task_id = _task(api, project["id"], {"keyA": 123, "anything": "goes"})
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": RESULT}, format="json")
    assert response.status_code == 201, response.content
    assert Annotation.objects.get(pk=response.json()["id"]).result == RESULT
    response = api.post(
        "/api/predictions/",
        {"task": task_id, "result": RESULT, "model_version": "v1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Prediction.objects.filter(task_id=task_id).count() == 1


def test_an_open_config_still_refuses_result_items_that_are_not_objects(api):
    project = _open_project(api)
    task_id = _task(api, project["id"], {"text": "x"})
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": [1]}, format="json")
    assert response.status_code == 400
    assert not Annotation.objects.filter(task_id=task_id).exists()


def test_the_first_real_config_is_checked_against_what_is_stored(api):
    project = _open_project(api)
    task_id = _task(api, project["id"], {"text": "x"})
    api.post(f"/api/tasks/{task_id}/annotations/", {"result": RESULT}, format="json")
    url = f"/api/projects/{project['id']}/"

    response = api.patch(url, {"label_config": CLASHES}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Validation error"
    (message,) = body["validation_errors"]["label_config"]
    assert message.startswith("Created annotations are incompatible")
    assert "\n1 with from_name=label, to_name=text, type=choices" in message
    assert api.get(url).json()["label_config"] == "<View></View>"  # nothing written

    response = api.post(f"{url}validate/", {"label_config": CLASHES}, format="json")
    assert response.status_code == 400
    no_pos = FITS.replace('<Choice value="pos"/>', "")
    response = api.post(f"{url}validate/", {"label_config": no_pos}, format="json")
    assert response.status_code == 400
    assert 'label "pos"' in response.json()["errors"][0]["message"]

    response = api.patch(url, {"label_config": FITS}, format="json")
    assert response.status_code == 200, response.content


def test_numeric_choices_are_stored_as_sent_and_checked_against_the_config(api):
    response = api.post("/api/projects/", {"title": "N", "label_config": NUMERIC})
    project = response.json()
    task_id = _task(api, project["id"], {"text": "x"})
    numeric = [{**RESULT[0], "value": {"choices": [1]}}]
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": numeric}, format="json")
    assert response.status_code == 201, response.content
    assert Annotation.objects.get(pk=response.json()["id"]).result[0]["value"] == {"choices": [1]}

    unknown = [{**RESULT[0], "value": {"choices": [3]}}]
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": unknown}, format="json")
    assert response.status_code == 400
    assert 'choice "3"' in response.json()["detail"]
    flag = [{**RESULT[0], "value": {"choices": [True]}}]
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": flag}, format="json")
    assert response.status_code == 400

    # Dropping the numeric choice that an annotation holds is refused.
    response = api.post(
        f"/api/projects/{project['id']}/validate/",
        {"label_config": NUMERIC.replace('<Choice value="1"/>', "")},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert 'label "1"' in response.json()["errors"][0]["message"]


def test_was_cancelled_on_the_url_skips(api, project):
    task_id = _task(api, project.pk, {"text": "x"})
    response = api.post(
        f"/api/tasks/{task_id}/annotations/?was_cancelled=1", {"lead_time": 1.5}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Annotation.objects.get(pk=response.json()["id"]).was_cancelled is True
    # Without it an empty submit is still refused (enable_empty_annotation is off).
    response = api.patch(f"/api/projects/{project.pk}/", {"enable_empty_annotation": False})
    assert response.status_code == 200
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"lead_time": 1.5}, format="json")
    assert response.status_code == 400


def test_multipart_project_create_and_update(api):
    response = api.post(
        "/api/projects/", {"title": "M", "label_config": TEXT_CONFIG}, format="multipart"
    )
    assert response.status_code == 201, response.content
    project = response.json()
    assert project["config_has_control_tags"] is True
    response = api.patch(f"/api/projects/{project['id']}/", {"title": "M2"}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "M2"


def test_config_suitable_for_bulk_annotation(api):
    for config, expected in (
        (TEXT_CONFIG, True),
        (IMAGE_CONFIG, False),
        (TEXT_CONFIG.replace('choice="single"', 'choice="single" perRegion="true"'), False),
        (TEXT_CONFIG.replace('choice="single"', 'choice="single" value="$options"'), False),
    ):
        response = api.post("/api/projects/", {"title": "B", "label_config": config})
        assert response.status_code == 201, response.content
        assert response.json()["config_suitable_for_bulk_annotation"] is expected, config


def test_model_version_must_name_predictions_or_a_backend(api, project):
    from ml.models import MLBackend

    url = f"/api/projects/{project.pk}/"
    response = api.patch(url, {"model_version": "nonexistent"}, format="json")
    assert response.status_code == 400
    assert "model_version" in response.json()["validation_errors"]
    project.refresh_from_db()
    assert project.model_version == ""

    task_id = _task(api, project.pk, {"text": "x"})
    api.post(
        "/api/predictions/",
        {"task": task_id, "result": [], "model_version": "static-1"},
        format="json",
    )
    assert api.patch(url, {"model_version": "static-1"}, format="json").status_code == 200
    MLBackend.objects.create(project=project, title="live", url="http://127.0.0.1:1")
    assert api.patch(url, {"model_version": "live"}, format="json").status_code == 200
    assert api.patch(url, {"model_version": ""}, format="json").status_code == 200


def test_form_encoded_annotation_prediction_and_task_bodies(api, project):
    import json

    task = api.post("/api/tasks/", {"project": project.pk, "data": json.dumps({"text": "x"})})
    assert task.status_code == 201, task.content
    task_id = task.json()["id"]
    result = json.dumps(
        [{**RESULT[0], "from_name": "sentiment", "value": {"choices": ["Positive"]}}]
    )
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": result, "lead_time": "2"})
    assert response.status_code == 201, response.content
    assert Annotation.objects.get(pk=response.json()["id"]).result[0]["value"]["choices"] == [
        "Positive"
    ]
    response = api.post(
        "/api/predictions/",
        {"task": task_id, "result": result, "model_version": "form"},
        format="multipart",
    )
    assert response.status_code == 201, response.content


TAXONOMY = """<View><Text name="text" value="$text"/><Taxonomy name="taxonomy" toName="text">
  <Choice value="A"><Choice value="A_1"/><Choice value="A_2"/></Choice><Choice value="B"/>
</Taxonomy></View>"""


def test_dropping_a_taxonomy_node_in_use_is_refused(api):
    project = api.post("/api/projects/", {"title": "T", "label_config": TAXONOMY}).json()
    task_id = _task(api, project["id"], {"text": "x"})
    result = [
        {
            "from_name": "taxonomy",
            "to_name": "text",
            "type": "taxonomy",
            "value": {"taxonomy": [["A", "A_1"], ["B"]]},
        }
    ]
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": result}, format="json")
    assert response.status_code == 201, response.content
    validate = f"/api/projects/{project['id']}/validate/"
    assert api.post(validate, {"label_config": TAXONOMY}, format="json").status_code == 200
    renamed = TAXONOMY.replace('<Choice value="A">', '<Choice value="C">')
    response = api.post(validate, {"label_config": renamed}, format="json")
    assert response.status_code == 400, response.content
    assert 'label "A"' in response.json()["errors"][0]["message"]
    added = TAXONOMY.replace('<Choice value="B"/>', '<Choice value="B"/><Choice value="D"/>')
    assert api.post(validate, {"label_config": added}, format="json").status_code == 200


def _skip_queue_project(api, skip_queue: str | None) -> tuple[dict, list[int]]:
    project = api.post(
        "/api/projects/", {"title": "S", "label_config": FITS, "enable_empty_annotation": False}
    ).json()
    if skip_queue:
        response = api.patch(
            f"/api/projects/{project['id']}/", {"skip_queue": skip_queue}, format="json"
        )
        assert response.status_code == 200 and response.json()["skip_queue"] == skip_queue
    ids = [_task(api, project["id"], {"text": t}) for t in ("one", "two")]
    return project, ids


def _next(api, project) -> int | None:
    response = api.get(f"/api/projects/{project['id']}/next/")
    return response.json()["id"] if response.status_code == 200 else None


def _skip_then_label_the_other(api, project, ids) -> int:
    assert _next(api, project) == ids[0]
    skip = api.post(f"/api/tasks/{ids[0]}/annotations/?was_cancelled=1", {}, format="json")
    assert skip.status_code == 201, skip.content
    assert _next(api, project) == ids[1]
    response = api.post(f"/api/tasks/{ids[1]}/annotations/", {"result": RESULT}, format="json")
    assert response.status_code == 201
    return skip.json()["id"]


def _is_labeled(api, task_id) -> bool:
    return api.get(f"/api/tasks/{task_id}/").json()["is_labeled"]


def test_skip_queue_requeue_for_others_is_the_default(api):
    project, ids = _skip_queue_project(api, None)
    assert project["skip_queue"] == "REQUEUE_FOR_OTHERS"
    _skip_then_label_the_other(api, project, ids)
    assert _next(api, project) is None
    assert (_is_labeled(api, ids[0]), _is_labeled(api, ids[1])) == (False, True)


def test_skip_queue_requeue_for_me(api):
    project, ids = _skip_queue_project(api, "REQUEUE_FOR_ME")
    skip_id = _skip_then_label_the_other(api, project, ids)
    assert _next(api, project) == ids[0]  # the skipped task comes back to its skipper
    assert _next(api, project) == ids[0]  # and stays theirs while they hold it
    assert api.delete(f"/api/annotations/{skip_id}/").status_code == 204
    response = api.post(f"/api/tasks/{ids[0]}/annotations/", {"result": RESULT}, format="json")
    assert response.status_code == 201
    assert _next(api, project) is None
    assert _is_labeled(api, ids[0]) and _is_labeled(api, ids[1])


def test_skip_queue_ignore_skipped_counts_a_skip_as_done(api, annotator):
    project, ids = _skip_queue_project(api, "IGNORE_SKIPPED")
    _skip_then_label_the_other(api, project, ids)
    assert _is_labeled(api, ids[0]) and _is_labeled(api, ids[1])
    # Back to the default: the skipped task is open again (for others).
    response = api.patch(
        f"/api/projects/{project['id']}/", {"skip_queue": "REQUEUE_FOR_OTHERS"}, format="json"
    )
    assert response.status_code == 200
    assert not _is_labeled(api, ids[0])


def test_skip_queue_refuses_unknown_values(api, project):
    response = api.patch(f"/api/projects/{project.pk}/", {"skip_queue": "NOPE"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "skip_queue"


def test_results_for_a_control_the_config_lacks_are_stored(api):
    """Label Studio stores result items whose ``from_name`` is not a control of the
    config (its drafts tests annotate ``text_class`` under a ``label`` config; its
    ``image_urls_with_bboxes_gt.json`` sample names ``label`` under ``objects``); items
    of a control the config has are still checked."""
    project = api.post("/api/projects/", {"title": "F", "label_config": FITS}).json()
    task_id = _task(api, project["id"], {"text": "x"})
    other = [{**RESULT[0], "from_name": "text_class", "value": {"choices": ["class_B"]}}]
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": other}, format="json")
    assert response.status_code == 201, response.content
    assert Annotation.objects.get(pk=response.json()["id"]).result == other
    imported = api.post(
        f"/api/projects/{project['id']}/import",
        [
            {
                "data": {"text": "y"},
                "annotations": [{"result": other}],
                "predictions": [{"result": other}],
            }
        ],
        format="json",
    )
    assert imported.status_code == 201, imported.content
    assert imported.json()["annotation_count"] == 1
    bad = [{**RESULT[0], "value": {"choices": "pos"}}]  # a known control, a broken value
    response = api.post(f"/api/tasks/{task_id}/annotations/", {"result": bad}, format="json")
    assert response.status_code == 400
    # and an item that is not a result item at all
    response = api.post(
        f"/api/tasks/{task_id}/annotations/", {"result": [{"from_name": "x"}]}, format="json"
    )
    assert response.status_code == 400


def test_the_delete_annotations_action_takes_the_tasks_drafts(api, owner):
    """Label Studio's ``delete_tasks_annotations`` deletes the tasks' drafts too (a
    draft of no annotation included), so their labels stop holding the config."""
    from annotations.models import AnnotationDraft
    from annotations.services import draft_save
    from tasks.models import Task

    project = api.post("/api/projects/", {"title": "D", "label_config": FITS}).json()
    task_id = _task(api, project["id"], {"text": "x"})
    kept_id = _task(api, project["id"], {"text": "y"})
    draft_save(task=Task.objects.get(pk=task_id), user=owner, result=RESULT)
    draft_save(task=Task.objects.get(pk=kept_id), user=owner, result=RESULT)
    validate = f"/api/projects/{project['id']}/validate/"
    no_pos = FITS.replace('<Choice value="pos"/>', "")
    assert api.post(validate, {"label_config": no_pos}, format="json").status_code == 400
    response = api.post(
        f"/api/dm/actions?id=delete_tasks_annotations&project={project['id']}",
        {"selectedItems": {"all": False, "included": [task_id]}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert list(AnnotationDraft.objects.values_list("task_id", flat=True)) == [kept_id]


def test_a_form_encoded_project_keeps_its_default_flags(api):
    """A flag a form body leaves out keeps its default (DRF reads a missing form boolean
    as False); ``show_collab_predictions`` is Label Studio's name for
    ``show_predictions_to_annotators``."""
    body = api.post("/api/projects/", {"title": "Form", "label_config": FITS}).json()
    assert body["show_predictions_to_annotators"] is True and body["show_skip_button"] is True
    hidden = api.post(
        "/api/projects/", {"title": "F2", "label_config": FITS, "show_collab_predictions": "false"}
    ).json()
    assert hidden["show_predictions_to_annotators"] is False


def test_an_import_sets_the_model_version_to_the_last_imported(api):
    """A project with no model version takes the last imported prediction's (Label
    Studio); the Label Stream then pre-fills from that version (next_task.tavern.yml)."""
    project = api.post("/api/projects/", {"title": "MV", "label_config": FITS}).json()
    predictions = [
        {"result": RESULT, "model_version": "model_version_A"},
        {
            "result": [{**RESULT[0], "value": {"choices": ["neg"]}}],
            "model_version": "model_version_B",
        },
    ]
    response = api.post(
        f"/api/projects/{project['id']}/import",
        [{"data": {"text": "x"}, "predictions": predictions}],
        format="json",
    )
    assert response.status_code == 201, response.content
    url = f"/api/projects/{project['id']}/"
    assert api.get(url).json()["model_version"] == "model_version_B"
    shown = api.get(f"{url}next/").json()["predictions"]
    assert [p["model_version"] for p in shown] == ["model_version_B"]
    api.patch(url, {"model_version": "model_version_A"}, format="json")
    api.post(
        f"/api/projects/{project['id']}/import",
        [{"data": {"text": "y"}, "predictions": predictions}],
        format="json",
    )
    assert api.get(url).json()["model_version"] == "model_version_A"  # a chosen one stays
