"""The Data Manager task list's Label Studio columns (data_manager/api_tasks.tavern.yml,
data_import.hypertext.tavern.yml): annotation ids, results and model versions as
Label Studio's strings, the caller's drafts, the empty comment and file fields, and with
``fields=all`` Label Studio's ``created_username``/``created_ago`` and the predictions'
empty ``cluster``/``neighbors``/``mislabeling``."""

import pytest

from annotations.services import annotation_create, draft_save, prediction_create
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def labeled(project, owner, annotator):
    task = Task.objects.create(project=project, data={"text": "a"})
    Task.objects.create(project=project, data={"text": "b"})
    first = annotation_create(task=task, user=owner, result=choice("Positive"))
    second = annotation_create(task=task, user=annotator, result=choice("Negative"))
    prediction_create(task=task, result=choice("Positive"), model_version="m1")
    draft_save(task=task, user=owner, result=choice("Neutral"))
    draft_save(task=task, user=annotator, result=choice("Neutral"))
    return project, task, first, second


def test_rows_carry_label_studios_strings(api, labeled, owner):
    project, task, first, second = labeled
    rows = api.get(f"/api/tasks?project={project.pk}").json()["tasks"]
    row, empty = rows
    assert row["annotations_ids"] == f"{first.pk},{second.pk}"
    # Each annotation's result list, in id order, joined by commas, without double quotes
    # (the keys' order is the database's: PostgreSQL's jsonb sorts them).
    first_list, second_list = row["annotations_results"].split("}],[{")
    assert first_list.startswith("[{") and second_list.endswith("}]")
    for part in ("from_name: sentiment", "to_name: text", "type: choices"):
        assert part in first_list and part in second_list
    assert "choices: [Positive]" in first_list and "choices: [Negative]" in second_list
    assert '"' not in row["annotations_results"]
    assert "{choices: [Positive]}" in row["predictions_results"]
    assert row["predictions_model_versions"] == "m1"
    assert [d["user"] for d in row["drafts"]] == [owner.email]  # the caller's own only
    assert (row["inner_id"], row["file_upload"], row["comment_count"]) == (task.pk, None, 0)
    assert (row["updated_by"], row["comment_authors"], row["overlap"]) == ([], [], 1)
    assert (empty["annotations_ids"], empty["annotations_results"]) == ("", "")
    assert (empty["predictions_model_versions"], empty["drafts"]) == ("", [])

    full = api.get(f"/api/tasks?project={project.pk}&fields=all").json()["tasks"][0]
    assert full["annotations_ids"] == row["annotations_ids"]
    assert full["annotations"][0]["created_username"] == f" {owner.email}, {owner.pk}"
    assert full["annotations"][0]["created_ago"] == "0\u00a0minutes"
    prediction = full["predictions"][0]
    assert (prediction["cluster"], prediction["neighbors"], prediction["mislabeling"]) == (
        None,
        None,
        0.0,
    )


def test_annotators_strings_hold_only_their_own(client_for, labeled, annotator):
    project, task, first, second = labeled
    project.show_predictions_to_annotators = False
    project.save(update_fields=["show_predictions_to_annotators"])
    rows = client_for(annotator).get(f"/api/tasks?project={project.pk}").json()["tasks"]
    mine = next(r for r in rows if r["id"] == task.pk)
    assert mine["annotations_ids"] == str(second.pk)
    assert "Positive" not in mine["annotations_results"]
    assert mine["predictions_results"] == "" and mine["predictions_model_versions"] == ""


def test_the_data_managers_task_nests_annotators_as_objects(api, labeled, owner):
    """``/api/tasks/{id}?project=`` (the Data Manager's task) nests each annotator as
    an object, as Label Studio's DataManagerTaskSerializer does; without ``project`` it
    stays the id (filters/annotation_results.tavern.yml)."""
    project, task, first, second = labeled
    detail = api.get(f"/api/tasks/{task.pk}?project={project.pk}").json()
    by_id = {a["id"]: a["completed_by"] for a in detail["annotations"]}
    assert by_id[first.pk]["email"] == owner.email and by_id[first.pk]["id"] == owner.pk
    plain = api.get(f"/api/tasks/{task.pk}").json()
    assert {a["completed_by"] for a in plain["annotations"]} == {owner.pk, second.completed_by_id}
