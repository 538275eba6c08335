"""The COPY writer on PostgreSQL: ids, counters, the foreign-key modes, NUL characters."""

import pytest
from django.db import connection, transaction

from annotations.models import Annotation, Prediction
from importers.bulk.postgres import CopyWriter
from importers.services import tasks_import
from labelhub.errors import ApiError
from tasks.models import Task
from tests.factories import choice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _records(n: int) -> list[dict]:
    return [
        {
            "data": {"text": f"t{i}", "quote": 'say "hi"\\ \t tab'},
            "meta": {"i": i},
            "annotations": [
                {"result": choice("Positive"), "lead_time": 1.5, "ground_truth": i == 0}
            ],
            "predictions": [{"model_version": "v\t1", "score": 0.25, "result": choice("Negative")}],
        }
        for i in range(n)
    ]


def _role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def test_copy_writes_everything_and_restores_the_session(pg, project, owner, settings):
    settings.LABELHUB_IMPORT_BATCH_SIZE = 7
    result = tasks_import(project=project, records=_records(20), user=owner)
    assert (
        result.task_count == 20 and result.annotation_count == 20 and result.prediction_count == 20
    )
    ids = result.task_ids
    assert ids == sorted(ids) and len(result.ids.ranges) <= 2
    tasks = list(Task.objects.filter(project=project).order_by("id"))
    assert [t.pk for t in tasks] == ids
    assert tasks[3].data == {"text": "t3", "quote": 'say "hi"\\ \t tab'} and tasks[3].meta == {
        "i": 3
    }
    assert (
        tasks[3].is_labeled and tasks[3].total_annotations == 1 and tasks[3].total_predictions == 1
    )
    prediction = Prediction.objects.get(task=tasks[3])
    assert (prediction.model_version, prediction.score) == ("v\t1", 0.25)
    annotation = Annotation.objects.get(task=tasks[0])
    assert (
        annotation.completed_by == owner and annotation.ground_truth and annotation.lead_time == 1.5
    )
    project.refresh_from_db()
    assert (project.task_number, project.ground_truth_number, project.total_predictions_number) == (
        20,
        1,
        20,
    )
    assert _role() == "origin"


def test_without_the_right_to_skip_triggers_the_foreign_keys_are_checked(pg, project, owner):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE labelhub_test_limited")
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO labelhub_test_limited")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO labelhub_test_limited")
        cursor.execute("SET LOCAL ROLE labelhub_test_limited")
    with transaction.atomic():
        writer = CopyWriter(project=project, user=owner)
        writer.close()
        assert writer.replica_role is None
    result = tasks_import(project=project, records=_records(3), user=owner)
    assert result.task_count == 3
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_nul_character_is_a_located_400(pg, project, owner):
    records = [{"text": "fine"}, {"text": "bad \u0000 byte"}]
    with pytest.raises(ApiError) as caught:
        tasks_import(project=project, records=records, user=owner)
    assert caught.value.errors[0]["record"] == 1
    assert not Task.objects.filter(project=project).exists()


def test_ids_never_collide_with_other_inserts(pg, project, owner):
    first = tasks_import(project=project, records=[{"text": "a"}] * 5, user=owner).task_ids
    Task.objects.create(project=project, data={"text": "between"})
    second = tasks_import(project=project, records=[{"text": "b"}] * 5, user=owner).task_ids
    assert not set(first) & set(second)
    assert Task.objects.filter(project=project).count() == 11


def test_authors_looked_up_between_batches(pg, project, owner, annotator, reviewer, settings):
    """Author lookups run on the import's connection while COPY batches are in flight."""
    settings.LABELHUB_IMPORT_BATCH_SIZE = 5
    people = [
        None,
        annotator.email,
        reviewer.pk,
        "stranger@example.com",
        {"email": annotator.email.upper()},
    ]
    records = [
        {
            "data": {"text": str(i)},
            "annotations": [{"result": choice("Positive"), "completed_by": people[i % 5]}],
        }
        for i in range(60)
    ]
    result = tasks_import(project=project, records=records, user=owner)
    assert result.annotation_count == 60
    authors = list(
        Annotation.objects.filter(project=project)
        .order_by("task_id")
        .values_list("completed_by_id", flat=True)
    )
    assert authors[:5] == [owner.pk, annotator.pk, reviewer.pk, owner.pk, annotator.pk]


def test_duplicate_lookups_between_batches(pg, api, image_project, settings, monkeypatch):
    """A manifest's duplicate checks query the database while COPY batches are in flight."""
    from importers.manifests import DuplicateFilter

    settings.LABELHUB_IMPORT_BATCH_SIZE = 5
    monkeypatch.setattr(DuplicateFilter, "BATCH", 7)
    entries = [{"objectUrl": f"https://x.example/{i % 40}.png"} for i in range(60)]
    body = {"images": entries, "skip_duplicate_urls": True}
    response = api.post(f"/api/projects/{image_project.pk}/import", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["task_count"] == 40 and response.json()["skipped_count"] == 20
    again = api.post(f"/api/projects/{image_project.pk}/import", body, format="json").json()
    assert again["task_count"] == 0 and again["skipped_count"] == 60
