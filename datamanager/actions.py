"""Data Manager actions: a registry of plain functions ``fn(project, queryset, **params)``.

``queryset`` is the project's tasks left by the request's filters and selection (the same
engine as the list). Each function runs in one transaction, recounts what it changed, and
answers ``{"processed_items": n, "detail": "..."}`` as Label Studio's actions do.
``POST /api/dm/actions/?id=<action>&project=<id>`` runs one (datamanager.api).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, Min, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from annotations import quality
from annotations.counters import project_counters_refresh, tasks_counters_recount
from annotations.ground_truth import ground_truth_set
from annotations.models import Annotation, AnnotationDraft, Prediction
from labelhub import events, registrations
from labelhub.errors import ApiError
from projects import permissions as perms
from tasks.models import Task

BATCH = 1000


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    fn: Callable[..., dict]
    order: int
    permission: str = perms.MANAGE
    dialog: dict | None = field(default=None)
    # Whether a request must name its tasks (``selectedItems``). Label Studio reads a
    # missing selection as every task of the view; LabelHub does too, except for the
    # actions that delete tasks, where a forgotten selection would empty the project.
    needs_selection: bool = False

    def describe(self) -> dict:
        """The entry of ``GET /api/dm/actions/``, in Label Studio's shape."""
        return {
            "id": self.id,
            "title": self.title,
            "order": self.order,
            "permission": self.permission,
            "experimental": False,
            "dialog": self.dialog,
        }


ACTIONS: dict[str, Action] = {}


def action(
    id: str, title: str, *, order: int, dialog: str | None = None, needs_selection: bool = False
):
    def register(fn):
        ACTIONS[id] = Action(
            id,
            title,
            fn,
            order,
            dialog={"text": dialog, "type": "confirm"} if dialog else None,
            needs_selection=needs_selection,
        )
        return fn

    return register


def _ids(queryset: QuerySet) -> list[int]:
    return list(queryset.order_by("id").values_list("id", flat=True))


def _batches(ids: list[int]):
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _result(n: int, detail: str) -> dict:
    return {"processed_items": n, "detail": detail}


@action(
    "delete_tasks",
    "Delete tasks",
    order=100,
    dialog="You are going to delete the selected tasks. Please confirm your action.",
    needs_selection=True,
)
def delete_tasks(project, queryset: QuerySet, **params) -> dict:
    """Delete tasks with their annotations, predictions and reviews, a batch at a time,
    after taking them out of the quality figures; then recount the project's counters."""
    deleted = 0
    ids = _ids(queryset)
    quality.tasks_figures_remove(project=project, task_ids=ids)
    for batch in _batches(ids):
        deleted += (
            Task.objects.filter(project=project, pk__in=batch).delete()[1].get("tasks.Task", 0)
        )
    project_counters_refresh(project_id=project.pk)
    events.publish(events.TASKS_DELETED, project_id=project.pk, ids=ids)
    return _result(deleted, f"Deleted {deleted} tasks")


@action(
    "delete_tasks_annotations",
    "Delete annotations",
    order=101,
    dialog="You are going to delete all annotations from the selected tasks.",
)
def delete_tasks_annotations(project, queryset: QuerySet, **params) -> dict:
    return _delete_from_tasks(project, queryset, Annotation, "annotations")


@action(
    "delete_tasks_predictions",
    "Delete predictions",
    order=102,
    dialog="You are going to delete all predictions from the selected tasks.",
)
def delete_tasks_predictions(project, queryset: QuerySet, **params) -> dict:
    return _delete_from_tasks(project, queryset, Prediction, "predictions")


def _delete_from_tasks(project, queryset: QuerySet, rows: type[Model], noun: str) -> dict:
    """Delete the selected tasks' annotations or predictions, then recount the tasks.
    Annotations go with every draft of their tasks (the annotations' own by cascade, and
    the drafts of new annotations), as Label Studio's action deletes them."""
    ids = _ids(queryset)
    deleted = 0
    gone: list[int] = []
    for batch in _batches(ids):
        if rows is Annotation:
            gone += Annotation.objects.filter(task_id__in=batch).values_list("pk", flat=True)
            AnnotationDraft.objects.filter(task_id__in=batch, annotation=None).delete()
        deleted += rows.objects.filter(task_id__in=batch).delete()[1].get(rows._meta.label, 0)
    tasks_counters_recount(project=project, task_ids=ids)
    events.publish(events.ANNOTATIONS_DELETED, project_id=project.pk, ids=gone)
    return _result(deleted, f"Deleted {deleted} {noun}")


