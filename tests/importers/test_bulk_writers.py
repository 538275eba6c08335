"""The import writers on either database (COPY on PostgreSQL, executemany on SQLite):
every annotation and prediction lands on its own task, over several batches, after
other tasks."""

import pytest
from django.db import connection

from annotations.models import Annotation, Prediction
from importers.bulk.base import Writer
from importers.services import tasks_import
from tasks.models import Task
from tests.factories import choice

pytestmark = pytest.mark.django_db


def _records(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "data": {"text": f"t{i}", "quote": 'say "hi"\\ \t tab é'},
            "meta": {"i": i},
            "annotations": [
                {
                    "result": choice("Positive" if i % 2 else "Negative"),
                    "lead_time": float(i),
                    "was_cancelled": i % 5 == 0,
                }
            ],
            "predictions": [{"model_version": f"v{i}", "score": i / 10_000, "result": []}],
        }
        for i in range(start, start + n)
    ]


def test_rows_land_on_their_own_tasks_across_batches(project, owner, monkeypatch):
    monkeypatch.setattr(Writer, "batch", 7)
    tasks_import(project=project, records=_records(3), user=owner)  # ids don't start at 1
    result = tasks_import(project=project, records=_records(30, start=100), user=owner)
    assert (result.task_count, result.annotation_count, result.prediction_count) == (30, 30, 30)
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=result.task_ids)}
    assert sorted(tasks) == result.task_ids and len(tasks) == 30
    for task in tasks.values():
        i = task.meta["i"]
        assert task.data == {"text": f"t{i}", "quote": 'say "hi"\\ \t tab é'}
        annotation = Annotation.objects.get(task=task)
        assert annotation.lead_time == float(i) and annotation.was_cancelled == (i % 5 == 0)
        assert annotation.project_id == project.pk and annotation.completed_by == owner
        assert (task.total_annotations, task.cancelled_annotations) == (
            (0, 1) if i % 5 == 0 else (1, 0)
        )
        prediction = Prediction.objects.get(task=task)
        assert (prediction.model_version, prediction.score) == (f"v{i}", i / 10_000)
        assert task.prediction_score == i / 10_000 and task.total_predictions == 1
    project.refresh_from_db()
    assert project.task_number == 33


def test_sqlite_stores_json_as_the_orm_does(project, owner):
    """The JSON text in the columns is Django's JSONField encoding, whichever writer
    wrote it, so filters that read the text see the same bytes."""
    tasks_import(project=project, records=_records(2), user=owner)
    written = Task.objects.filter(project=project).order_by("pk").first()
    orm = Task.objects.create(project=project, data=written.data, meta=written.meta)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data, meta FROM tasks_task WHERE id IN (%s, %s) ORDER BY id",
            [written.pk, orm.pk],
        )
        imported, created = cursor.fetchall()
    assert imported == created
