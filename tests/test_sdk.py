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


# --- projects and import paths ---


def _sdk_project(sdk, n=2):
    project = sdk.projects.create(title="SDK paths", label_config=TEXT_CONFIG)
    imported = sdk.projects.import_tasks(
        id=project.id,
        request=[{"data": {"text": f"t{i}"}} for i in range(n)],
        return_task_ids=True,
    )
    return project, imported.task_ids


def test_sdk_list_counts(sdk):
    project, _ = _sdk_project(sdk, 3)
    counts = sdk.projects.list_counts()
    row = next(r for r in counts.results if r.id == project.id)
    assert row.task_number == 3 and row.finished_task_number == 0
    only = sdk.projects.list_counts(include="task_number")
    assert next(r for r in only.results if r.id == project.id).task_number == 3


def test_sdk_import_predictions_and_model_versions(sdk):
    project, task_ids = _sdk_project(sdk)
    answer = sdk.projects.import_predictions(
        id=project.id,
        request=[
            {"task": task_ids[0], "result": choice("Positive"), "score": 0.5, "model_version": "m"},
            {"task": task_ids[1], "result": choice("Negative"), "model_version": "m"},
        ],
    )
    assert answer.created == 2
    assert sdk.tasks.get(id=task_ids[0]).total_predictions == 1


def test_sdk_list_unique_annotators(sdk, owner):
    project, task_ids = _sdk_project(sdk, 1)
    assert sdk.projects.list_unique_annotators(id=project.id) == []
    sdk.annotations.create(id=task_ids[0], result=choice("Positive"))
    annotators = sdk.projects.list_unique_annotators(id=project.id)
    assert [(a.id, a.email) for a in annotators] == [(owner.id, owner.email)]


def test_sdk_delete_all_tasks(sdk):
    project, _ = _sdk_project(sdk, 3)
    assert sdk.tasks.delete_all_tasks(id=project.id) is None
    assert list(sdk.tasks.list(project=project.id)) == []
    assert sdk.projects.get(id=project.id).task_number == 0


def test_sdk_ml_list_model_versions(sdk, settings, tmp_path):
    from ml.models import TrainingJob
    from ml.services import backend_create
    from projects.models import Project

    settings.MEDIA_ROOT = tmp_path / "media"
    project, _ = _sdk_project(sdk, 1)
    backend = backend_create(
        project=Project.objects.get(pk=project.id), kind="builtin", model="text-classifier"
    )
    assert sdk.ml.list_model_versions(id=backend.pk).versions == []
    TrainingJob.objects.create(
        backend=backend, project_id=project.id, model_version=1, status="completed"
    )
    versions = sdk.ml.list_model_versions(id=backend.pk)
    # The name the version's predictions carry, not the run number.
    assert versions.versions == ["text-classifier-v1"]


def test_sdk_files(sdk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    project = sdk.projects.create(title="SDK files", label_config=TEXT_CONFIG)
    kept = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "a"}, {"text": "b"}], commit_to_project=False
    )
    assert kept.task_count == 2 and sdk.projects.get(id=project.id).task_number == 0
    (upload_id,) = kept.file_upload_ids
    listed = sdk.files.list(id=project.id, all_=True)
    assert [f.id for f in listed] == [upload_id]
    assert [f.id for f in sdk.files.list(id=project.id, ids=[str(upload_id)])] == [upload_id]
    one = sdk.files.get(id=upload_id)
    assert one.id == upload_id and one.size == listed[0].size
    updated = sdk.files.update(id=upload_id, file=("more.json", b'[{"text": "c"}]'))
    assert updated.id == upload_id and updated.size == len(b'[{"text": "c"}]')
    sdk.files.delete(id=upload_id)
    assert sdk.files.list(id=project.id, all_=True) == []
    again = sdk.projects.import_tasks(
        id=project.id, request=[{"text": "d"}], commit_to_project=False
    )
    assert len(sdk.files.list(id=project.id, all_=True)) == len(again.file_upload_ids) == 1
    sdk.files.delete_many(id=project.id)
    assert sdk.files.list(id=project.id, all_=True) == []


def test_sdk_import_status(sdk):
    project = sdk.projects.create(title="SDK import status", label_config=TEXT_CONFIG)
    imported = sdk.projects.import_tasks(id=project.id, request=[{"text": "a"}])
    status = sdk.tasks.create_many_status(id=project.id, import_pk=imported.import_)
    assert status.status == "completed" and status.task_count == 1
    assert status.project == project.id
