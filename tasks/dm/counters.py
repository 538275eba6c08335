"""Recount task counters after bulk changes (actions that delete or create annotations
and predictions for many tasks at once).

Single-row writes move counters with one F() UPDATE (annotations.services); a bulk
action instead recounts the tasks it touched, one UPDATE per batch of ids with
correlated COUNT subqueries, then the project's counters once.
"""

from __future__ import annotations

from django.db.models import BooleanField as _Bool
from django.db.models import Count, ExpressionWrapper, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from projects.services import project_counters_refresh
from tasks.dm.columns import model
from tasks.models import Task
from tasks.sampling import prediction_scores_refresh

BATCH = 2000


def _count(queryset):
    return Coalesce(
        Subquery(queryset.order_by().values("task").annotate(c=Count("id")).values("c")), Value(0)
    )


def tasks_counters_recount(*, project, task_ids: list[int]) -> None:
    """Recount annotations, skips and predictions (and ``is_labeled``, the mean
    prediction score) of ``task_ids``, then the project's counters."""
    Annotation, Prediction = model("Annotation"), model("Prediction")
    for start in range(0, len(task_ids), BATCH):
        batch = task_ids[start : start + BATCH]
        tasks = Task.objects.filter(project=project, pk__in=batch)
        tasks.update(
            total_annotations=_count(
                Annotation.objects.filter(task=OuterRef("pk"), was_cancelled=False)
            ),
            cancelled_annotations=_count(
                Annotation.objects.filter(task=OuterRef("pk"), was_cancelled=True)
            ),
            total_predictions=_count(Prediction.objects.filter(task=OuterRef("pk"))),
        )
        tasks.update(
            is_labeled=ExpressionWrapper(
                Q(total_annotations__gte=project.maximum_annotations), output_field=_Bool()
            )
        )
        prediction_scores_refresh(task_ids=batch)
    project_counters_refresh(project_id=project.pk)
