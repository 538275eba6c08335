"""The import service: validate every record first, then insert all in one transaction."""

import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import Annotation, Prediction
from importers.records import TaskRow, record_normalize
from labelhub.errors import MAX_ERRORS, ApiError
from projects.label_config import ParsedConfig
from projects.models import Project
from tasks.models import Task

BATCH_SIZE = 2000


@dataclass
class ImportResult:
    task_count: int = 0
    annotation_count: int = 0
    prediction_count: int = 0
    duration: float = 0.0
    task_ids: list[int] = field(default_factory=list)

    def as_dict(self, *, with_task_ids: bool = False) -> dict:
        body = {
            "task_count": self.task_count,
            "annotation_count": self.annotation_count,
            "prediction_count": self.prediction_count,
            "duration": round(self.duration, 3),
        }
        if with_task_ids:
            body["task_ids"] = self.task_ids
        return body


def records_validate(*, project: Project, records) -> list[TaskRow]:
    """Normalize every record; raise one 400 listing up to 100 located errors."""
    parsed = ParsedConfig.from_dict(project.parsed_config)
    rows: list[TaskRow] = []
    errors: list[dict] = []
    for index, record in enumerate(records):
        row, record_errors = record_normalize(parsed, index, record)
        if record_errors:
            errors.extend(record_errors)
        elif not errors:
            rows.append(row)
    if errors:
        first = errors[0]
        where = f"record {first['record']}" + (f", {first['field']}" if first.get("field") else "")
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        raise ApiError(
            f"Import failed, nothing was imported: {where}: {first['message']}{more}",
            errors[:MAX_ERRORS],
        )
    if not rows:
        raise ApiError("Import failed: no tasks found in the input.")
    return rows


def _annotators(*, project: Project, rows: list[TaskRow], user) -> dict:
    """Map the ``completed_by`` values in the input to users of this project.

    An exported id or email is kept when it names a member of the project (so an export
    re-imported on the same server keeps its authors); anything else is the importer.
    """
    wanted_ids, wanted_emails = set(), set()
    for row in rows:
        for annotation in row.annotations:
            who = annotation.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            if isinstance(who, int) and not isinstance(who, bool):
                wanted_ids.add(who)
            elif isinstance(who, str):
                wanted_emails.add(who.lower())
    if not wanted_ids and not wanted_emails:
        return {}
    User = get_user_model()
    members = User.objects.filter(memberships__project=project).distinct()
    found: dict = {}
    for member in members.filter(pk__in=wanted_ids):
        found[member.pk] = member.pk
    for member in members.filter(email__in=wanted_emails):
        found[member.email.lower()] = member.pk
    return found


def _author(annotation: dict, known: dict, default_id: int):
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    if isinstance(who, str):
        who = who.lower()
    return known.get(who, default_id)


@transaction.atomic
def rows_insert(*, project: Project, rows: list[TaskRow], user) -> ImportResult:
    """Insert validated rows with bulk_create in batches, then move the counters once."""
    started = time.monotonic()
    result = ImportResult()
    maximum = project.maximum_annotations
    known = _annotators(project=project, rows=rows, user=user)
    now = timezone.now()
    labeled_tasks = gt_count = skipped = 0
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        tasks = []
        for row in batch:
            done = sum(1 for a in row.annotations if not a.get("was_cancelled"))
            tasks.append(
                Task(
                    project=project,
                    data=row.data,
                    meta=row.meta,
                    total_annotations=done,
                    cancelled_annotations=len(row.annotations) - done,
                    total_predictions=len(row.predictions),
                    is_labeled=done >= maximum,
                    created_at=now,
                    updated_at=now,
                )
            )
            labeled_tasks += done > 0
        Task.objects.bulk_create(tasks, batch_size=BATCH_SIZE)
        annotations, predictions = [], []
        for task, row in zip(tasks, batch, strict=True):
            for item in row.annotations:
                cancelled = bool(item.get("was_cancelled", False))
                ground_truth = bool(item.get("ground_truth", False))
                gt_count += ground_truth
                skipped += cancelled
                annotations.append(
                    Annotation(
                        task=task,
                        project=project,
                        completed_by_id=_author(item, known, user.pk),
                        result=item.get("result") or [],
                        was_cancelled=cancelled,
                        ground_truth=ground_truth,
                        lead_time=item.get("lead_time"),
                        created_at=now,
                        updated_at=now,
                    )
                )
            for item in row.predictions:
                predictions.append(
                    Prediction(
                        task=task,
                        project=project,
                        result=item.get("result") or [],
                        score=item.get("score"),
                        model_version=str(item.get("model_version") or ""),
                        created_at=now,
                        updated_at=now,
                    )
                )
        Annotation.objects.bulk_create(annotations, batch_size=BATCH_SIZE)
        Prediction.objects.bulk_create(predictions, batch_size=BATCH_SIZE)
        result.task_count += len(tasks)
        result.annotation_count += len(annotations)
        result.prediction_count += len(predictions)
        result.task_ids.extend(task.pk for task in tasks)
    Project.objects.filter(pk=project.pk).update(
        task_number=F("task_number") + result.task_count,
        num_tasks_with_annotations=F("num_tasks_with_annotations") + labeled_tasks,
        total_annotations_number=F("total_annotations_number") + result.annotation_count - skipped,
        skipped_annotations_number=F("skipped_annotations_number") + skipped,
        ground_truth_number=F("ground_truth_number") + gt_count,
        total_predictions_number=F("total_predictions_number") + result.prediction_count,
    )
    result.duration = time.monotonic() - started
    return result


def tasks_import(*, project: Project, records, user) -> ImportResult:
    """Validate all records, then insert them all, or raise a 400 and write nothing."""
    started = time.monotonic()
    rows = records_validate(project=project, records=records)
    result = rows_insert(project=project, rows=rows, user=user)
    result.duration = time.monotonic() - started
    return result

