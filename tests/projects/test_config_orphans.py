"""A config edit that would orphan stored annotations or predictions is refused (400
listing each control, type and label with its counts), as Label Studio refuses it; the
project's ``enable_empty_annotation`` setting refuses empty submits."""

import html

import pytest

from annotations.models import Annotation
from annotations.services import annotation_create, draft_save, prediction_create
from projects.models import Project
from tasks.models import Task
from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db

RENAMED = TEXT_CONFIG.replace('name="sentiment"', 'name="sentiment2"')
NO_POSITIVE = TEXT_CONFIG.replace('<Choice value="Positive"/>', "")
AS_LABELS = """<View>
  <Text name="text" value="$text"/>
  <Labels name="sentiment" toName="text"><Label value="Positive"/></Labels>
</View>"""
EXTRA_LABEL = TEXT_CONFIG.replace(
    '<Choice value="Neutral"/>', '<Choice value="Neutral"/><Choice value="Mixed"/>'
)


@pytest.fixture
def labeled(project, annotator, owner):
    tasks = [Task.objects.create(project=project, data={"text": f"t{i}"}) for i in range(4)]
    for task in tasks[:3]:
        annotation_create(task=task, user=annotator, result=choice("Positive"))
    annotation_create(task=tasks[3], user=owner, result=choice("Negative"))
    prediction_create(task=tasks[0], result=choice("Positive"), model_version="v1")
    return project


