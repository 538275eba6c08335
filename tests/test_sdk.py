"""The official label-studio-sdk 2.x client against a live LabelHub server:
create a project, import, list tasks, create annotations and predictions, export."""

import orjson
import pytest
from label_studio_sdk import LabelStudio
from rest_framework.authtoken.models import Token

from tests.factories import TEXT_CONFIG, choice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(live_server, owner):
    token, _ = Token.objects.get_or_create(user=owner)
    return LabelStudio(base_url=live_server.url, api_key=token.key)


def test_sdk_flow(sdk, owner):
    project = sdk.projects.create(title="SDK project", label_config=TEXT_CONFIG)
    assert project.id and project.title == "SDK project"
    assert project.created_by.email == owner.email

    fetched = sdk.projects.get(id=project.id)
    assert fetched.label_config == TEXT_CONFIG

    imported = sdk.projects.import_tasks(
        id=project.id,
        request=[
            {"data": {"text": "I love it"}},
            {
                "data": {"text": "I hate it"},
                "predictions": [
                    {"model_version": "m0", "score": 0.8, "result": choice("Negative")}
                ],
            },
            {"text": "plain"},
        ],
        return_task_ids=True,
    )
    assert imported.task_count == 3 and imported.prediction_count == 1
    task_ids = imported.task_ids

    tasks = list(sdk.tasks.list(project=project.id, page_size=2))
    assert [t.id for t in tasks] == task_ids  # pages of 2, stopped by the 404 past the end
    full = list(sdk.tasks.list(project=project.id, fields="all"))
    prediction_item = full[1].predictions[0]
    version = (
        prediction_item["model_version"]
        if isinstance(prediction_item, dict)
        else prediction_item.model_version
    )
    assert version == "m0"

    annotation = sdk.annotations.create(id=task_ids[0], result=choice("Positive"), lead_time=1.5)
    assert annotation.id and annotation.result == choice("Positive")
    listed = sdk.annotations.list(id=task_ids[0])
    assert [a.id for a in listed] == [annotation.id]

    prediction = sdk.predictions.create(
        task=task_ids[2], result=choice("Neutral"), score=0.3, model_version="m1"
    )
    assert prediction.id and prediction.score == 0.3

    task = sdk.tasks.get(id=task_ids[0])
    assert task.total_annotations == 1

    exported = b"".join(sdk.projects.exports.download_sync(id=project.id, export_type="JSON"))
    rows = orjson.loads(exported)
    assert [r["id"] for r in rows] == [task_ids[0]]  # annotated tasks only, as in Label Studio
    assert rows[0]["annotations"][0]["result"] == choice("Positive")
    everything = orjson.loads(
        b"".join(
            sdk.projects.exports.download_sync(
                id=project.id, export_type="JSON", download_all_tasks=True
            )
        )
    )
    assert len(everything) == 3

    sdk.projects.delete(id=project.id)


# --- drafts, label-stream history, task agreement ---
# label-studio-sdk 2.1.2 has no drafts client (Label Studio leaves the draft endpoints out
# of its schema): scripts reach them with the SDK's legacy ``Client.make_request``, read
# a task's ``drafts`` with ``tasks.get`` and name the draft a submit replaces with
# ``draft_id`` in the annotation's body.


def test_sdk_drafts(sdk, live_server, owner):
    from label_studio_sdk._legacy import Client

    project = sdk.projects.create(title="SDK drafts", label_config=TEXT_CONFIG)
    (task_id,) = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "half done"}], return_task_ids=True
    ).task_ids
    legacy = Client(
        url=live_server.url,
        api_key=Token.objects.get(user=owner).key,
        versions={"release": "1.23.2"},
    )
    created = legacy.make_request(
        "POST", f"/api/tasks/{task_id}/drafts", json={"result": choice("Neutral"), "lead_time": 2}
    )
    assert created.status_code == 201
    draft_id = created.json()["id"]
    legacy.make_request("PATCH", f"/api/drafts/{draft_id}", json={"result": choice("Negative")})
    assert legacy.make_request("GET", f"/api/drafts/{draft_id}/").json()["result"] == choice(
        "Negative"
    )
    assert [d["id"] for d in legacy.make_request("GET", f"/api/tasks/{task_id}/drafts").json()] == [
        draft_id
    ]
    assert legacy.get_project(project.id).get_task(task_id)["drafts"][0]["id"] == draft_id

    task = sdk.tasks.get(id=str(task_id))
    (item,) = task.drafts
    assert item.result == choice("Negative") and item.created_at is not None

    annotation = sdk.annotations.create(
        id=task_id,
        result=choice("Negative"),
        request_options={"additional_body_parameters": {"draft_id": draft_id}},
    )
    assert annotation.result == choice("Negative")
    gone = legacy.make_request("GET", f"/api/drafts/{draft_id}/", raise_exceptions=False)
    assert gone.status_code == 404
    assert sdk.tasks.get(id=str(task_id)).drafts == []

    # convert the annotation back into a draft, then delete that draft
    converted = legacy.make_request("POST", f"/api/annotations/{annotation.id}/convert-to-draft")
    assert converted.status_code == 201 and converted.json()["result"] == choice("Negative")
    assert list(sdk.annotations.list(id=task_id)) == []
    deleted = legacy.make_request("DELETE", f"/api/drafts/{converted.json()['id']}/")
    assert deleted.status_code == 204


def test_sdk_stream_history_and_task_agreement(sdk, live_server, owner):
    from label_studio_sdk._legacy import Client

    project = sdk.projects.create(title="SDK history", label_config=TEXT_CONFIG)
    (task_id,) = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "one"}], return_task_ids=True
    ).task_ids
    legacy = Client(
        url=live_server.url,
        api_key=Token.objects.get(user=owner).key,
        versions={"release": "1.23.2"},
    )
    assert legacy.make_request("GET", f"/api/projects/{project.id}/next").json()["id"] == task_id
    annotation = sdk.annotations.create(id=task_id, result=choice("Positive"))
    history = legacy.make_request("GET", f"/api/projects/{project.id}/label-stream-history/")
    assert history.json() == [{"taskId": task_id, "annotationId": annotation.id}]
    agreement = legacy.make_request("GET", f"/api/tasks/{task_id}/agreement/").json()
    assert agreement["total_annotations"] == 1
    assert agreement["distributions"]["sentiment"]["labels"] == {"Positive": 1}