@action(
    "predictions_to_annotations",
    "Create annotations from predictions",
    order=90,
    dialog="Each selected task gets an annotation by you copied from its latest prediction.",
)
def predictions_to_annotations(
    project, queryset: QuerySet, *, user=None, model_version: str | None = None, **params
) -> dict:
    """Copy each task's latest prediction (of ``model_version`` when given) into an
    annotation by ``user``, with ``parent_prediction`` set. A task that already has this
    user's copy of that prediction is left alone, so running it twice adds nothing."""
    predictions = Prediction.objects.filter(task=OuterRef("pk"))
    if model_version:
        predictions = predictions.filter(model_version=model_version)
    ids = _ids(queryset)
    created = 0
    now = timezone.now()
    for batch in _batches(ids):
        latest = (
            Task.objects.filter(pk__in=batch)
            .annotate(prediction_id=Subquery(predictions.order_by("-id").values("id")[:1]))
            .filter(prediction_id__isnull=False)
            .values_list("prediction_id", flat=True)
        )
        done = set(
            Annotation.objects.filter(
                task_id__in=batch, completed_by=user, parent_prediction__isnull=False
            ).values_list("parent_prediction_id", flat=True)
        )
        rows = [
            Annotation(
                task_id=p.task_id,
                project=project,
                completed_by=user,
                result=p.result,
                parent_prediction=p,
                created_at=now,
                updated_at=now,
            )
            for p in Prediction.objects.filter(pk__in=[i for i in latest if i not in done])
        ]
        Annotation.objects.bulk_create(rows, batch_size=BATCH)
        created += len(rows)
        events.publish(
            events.ANNOTATIONS_CREATED, project_id=project.pk, ids=[row.pk for row in rows]
        )
    tasks_counters_recount(project=project, task_ids=ids)
    return _result(created, f"Created {created} annotations from predictions")


@action(
    "mark_ground_truth",
    "Mark ground truth",
    order=110,
    dialog="The latest completion of each selected task without ground truth becomes ground truth.",
)
def mark_ground_truth(project, queryset: QuerySet, **params) -> dict:
    """Each selected task that has no ground truth yet gets its latest completion marked
    (``annotations.ground_truth``: never a Benchmark QA task's)."""
    latest: list[int] = []
    for batch in _batches(_ids(queryset)):
        latest.extend(
            Annotation.objects.filter(task_id__in=batch, was_cancelled=False)
            .values("task_id")
            .annotate(last=Max("id"), gt=Count("id", filter=Q(ground_truth=True)))
            .filter(gt=0)
            .values_list("last", flat=True)
        )
    marked = len(ground_truth_set(project=project, annotation_ids=latest, value=True))
    return _result(marked, f"Marked {marked} completions as ground truth")


@action("unmark_ground_truth", "Unmark ground truth", order=111)
def unmark_ground_truth(project, queryset: QuerySet, **params) -> dict:
    """The selected tasks' ground truth unmarked (a Benchmark QA task's gold stays)."""
    marked: list[int] = []
    for batch in _batches(_ids(queryset)):
        marked.extend(
            Annotation.objects.filter(task_id__in=batch, ground_truth=True).values_list(
                "pk", flat=True
            )
        )
    unmarked = len(ground_truth_set(project=project, annotation_ids=marked, value=False))
    return _result(unmarked, f"Unmarked {unmarked} ground truth completions")


@action(
    "remove_duplicates",
    "Remove duplicated tasks",
    order=120,
    dialog="Tasks with identical data are merged into the first one; their annotations move there.",
    needs_selection=True,
)
def remove_duplicates(project, queryset: QuerySet, **params) -> dict:
    """Among the selected tasks, those with identical ``data`` are merged into the one with
    the lowest id: the others' annotations move to it, then the others are deleted (with
    their predictions). The database compares the JSON, so nothing is loaded but the
    duplicated groups."""
    groups = (
        queryset.order_by()
        .values("data")
        .annotate(n=Count("id"), keep=Min("id"))
        .filter(n__gt=1)
        .values_list("keep", flat=True)
    )
    kept: list[int] = []
    removed: list[int] = []
    for keep in list(groups):
        data = Task.objects.filter(pk=keep).values_list("data", flat=True).get()
        duplicates = _ids(queryset.filter(data=data).exclude(pk=keep))
        if not duplicates:
            continue
        Annotation.objects.filter(task_id__in=duplicates).update(task_id=keep)
        kept.append(keep)
        removed += duplicates
    for batch in _batches(removed):
        Task.objects.filter(project=project, pk__in=batch).delete()
    tasks_counters_recount(project=project, task_ids=kept)
    events.publish(events.TASKS_DELETED, project_id=project.pk, ids=removed)
    return _result(len(removed), f"Removed {len(removed)} duplicated tasks")


def action_run(
    *, project, action_id: str, queryset: QuerySet, user, params: dict | None = None
) -> dict:
    """Run one registered action in one transaction."""
    registrations.load()
    entry = ACTIONS.get(action_id)
    if entry is None:
        raise ApiError(
            f"unknown action {str(action_id)[:60]!r}",
            [{"field": "id", "message": f"one of {', '.join(sorted(ACTIONS))}"}],
        )
    perms.check(user, project, entry.permission)
    extra = {
        k: v for k, v in (params or {}).items() if k in ("model_version",) and isinstance(v, str)
    }
    with transaction.atomic():
        return entry.fn(project, queryset, user=user, **extra)
