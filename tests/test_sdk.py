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


# --- labels, Data Manager and export groups (labelsdm) ---


@pytest.fixture
def _jobs_inline():
    from labelhub.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def test_sdk_views_update_order(sdk):
    project = sdk.projects.create(title="Views", label_config=TEXT_CONFIG)
    views = [sdk.views.create(project=project.id, data={"title": t}) for t in ("a", "b", "c")]
    assert [v.id for v in sdk.views.list(project=project.id)] == [v.id for v in views]
    wanted = [views[2].id, views[0].id, views[1].id]
    assert sdk.views.update_order(project=project.id, ids=wanted) is None
    listed = sdk.views.list(project=project.id)
    assert [v.id for v in listed] == wanted
    assert [v.order for v in listed] == [0, 1, 2]
    assert sdk.views.get(id=str(views[1].id)).order == 2
    sdk.views.delete_all(project=project.id)
    assert sdk.views.list(project=project.id) == []


def test_sdk_exports(sdk, _jobs_inline):
    project = sdk.projects.create(title="Exports", label_config=TEXT_CONFIG)
    sdk.projects.import_tasks(
        id=project.id,
        request=[
            {"data": {"text": "good"}, "annotations": [{"result": choice("Positive")}]},
            {"data": {"text": "bad"}, "annotations": [{"result": choice("Negative")}]},
            {"data": {"text": "none"}},
        ],
    )
    formats = sdk.projects.exports.list_formats(id=project.id)
    names = [f["name"] if isinstance(f, dict) else f for f in formats]
    assert "JSON" in names and "CSV" in names

    body = b"".join(sdk.projects.exports.download_sync(id=project.id, download_all_tasks=True))
    assert [t["data"]["text"] for t in orjson.loads(body)] == ["good", "bad", "none"]

    view = sdk.views.create(
        project=project.id,
        data={
            "title": "good",
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:data.text",
                        "operator": "equal",
                        "type": "String",
                        "value": "good",
                    }
                ],
            },
        },
    )
    created = sdk.projects.exports.create(
        id=project.id,
        title="from a view",
        task_filter_options={"view": view.id},
        annotation_filter_options={"usual": True, "ground_truth": True, "skipped": True},
    )
    snapshot = sdk.projects.exports.get(id=project.id, export_pk=created.id)
    assert snapshot.status == "completed" and snapshot.counters["task_number"] == 1
    body = b"".join(
        sdk.projects.exports.download(id=project.id, export_pk=created.id, export_type="JSON")
    )
    assert [t["data"]["text"] for t in orjson.loads(body)] == ["good"]
    sdk.projects.exports.convert(id=project.id, export_pk=created.id, export_type="JSON_MIN")
    minimal = b"".join(
        sdk.projects.exports.download(id=project.id, export_pk=created.id, export_type="JSON_MIN")
    )
    assert orjson.loads(minimal)[0]["sentiment"] == "Positive"
    assert [e.id for e in sdk.projects.exports.list(id=project.id)] == [created.id]

    # the Community edition's helper: a direct export of every task
    tasks = sdk.projects.exports.as_json(project.id)
    assert sorted(t["data"]["text"] for t in tasks) == ["bad", "good", "none"]
    table = sdk.projects.exports.as_pandas(project.id)
    assert sorted(table["sentiment"].dropna()) == ["Negative", "Positive"]
    for export in sdk.projects.exports.list(id=project.id):
        sdk.projects.exports.delete(id=project.id, export_pk=export.id)
    assert sdk.projects.exports.list(id=project.id) == []