def test_renaming_a_used_control_is_refused_with_counts(api, labeled):
    response = api.patch(f"/api/projects/{labeled.pk}/", {"label_config": RENAMED}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Validation error"  # Label Studio's
    # Label Studio's wording: the number of results (here 4 annotations + 1 prediction).
    assert body["validation_errors"]["label_config"] == [
        "Created annotations are incompatible with provided labeling schema, we found:\n"
        "5 with from_name=sentiment, to_name=text, type=choices"
    ]
    [error] = body["errors"]
    assert "4 annotations, 1 prediction with from_name=sentiment" in error["message"]
    assert error["field"] == "label_config"
    assert (error["reason"], error["from_name"], error["annotations"], error["predictions"]) == (
        "from_name",
        "sentiment",
        4,
        1,
    )
    labeled.refresh_from_db()
    assert labeled.label_config == TEXT_CONFIG  # nothing written


def test_removing_a_used_label_is_refused_by_validate_and_let_through_by_patch(api, labeled):
    """Label Studio's ``/validate`` (what its settings page calls before it saves) is
    strict; its PATCH and PUT are not: a label results still use may leave the config
    (the results keep it). A lost control is refused by both (the test above)."""
    response = api.post(
        f"/api/projects/{labeled.pk}/validate/", {"label_config": NO_POSITIVE}, format="json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    [error] = body["errors"]
    assert (error["reason"], error["label"], error["annotations"], error["predictions"]) == (
        "label",
        "Positive",
        3,
        1,
    )
    message = (
        "These labels still exist in annotations or drafts:\n"
        "Positive (3 annotations, 1 prediction)\n"
        'Please add labels to tag with name="sentiment".'
    )
    assert body["validation_errors"] == {"label_config": [message], "non_field_errors": [message]}
    assert 'label "Positive" of from_name=sentiment' in error["message"]
    for method in (api.patch, api.put):
        response = method(
            f"/api/projects/{labeled.pk}/", {"label_config": NO_POSITIVE}, format="json"
        )
        assert response.status_code == 200, response.content
        labeled.refresh_from_db()
        assert labeled.label_config == NO_POSITIVE
        labeled.label_config = TEXT_CONFIG
        labeled.save(update_fields=["label_config"])


def test_the_settings_page_refuses_a_used_label(labeled):
    from annotations.services import project_update
    from labelhub.errors import ApiError

    with pytest.raises(ApiError) as refused:
        project_update(project=labeled, label_config=NO_POSITIVE)
    assert refused.value.errors[0]["label"] == "Positive"


def test_drafts_count_as_stored_labels(api, project, annotator):
    """A draft's labels keep their place in the config, as Label Studio counts its
    ``created_labels_drafts``; the project summary lists them."""
    task = Task.objects.create(project=project, data={"text": "x"})
    draft_save(task=task, user=annotator, result=choice("Negative"))
    response = api.post(
        f"/api/projects/{project.pk}/validate/",
        {"label_config": TEXT_CONFIG.replace('<Choice value="Negative"/>', "")},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["validation_errors"]["non_field_errors"] == [
        "These labels still exist in annotations or drafts:\nNegative (1 draft)\n"
        'Please add labels to tag with name="sentiment".'
    ]
    [error] = response.json()["errors"]
    assert (error["drafts"], error["annotations"]) == (1, 0)
    summary = api.get(f"/api/projects/{project.pk}/summary/").json()
    assert summary["created_labels_drafts"] == {"sentiment": {"Negative": 1}}
    assert summary["created_labels"] == {}
    renamed = api.patch(f"/api/projects/{project.pk}/", {"label_config": RENAMED}, format="json")
    assert renamed.status_code == 400
    assert renamed.json()["errors"][0]["drafts"] == 1


def test_changing_the_control_type_is_refused(api, labeled):
    response = api.patch(f"/api/projects/{labeled.pk}/", {"label_config": AS_LABELS}, format="json")
    assert response.status_code == 400
    reasons = {(e["reason"], e["type"]) for e in response.json()["errors"]}
    assert reasons == {("type", "choices")}


def test_harmless_edits_save(api, labeled):
    response = api.patch(
        f"/api/projects/{labeled.pk}/", {"label_config": EXTRA_LABEL}, format="json"
    )
    assert response.status_code == 200, response.content
    # Removing an unused label (Neutral) is fine too.
    unused_gone = TEXT_CONFIG.replace('<Choice value="Neutral"/>', "")
    response = api.patch(
        f"/api/projects/{labeled.pk}/", {"label_config": unused_gone}, format="json"
    )
    assert response.status_code == 200, response.content


def test_skips_and_results_that_never_fit_do_not_block(api, project, annotator):
    task = Task.objects.create(project=project, data={"text": "x"})
    annotation_create(task=task, user=annotator, result=[], was_cancelled=True)
    # An old oddity (written around the checks): a from_name the config never had. It
    # did not fit before the change either, so it does not block one.
    legacy = [{**choice("Positive")[0], "from_name": "legacy"}]
    Annotation.objects.create(task=task, project=project, completed_by=annotator, result=legacy)
    response = api.patch(f"/api/projects/{project.pk}/", {"label_config": RENAMED}, format="json")
    assert response.status_code == 200, response.content


def test_validate_endpoint_lists_orphans(api, client_for, annotator, labeled):
    url = f"/api/projects/{labeled.pk}/validate/"
    ok = api.post(url, {"label_config": EXTRA_LABEL}, format="json")
    assert ok.status_code == 200 and "sentiment" in ok.json()["parsed_label_config"]
    refused = api.post(url, {"label_config": NO_POSITIVE}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["label"] == "Positive"
    assert (
        client_for(annotator).post(url, {"label_config": NO_POSITIVE}, format="json").status_code
        == 403
    )


def test_settings_page_refuses_an_orphaning_config(client, owner, labeled):
    client.force_login(owner)
    response = client.post(
        f"/projects/{labeled.pk}/settings",
        {"section": "config", "label_config": RENAMED},
    )
    assert response.status_code == 200
    assert b"Saved." not in response.content
    # the page says it in words (the API keeps Label Studio's from_name=... wording)
    page = html.unescape(response.content.decode())
    assert 'Control "sentiment" is not in the new config; 4 annotations and 1 prediction' in page
    assert "from_name=" not in page
    assert Project.objects.get(pk=labeled.pk).label_config == TEXT_CONFIG


# --------------------------------------------------------------------------- empty results


def test_empty_submit_refused_when_the_setting_is_off(api, client_for, project, annotator):
    task = Task.objects.create(project=project, data={"text": "x"})
    annotator_api = client_for(annotator)
    url = f"/api/tasks/{task.pk}/annotations/"
    assert api.get(f"/api/projects/{project.pk}/").json()["enable_empty_annotation"] is True
    allowed = annotator_api.post(url, {"result": []}, format="json")
    assert allowed.status_code == 201

    patched = api.patch(
        f"/api/projects/{project.pk}/", {"enable_empty_annotation": False}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["enable_empty_annotation"] is False
    refused = annotator_api.post(url, {"result": []}, format="json")
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("This project does not accept empty annotations")
    assert refused.json()["errors"][0]["field"] == "result"
    # A skip stays possible, and so does a real result.
    assert (
        annotator_api.post(url, {"result": [], "was_cancelled": True}, format="json").status_code
        == 201
    )
    other = Task.objects.create(project=project, data={"text": "y"})  # one submit per task
    good = annotator_api.post(
        f"/api/tasks/{other.pk}/annotations/", {"result": choice("Positive")}, format="json"
    )
    assert good.status_code == 201
    emptied = annotator_api.patch(
        f"/api/annotations/{good.json()['id']}/", {"result": []}, format="json"
    )
    assert emptied.status_code == 400
    assert Annotation.objects.get(pk=good.json()["id"]).result == choice("Positive")


def test_an_edit_that_drops_nothing_reads_no_results(api, labeled):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = api.patch(
            f"/api/projects/{labeled.pk}/", {"label_config": EXTRA_LABEL}, format="json"
        )
    assert response.status_code == 200
    assert not [q for q in queries if "json_each" in q["sql"] or "jsonb_array" in q["sql"]]


def test_bare_tools_lose_labels_with_their_labels_control(api, owner):
    from projects.services import project_create

    config = """<View><Image name="image" value="$image"/>
      <Rectangle name="box" toName="image"/>
      <Labels name="kind" toName="image"><Label value="Cat"/><Label value="Dog"/></Labels>
    </View>"""
    project = project_create(user=owner, title="Boxes", label_config=config)
    task = Task.objects.create(project=project, data={"image": "/a.png"})
    box = {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["Cat"]}
    result = [
        {"id": "b", "from_name": "box", "to_name": "image", "type": "rectanglelabels", "value": box}
    ]
    annotation_create(task=task, user=owner, result=result)
    response = api.post(
        f"/api/projects/{project.pk}/validate/",
        {"label_config": config.replace('<Label value="Cat"/>', "")},
        format="json",
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["from_name"], error["label"], error["annotations"]) == ("box", "Cat", 1)
