"""What every bulk writer shares (``importers.bulk``): the columns they fill, the task ids
they made (``IdRanges``), the authors of imported annotations, and the ``Writer`` base
with the per-row helpers and the end of an import (``finish``: counters, data keys,
result index, events)."""

import threading
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from annotations.counters import is_labeled, project_counters_add, skips_count
from annotations.result_index import result_index_fill
from importers.records import TaskRow
from labelhub import events
from projects.models import Project
from tasks.services import task_data_keys_add

ORM_BATCH = 2000
# The columns the writers fill (the rest get their defaults), in the order of their values:
# what an INSERT or COPY writes, not a JSON shape (those are tasks.representations' and
# annotations.representations').
TASK_INSERT_COLUMNS = [
    "id",
    "project_id",
    "data",
    "meta",
    "is_labeled",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "prediction_score",
    "created_at",
    "updated_at",
]
ANNOTATION_INSERT_COLUMNS = [
    "task_id",
    "project_id",
    "completed_by_id",
    "result",
    "was_cancelled",
    "ground_truth",
    "lead_time",
    "created_at",
    "updated_at",
]
PREDICTION_INSERT_COLUMNS = [
    "task_id",
    "project_id",
    "model_version",
    "score",
    "result",
    "created_at",
    "updated_at",
]
_active = threading.local()


def connection_idle() -> None:
    """Call before querying the default connection during an import: while a COPY
    writer of this thread has batches in flight, wait until its thread has sent them
    (two threads must never talk to the server over one connection at once)."""
    writer = getattr(_active, "writer", None)
    if writer is not None:
        writer.quiesce()


class IdRanges:
    """Task ids as sorted ``[first, last]`` ranges: 1M contiguous ids cost one pair."""

    def __init__(self) -> None:
        self.ranges: list[list[int]] = []
        self.count = 0

    def add(self, first: int, last: int) -> None:
        if self.ranges and self.ranges[-1][1] + 1 == first:
            self.ranges[-1][1] = last
        else:
            self.ranges.append([first, last])
        self.count += last - first + 1

    def extend(self, ids: Iterable[int]) -> None:
        for pk in ids:
            self.add(pk, pk)

    def __iter__(self):
        for first, last in self.ranges:
            yield from range(first, last + 1)


class _Stats:
    def __init__(self) -> None:
        self.tasks = self.annotations = self.predictions = 0
        self.labeled = self.ground_truth = self.skipped = 0


class _Authors:
    """Map the ``completed_by`` values in the input to members of the project.

    An exported id or email is kept when it names a member (so an export re-imported on
    the same server keeps its authors); anything else becomes the importing user. Looked
    up once per distinct value, one query per batch that brings new values.
    """

    def __init__(self, project: Project, default_id: int) -> None:
        self.project = project
        self.default_id = default_id
        self.known: dict = {}
        self.asked: set = set()

    @staticmethod
    def _who(annotation: dict):
        who = annotation.get("completed_by")
        if isinstance(who, dict):
            who = who.get("email") or who.get("id")
        if isinstance(who, str):
            return who.lower()
        if isinstance(who, int) and not isinstance(who, bool):
            return who
        return None

    def pending(self, rows: list[TaskRow]) -> set:
        """Author values in these rows not looked up yet."""
        return {
            who
            for row in rows
            for annotation in row.annotations
            if (who := self._who(annotation)) is not None and who not in self.asked
        }

    def prepare(self, rows: list[TaskRow]) -> None:
        wanted = self.pending(rows)
        if not wanted:
            return
        self.asked |= wanted
        members = get_user_model().objects.filter(memberships__project=self.project).distinct()
        ids = [w for w in wanted if isinstance(w, int)]
        emails = [w for w in wanted if isinstance(w, str)]
        for pk in members.filter(pk__in=ids).values_list("pk", flat=True):
            self.known[pk] = pk
        for pk, email in members.filter(email__in=emails).values_list("pk", "email"):
            self.known[email.lower()] = pk

    def author(self, annotation: dict) -> int:
        return self.known.get(self._who(annotation), self.default_id)


