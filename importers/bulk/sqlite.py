"""``SqliteWriter``: the SQLite path of the bulk writers (``importers.bulk``)."""

import json

from django.db import connection

from annotations.models import Annotation, Prediction
from importers.bulk.base import (
    ANNOTATION_INSERT_COLUMNS,
    PREDICTION_INSERT_COLUMNS,
    TASK_INSERT_COLUMNS,
    Writer,
    defaulted_fields,
    mean_score,
)
from importers.records import TaskRow
from projects.models import Project
from tasks.models import Task


class SqliteWriter(Writer):
    """``executemany`` of plain tuples: the SQLite path.

    ``bulk_create`` built a model instance per row and prepared every field through the
    ORM: of a 10k-task import with one prediction each (1.3-1.5 s in process), about 1 s
    was that machinery. Here each row is one tuple, the JSON columns are encoded as
    Django's JSONField encodes them (``json.dumps``, so the stored text is the same), and
    the columns this writer doesn't fill get their default once. bench/api_bench.py
    --client (10k tasks, SQLite): see bench/README.md.

    Task ids: the import's transaction holds SQLite's write lock (IMMEDIATE), so no other
    connection inserts between our rows and each new rowid is the largest one plus one:
    the tasks of one ``executemany`` get consecutive ids ending at ``last_insert_rowid()``
    (tests/importers check the ids against the rows).
    """

    def __init__(self, *, project: Project, user, file_upload_id: int | None = None) -> None:
        super().__init__(project=project, user=user, file_upload_id=file_upload_id)
        if not connection.in_atomic_block:
            raise RuntimeError("SqliteWriter must run inside transaction.atomic")
        self.stamp = connection.ops.adapt_datetimefield_value(self.now)
        without_id = [c for c in TASK_INSERT_COLUMNS if c != "id"]  # SQLite picks the ids
        self.task_sql, self.task_extra = _insert(Task, without_id, self.task_overrides)
        self.annotation_sql, self.annotation_extra = _insert(Annotation, ANNOTATION_INSERT_COLUMNS)
        self.prediction_sql, self.prediction_extra = _insert(Prediction, PREDICTION_INSERT_COLUMNS)

    def write(self, rows: list[TaskRow], *, first_index: int = 0) -> None:
        self.authors.prepare(rows)
        stamp, stats, pid, dumps = self.stamp, self.stats, self.project.pk, json.dumps
        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.batch):
                batch = rows[start : start + self.batch]
                tasks = []
                for row in batch:
                    done, cancelled, labeled = self._task_counts(row)
                    tasks.append(
                        (
                            pid,
                            dumps(row.data),
                            dumps(row.meta),
                            labeled,
                            done,
                            cancelled,
                            len(row.predictions),
                            mean_score(row.predictions),
                            stamp,
                            stamp,
                            *self.task_extra,
                        )
                    )
                cursor.executemany(self.task_sql, tasks)
                cursor.execute("SELECT last_insert_rowid()")
                last = cursor.fetchone()[0]
                first = last - len(tasks) + 1
                annotations, predictions = [], []
                for task_id, row in zip(range(first, last + 1), batch, strict=True):
                    for item in row.annotations:
                        author, result, was_cancelled, ground_truth, lead_time = self._annotation(
                            item
                        )
                        annotations.append(
                            (
                                task_id,
                                pid,
                                author,
                                dumps(result),
                                was_cancelled,
                                ground_truth,
                                lead_time,
                                stamp,
                                stamp,
                                *self.annotation_extra,
                            )
                        )
                    for item in row.predictions:
                        model_version, score, result = self._prediction(item)
                        predictions.append(
                            (
                                task_id,
                                pid,
                                model_version,
                                score,
                                dumps(result),
                                stamp,
                                stamp,
                                *self.prediction_extra,
                            )
                        )
                if annotations:
                    cursor.executemany(self.annotation_sql, annotations)
                if predictions:
                    cursor.executemany(self.prediction_sql, predictions)
                stats.tasks += len(tasks)
                stats.annotations += len(annotations)
                stats.predictions += len(predictions)
                self.ids.add(first, last)


def _insert(model, known: list[str], overrides: dict | None = None) -> tuple[str, tuple]:
    """An INSERT of ``known`` columns then every other column (but the primary key) at
    its default (or its value in ``overrides``), and those values as database values."""
    fields = defaulted_fields(model, known, with_pk=False)
    names = [*known, *(field.column for field in fields)]
    overrides = overrides or {}
    defaults = tuple(
        field.get_db_prep_save(overrides.get(field.column, field.get_default()), connection)
        for field in fields
    )
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join(["%s"] * len(names))
    return f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})", defaults
