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
