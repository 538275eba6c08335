"""Data Manager actions: each answers {processed_items, detail} and leaves the counters
right."""

import pytest

from annotations.counters import project_counters_refresh
from annotations.models import Annotation, Prediction, Review
from tasks.models import Task
from tests.factories import item

pytestmark = pytest.mark.django_db


def run(api, world, action, selected=None, filters=None, **extra):
    body = {"selectedItems": selected if selected is not None else {"all": True}, **extra}
    if filters:
        body["filters"] = {"conjunction": "and", "items": filters}
    response = api.post(
        f"/api/dm/actions/?id={action}&project={world.project.pk}", body, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"processed_items", "detail"}
    return body


def counters(project):
    """The project's counters as kept, and as recounted from the rows."""
    project.refresh_from_db()
    kept = {
        f: getattr(project, f)
        for f in (
            "task_number",
            "num_tasks_with_annotations",
            "total_annotations_number",
            "total_predictions_number",
            "ground_truth_number",
            "skipped_annotations_number",
        )
    }
    project_counters_refresh(project_id=project.pk)
    project.refresh_from_db()
    fresh = {f: getattr(project, f) for f in kept}
    return kept, fresh


def task_counters_ok(project):
    for task in Task.objects.filter(project=project):
        anns = Annotation.objects.filter(task=task)
        assert task.total_annotations == anns.filter(was_cancelled=False).count()
        assert task.cancelled_annotations == anns.filter(was_cancelled=True).count()
        assert task.total_predictions == Prediction.objects.filter(task=task).count()
        assert task.is_labeled == (task.total_annotations >= project.maximum_annotations)


def test_delete_selected_tasks(api, world):
    body = run(api, world, "delete_tasks", {"all": False, "included": world.ids[:2]})
    assert body["processed_items"] == 2
    assert not Task.objects.filter(pk__in=world.ids[:2]).exists()
    kept, fresh = counters(world.project)
    assert kept == fresh and kept["task_number"] == 4


def test_delete_filtered_tasks_with_exclusions(api, world):
    body = run(
        api,
        world,
        "delete_tasks",
        {"all": True, "excluded": [world.ids[2]]},
        filters=[item("annotations_results", "contains", "Cat")],
    )
    assert body["processed_items"] == 2
    assert set(Task.objects.filter(project=world.project).values_list("id", flat=True)) == set(
        world.ids[2:]
    )


def test_selected_items_are_required(api, world):
    response = api.post(
        f"/api/dm/actions/?id=delete_tasks&project={world.project.pk}", {}, format="json"
    )
    assert response.status_code == 400
    assert (
        api.post(
            f"/api/dm/actions/?id=nope&project={world.project.pk}",
            {"selectedItems": {"all": True}},
            format="json",
        ).status_code
        == 400
    )
    assert Task.objects.filter(project=world.project).count() == 6
    for action in ("delete_tasks", "remove_duplicates"):
        response = api.post(
            f"/api/dm/actions/?id={action}&project={world.project.pk}", {}, format="json"
        )
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == (
            "selectedItems"
        )


def test_missing_selection_means_every_task_for_other_actions(api, world):
    """Label Studio's meaning (its storage tests call delete_tasks_annotations bare)."""
    response = api.post(f"/api/dm/actions/?id=delete_tasks_annotations&project={world.project.pk}")
    assert response.status_code == 200, response.content
    assert not Annotation.objects.filter(project=world.project).exists()
    assert Task.objects.filter(project=world.project).count() == 6
    task_counters_ok(world.project)


def test_delete_annotations(api, world):
    body = run(api, world, "delete_tasks_annotations", {"all": False, "included": world.ids[:2]})
    assert body["processed_items"] == 3
    assert (
        not Review.objects.exists()
        or not Review.objects.filter(annotation__task_id__in=world.ids[:2]).exists()
    )
    task_counters_ok(world.project)
    kept, fresh = counters(world.project)
    assert kept == fresh and kept["total_annotations_number"] == 1


def test_delete_predictions(api, world):
    body = run(api, world, "delete_tasks_predictions")
    assert body["processed_items"] == 3 and not Prediction.objects.exists()
    task_counters_ok(world.project)
    assert not Task.objects.filter(prediction_score__isnull=False).exists()
    kept, fresh = counters(world.project)
    assert kept == fresh


def test_predictions_to_annotations(api, world, owner):
    body = run(api, world, "predictions_to_annotations", {"all": False, "included": world.ids[:3]})
    assert body["processed_items"] == 3
    copies = Annotation.objects.filter(completed_by=owner, parent_prediction__isnull=False)
    assert copies.count() == 3
    assert copies.get(task_id=world.ids[1]).result[0]["value"]["rectanglelabels"] == ["Dog"]
    again = run(api, world, "predictions_to_annotations", {"all": False, "included": world.ids[:3]})
    assert again["processed_items"] == 0
    task_counters_ok(world.project)
    kept, fresh = counters(world.project)
    assert kept == fresh


def test_predictions_to_annotations_of_one_model(api, world, owner):
    body = run(api, world, "predictions_to_annotations", model_version="m2")
    assert body["processed_items"] == 1


def test_mark_and_unmark_ground_truth(api, world):
    body = run(api, world, "mark_ground_truth")
    # t0 and t1 get their latest completion; t2 already has ground truth; t3 is skipped only
    assert body["processed_items"] == 2
    assert Annotation.objects.get(pk=world.annotations["t1_cat"].pk).ground_truth
    assert not Annotation.objects.get(pk=world.annotations["t1_dog"].pk).ground_truth
    kept, fresh = counters(world.project)
    assert kept == fresh and kept["ground_truth_number"] == 3
    body = run(api, world, "unmark_ground_truth", {"all": False, "included": world.ids[:2]})
    assert body["processed_items"] == 2
    kept, fresh = counters(world.project)
    assert kept == fresh and kept["ground_truth_number"] == 1


def test_remove_duplicates(api, world, owner):
    from annotations.services import annotation_create
    from importers.services import tasks_import
    from tests.factories import box

    dup_ids = tasks_import(
        project=world.project,
        records=[
            {"data": world.tasks[0].data},
            {"data": world.tasks[0].data},
            {"data": world.tasks[4].data},
        ],
        user=owner,
    ).task_ids
    annotation_create(task=Task.objects.get(pk=dup_ids[0]), user=owner, result=[box("Dog")])
    body = run(api, world, "remove_duplicates")
    assert body["processed_items"] == 3
    assert set(Task.objects.filter(project=world.project).values_list("id", flat=True)) == set(
        world.ids
    )
    assert Task.objects.get(pk=world.ids[0]).total_annotations == 2
    task_counters_ok(world.project)
    kept, fresh = counters(world.project)
    assert kept == fresh and kept["task_number"] == 6
