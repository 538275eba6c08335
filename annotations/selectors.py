"""Reads of tasks with what they nest (annotations, reviews, predictions)."""

from django.db.models import Prefetch, QuerySet

from annotations.models import Annotation, Prediction
from projects.permissions import READ_ALL_ANNOTATIONS, can, may_see_predictions
from tasks.models import Task

ORDERINGS = {
    "id": ("id",),
    "-id": ("-id",),
    # completed_at: when the task was last annotated; updated_at moves with each annotation.
    "completed_at": ("updated_at", "id"),
    "-completed_at": ("-updated_at", "-id"),
}


def task_queryset(*, project, order: str = "id") -> QuerySet:
    return Task.objects.filter(project=project).order_by(*ORDERINGS.get(order, ("id",)))


def with_nested(queryset: QuerySet, *, user, project) -> QuerySet:
    """Prefetch what a full task nests; annotators see only their own annotations."""
    annotations = Annotation.objects.order_by("id").prefetch_related("reviews")
    if not can(user, project, READ_ALL_ANNOTATIONS):
        annotations = annotations.filter(completed_by=user)
    predictions = Prediction.objects.order_by("id")
    if not may_see_predictions(user, project):
        predictions = predictions.none()
    return queryset.prefetch_related(
        Prefetch("annotations", queryset=annotations),
        Prefetch("predictions", queryset=predictions),
    )


def user_annotations(*, project, user, before: int | None = None, limit: int = 50) -> list[dict]:
    """``user``'s own annotations (skips included) in ``project``, newest first, for the
    Label Stream's "My annotations": at most ``limit``, with ids below ``before``
    (keyset paging). Each row names its task and a short preview of the task's text.

    The filter walks the (project, completed_by, ...) index; one user's annotations in
    one project are a day's work, so the sort by id is small."""
    rows = Annotation.objects.filter(project=project, completed_by=user)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    rows = rows.select_related("task").order_by("-id")[:limit]
    return [
        {
            "id": row.pk,
            "task": row.task_id,
            "was_cancelled": row.was_cancelled,
            "result_count": len(row.result or []),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "preview": task_preview(row.task.data),
        }
        for row in rows
    ]


def task_preview(data: dict, length: int = 80) -> str:
    """The first text value of a task's data, cut to ``length`` characters."""
    for value in (data or {}).values():
        if isinstance(value, str) and value:
            return value if len(value) <= length else value[: length - 1] + "…"
    return ""