class Writer:
    """The writers' interface (``write(rows)``, ``finish()``, ``close()``) and what they
    share; ``batch`` is the rows per statement of the row-at-a-time writers."""

    batch = ORM_BATCH

    def __init__(self, *, project: Project, user, file_upload_id: int | None = None) -> None:
        self.project = project
        # One value for every task this writer makes (the file they came from): a
        # constant of the INSERT or COPY line, like the columns left at their defaults.
        self.file_upload_id = file_upload_id
        self.task_overrides = {"file_upload_id": file_upload_id} if file_upload_id else {}
        self.maximum = project.maximum_annotations
        self.skips_count = skips_count(project)
        self.authors = _Authors(project, user.pk)
        self.now = timezone.now()
        self.stats = _Stats()
        self.ids = IdRanges()
        self.data_keys: dict[str, None] = {}

    def _seen(self, data: dict) -> None:
        """Note the row's data keys (a C-level subset test per row; a new key is rare)."""
        if not self.data_keys.keys() >= data.keys():
            self.data_keys.update(dict.fromkeys(data))

    def _task_counts(self, row: TaskRow) -> tuple[int, int, bool]:
        """(completed, cancelled, is_labeled) of a row's annotations; notes its data keys
        and whether it is labeled. The row-at-a-time writers share this and the two below
        (``CopyWriter`` keeps its loop inline: it is the 1M-task path)."""
        self._seen(row.data)
        done = sum(1 for a in row.annotations if not a.get("was_cancelled"))
        self.stats.labeled += done > 0
        skipped = len(row.annotations) - done
        labeled = is_labeled(done, self.maximum, cancelled=skipped if self.skips_count else 0)
        return done, skipped, labeled

    def _annotation(self, item: dict) -> tuple[int, Any, bool, bool, Any]:
        """(author id, result, was_cancelled, ground_truth, lead_time) of an imported
        annotation; counts the skipped and ground-truth ones."""
        cancelled = bool(item.get("was_cancelled", False))
        ground_truth = bool(item.get("ground_truth", False))
        self.stats.ground_truth += ground_truth
        self.stats.skipped += cancelled
        author = self.authors.author(item)
        return author, item.get("result") or [], cancelled, ground_truth, item.get("lead_time")

    @staticmethod
    def _prediction(item: dict) -> tuple[str, Any, Any]:
        """(model_version, score, result) of an imported prediction."""
        return str(item.get("model_version") or ""), item.get("score"), item.get("result") or []

    def finish(self) -> None:
        """Move the project's counters and its data-key list once and index the results
        (one INSERT ... SELECT per table and range of new task ids), in the import's
        transaction."""
        stats = self.stats
        task_data_keys_add(project_id=self.project.pk, keys=self.data_keys)
        if stats.annotations or stats.predictions:
            result_index_fill(project_id=self.project.pk, task_ranges=self.ids.ranges)
        for first, last in self.ids.ranges:
            events.publish(
                events.TASKS_CREATED, project_id=self.project.pk, ids=range(first, last + 1)
            )
        project_counters_add(
            project_id=self.project.pk,
            tasks=stats.tasks,
            tasks_with_annotations=stats.labeled,
            annotations=stats.annotations - stats.skipped,
            skipped=stats.skipped,
            ground_truth=stats.ground_truth,
            predictions=stats.predictions,
        )

    def write(self, rows: list[TaskRow], *, first_index: int = 0) -> None:
        raise NotImplementedError

    def quiesce(self) -> None:
        """Wait until every batch handed to the writer has reached the database (one
        without a thread of its own has nothing in flight)."""

    def close(self) -> None:
        """Release threads and side connections (also after an error)."""

    def _activate(self) -> None:
        """Make this the thread's writer in flight, which ``connection_idle`` waits for."""
        _active.writer = self

    def _deactivate(self) -> None:
        if getattr(_active, "writer", None) is self:
            _active.writer = None


def defaulted_fields(model, known: list[str], *, with_pk: bool) -> list:
    """The model's columns a writer leaves to their Python default: not in ``known``, not
    the primary key (unless ``with_pk``), not filled by the database itself."""
    return [
        field
        for field in model._meta.concrete_fields
        if field.column not in known
        and not (field.primary_key and not with_pk)
        and getattr(field, "db_default", NOT_PROVIDED) is NOT_PROVIDED
    ]


def mean_score(predictions: list[dict]) -> float | None:
    """Task.prediction_score: the mean of the predictions' scores (AVG: nulls ignored)."""
    scores = [p["score"] for p in predictions if p.get("score") is not None]
    return sum(scores) / len(scores) if scores else None
