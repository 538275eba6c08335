"""Every counter write on Task and Project, and the labeled-state rule, in one place.

Counters (``Task.total_annotations``, ``cancelled_annotations``, ``total_predictions``,
``is_labeled``, ``prediction_score``; the ``Project`` totals) are kept by the services that
change the rows they count, never by signals:

- single-row writes (annotation_create and friends) call ``task_counters_apply``: the task
  row is locked and both the task's and the project's counters move with F() UPDATEs, so
  concurrent writers never lose a count;
- bulk writers (imports, task creation, ground-truth marks) move the project's counters once
  with ``project_counters_add``;
- bulk changes that are easier to recount than to track (Data Manager actions, deletes)
  call ``tasks_counters_recount`` / ``project_counters_refresh``, which read the rows.

The result-label index (``annotations.result_index``) moves with the same writes: the
single-row services call ``result_index_add`` / ``result_index_set``, and the bulk paths
here (``tasks_counters_recount``, ``tasks_predictions_added``) fill it for their tasks.

The labeled-state rule: a task is labeled when it has at least ``maximum_annotations``
(plus its ``overlap_extra``, asked after low agreement) non-cancelled annotations (or
annotations of any kind, skips included, when the project's ``skip_queue`` is
IGNORE_SKIPPED: ``skips_count``); a Benchmark QA task always counts as labeled, so the samplers never hand it out (the
benchmark rules in ``annotations.benchmarks`` do). ``is_labeled`` (one task, in Python)
and ``labeled_q`` (many tasks, in SQL) are the only two spellings of it.

The quality figures of a task (its agreement and pair scores, the label counts, the
annotator's day row) move with the same single-annotation writes, in the same
transaction, through ``annotation_figures_add/change/remove`` (``annotations.quality``
does the scoring). Benchmark tasks stay out of the project's counters.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from annotations import quality
from annotations.models import AgreementPair, Annotation, Prediction
from annotations.result_index import result_index_fill_tasks
from labelhub.prepared import Prepared, row_update
from projects.models import Project
from tasks.models import Task

# Tasks recounted per UPDATE by tasks_counters_recount.
RECOUNT_BATCH = 2000


def skips_count(project: Project) -> bool:
    """Whether a skip counts toward a task's overlap (``skip_queue`` IGNORE_SKIPPED)."""
    return project.skip_queue == Project.SkipQueue.IGNORE_SKIPPED


def is_labeled(
    total_annotations: int,
    maximum_annotations: int,
    overlap_extra: int = 0,
    is_benchmark: bool = False,
    cancelled: int = 0,
) -> bool:
    """The labeled-state rule for one task (see the module docstring); ``cancelled``
    only when skips count."""
    return is_benchmark or total_annotations + cancelled >= maximum_annotations + overlap_extra


def done_count(*, skips: bool):
    """The task column expression the overlap compares: annotations, plus skips when
    they count."""
    if skips:
        return F("total_annotations") + F("cancelled_annotations")
    return F("total_annotations")


def labeled_q(maximum_annotations: int, *, skips: bool = False) -> Q:
    """The labeled-state rule as a condition on task rows."""
    return Q(is_benchmark=True) | Q(
        GreaterThanOrEqual(done_count(skips=skips), Value(maximum_annotations) + F("overlap_extra"))
    )


def project_counters_add(
    *,
    project_id: int,
    tasks: int = 0,
    tasks_with_annotations: int = 0,
    annotations: int = 0,
    skipped: int = 0,
    ground_truth: int = 0,
    predictions: int = 0,
) -> None:
    """Move a project's counters by these deltas with one F() UPDATE."""
    deltas = {
        "task_number": tasks,
        "num_tasks_with_annotations": tasks_with_annotations,
        "total_annotations_number": annotations,
        "skipped_annotations_number": skipped,
        "ground_truth_number": ground_truth,
        "total_predictions_number": predictions,
    }
    changes = {name: F(name) + delta for name, delta in deltas.items() if delta}
    if changes:
        Project.objects.filter(pk=project_id).update(**changes)


# The task row, locked, with its project: every single-annotation write reads it first
# (compiled once, labelhub.prepared).
_LOCKED_TASK = Prepared(
    lambda m: Task.objects.select_for_update().select_related("project").filter(pk=m.int("pk"))
)


def task_counters_apply(
    *,
    task_id: int,
    annotations: int = 0,
    cancelled: int = 0,
    predictions: int = 0,
    ground_truth: int = 0,
) -> Task:
    """Apply deltas to one task's counters and its project's, inside the caller's
    transaction. The task row is locked first, so the 0 -> 1 transition that moves
    ``num_tasks_with_annotations`` is seen by exactly one writer. Returns the locked task
    as it now is (with its project)."""
    task = _LOCKED_TASK.first(pk=task_id)
    if task is None:
        raise Task.DoesNotExist(f"task {task_id}")
    had_annotations = task.total_annotations > 0
    task.total_annotations += annotations
    task.cancelled_annotations += cancelled
    task.total_predictions += predictions
    task.is_labeled = is_labeled(
        task.total_annotations,
        task.project.maximum_annotations,
        task.overlap_extra,
        task.is_benchmark,
        cancelled=task.cancelled_annotations if skips_count(task.project) else 0,
    )
    task.updated_at = timezone.now()
    # Both UPDATEs written out (labelhub.prepared.row_update): the same statements as
    # ``task.save(update_fields=...)`` and the project's F() update, without building them.
    row_update(
        Task,
        task.pk,
        values={
            "total_annotations": task.total_annotations,
            "cancelled_annotations": task.cancelled_annotations,
            "total_predictions": task.total_predictions,
            "is_labeled": task.is_labeled,
            "updated_at": task.updated_at,
        },
    )
    if task.is_benchmark:
        return task  # benchmark work stays out of the project's labeled counters
    with_annotations = int(task.total_annotations > 0) - int(had_annotations)
    row_update(
        Project,
        task.project_id,
        increments={
            "total_annotations_number": annotations,
            "skipped_annotations_number": cancelled,
            "total_predictions_number": predictions,
            "ground_truth_number": ground_truth,
            "num_tasks_with_annotations": with_annotations,
        },
    )
    return task


def task_overlap_extend(*, task_id: int) -> None:
    """Ask one more annotation of a task (low agreement, ``quality.low_agreement_due``):
    its ``overlap_extra`` grows by one and it is open again, in one UPDATE on the row the
    write has locked."""
    Task.objects.filter(pk=task_id).update(overlap_extra=F("overlap_extra") + 1, is_labeled=False)


def benchmark_copies_counted(*, task_ids: list[int]) -> None:
    """The annotation counter of new Benchmark QA copies (``benchmarks.benchmarks_link``)
    from the gold answers inserted with them: one UPDATE for all of them, a correlated
    COUNT each. Benchmark copies stay out of the project's counters and are labeled from
    the start, so nothing else moves."""
    if task_ids:
        Task.objects.filter(pk__in=task_ids).update(
            total_annotations=_count(
                Annotation.objects.filter(task=OuterRef("pk"), was_cancelled=False)
            )
        )


def annotation_figures_add(*, annotation: Annotation, task: Task | None = None) -> None:
    """A new annotation's part of the quality figures (after ``task_counters_apply``
    locked its task, which it returned as ``task``): its day row and, unless it is a skip,
    its labels, its pair scores against the task's other annotations, the task's agreement
    and the low-agreement reassignment. The task's first annotation has no one to agree
    with: its agreement stays empty and the six statements of the rescoring are skipped."""
    quality.annotator_day_apply(annotation=annotation, sign=1)
    if not annotation.was_cancelled:
        quality.label_counts_apply(project_id=annotation.project_id, added=annotation.result)
        if task is not None and task.total_annotations <= 1 and task.agreement is None:
            return
        quality.task_agreement_update(task_id=annotation.task_id, annotation_id=annotation.pk)
        if quality.low_agreement_due(task_id=annotation.task_id):
            task_overlap_extend(task_id=annotation.task_id)


def annotation_figures_change(*, before: Annotation, annotation: Annotation) -> None:
    """Move the figures from an annotation's old state (``before``) to its new one."""
    if (before.was_cancelled, before.lead_time) != (annotation.was_cancelled, annotation.lead_time):
        quality.annotator_day_apply(annotation=before, sign=-1)
        quality.annotator_day_apply(annotation=annotation, sign=1)
    if before.result != annotation.result or before.was_cancelled != annotation.was_cancelled:
        Task.objects.select_for_update().filter(pk=annotation.task_id).first()
        quality.label_counts_apply(
            project_id=annotation.project_id,
            added=None if annotation.was_cancelled else annotation.result,
            removed=None if before.was_cancelled else before.result,
        )
        quality.task_agreement_update(task_id=annotation.task_id, annotation_id=annotation.pk)


def annotation_figures_remove(*, annotation: Annotation) -> None:
    """Take an annotation about to be deleted out of the figures (its pair rows go with
    it by cascade; ``task_agreement_refresh`` after the delete rescores the task)."""
    quality.annotator_day_apply(annotation=annotation, sign=-1)
    quality.pair_totals_apply(
        project_id=annotation.project_id,
        pairs=AgreementPair.objects.filter(
            Q(annotation=annotation) | Q(other=annotation)
        ).values_list("user_id", "other_user_id", "score", "is_benchmark"),
        sign=-1,
    )
    if not annotation.was_cancelled:
        quality.label_counts_apply(project_id=annotation.project_id, removed=annotation.result)


def task_agreement_refresh(*, task_id: int) -> None:
    """The task's agreement from its remaining pair scores (after a delete)."""
    quality.task_agreement_update(task_id=task_id, annotation_id=0)


def project_counters_refresh(*, project_id: int) -> None:
    """Recount every project counter from the rows. Used after bulk changes (deletes,
    imports); single-row changes update counters with one F() expression instead."""
    tasks = Task.objects.filter(project_id=project_id, is_benchmark=False).aggregate(
        task_number=Count("id"),
        num_tasks_with_annotations=Count("id", filter=Q(total_annotations__gt=0)),
    )
    annotations = Annotation.objects.filter(
        project_id=project_id, task__is_benchmark=False
    ).aggregate(
        total_annotations_number=Count("id", filter=Q(was_cancelled=False)),
        skipped_annotations_number=Count("id", filter=Q(was_cancelled=True)),
        ground_truth_number=Count("id", filter=Q(ground_truth=True)),
    )
    predictions = Prediction.objects.filter(project_id=project_id).count()
    Project.objects.filter(pk=project_id).update(
        **tasks, **annotations, total_predictions_number=predictions
    )


def labeled_state_refresh(*, project: Project) -> int:
    """Set ``is_labeled`` from the counters for the whole project (two UPDATEs, each
    touching only the tasks that change).

    The flags go stale when ``maximum_annotations`` or ``skip_queue`` changes, until
    this runs. Returns the
    number of tasks changed.
    """
    labeled = labeled_q(project.maximum_annotations, skips=skips_count(project))
    tasks = Task.objects.filter(project=project)
    now_open = tasks.filter(is_labeled=True).exclude(labeled)
    now_full = tasks.filter(labeled, is_labeled=False)
    return now_open.update(is_labeled=False) + now_full.update(is_labeled=True)


def _count(queryset) -> Coalesce:
    return Coalesce(
        Subquery(queryset.order_by().values("task").annotate(c=Count("id")).values("c")), Value(0)
    )


def tasks_counters_recount(*, project: Project, task_ids: list[int]) -> None:
    """Recount annotations, skips and predictions (and ``is_labeled``, the mean
    prediction score) of ``task_ids``, then the project's counters.

    For bulk actions that delete or create annotations and predictions for many tasks at
    once: one UPDATE per batch of ids with correlated COUNT subqueries, then the
    project's counters once.
    """
    for start in range(0, len(task_ids), RECOUNT_BATCH):
        batch = task_ids[start : start + RECOUNT_BATCH]
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
                labeled_q(project.maximum_annotations, skips=skips_count(project)),
                output_field=BooleanField(),
            )
        )
        prediction_scores_refresh(task_ids=batch)
        result_index_fill_tasks(project_id=project.pk, task_ids=batch)
    project_counters_refresh(project_id=project.pk)
    quality.tasks_figures_recount(project=project, task_ids=task_ids)


def prediction_scores_refresh(
    *, project_id: int | None = None, task_ids=None, missing_only: bool = False
) -> int:
    """Recompute ``Task.prediction_score`` (the mean of the predictions' scores) for the
    given tasks, or for every task of a project, in one UPDATE. Returns rows changed.

    The prediction services call it for the task they change; bulk writers (imports, ML
    jobs) call it once for the tasks they touched.
    """
    if project_id is None and task_ids is None:
        raise ValueError("give project_id or task_ids")
    prediction_table = Prediction._meta.db_table
    task_table = Task._meta.db_table
    where, params = [], []
    if project_id is not None:
        where.append(f"{task_table}.project_id = %s")
        params.append(project_id)
    if task_ids is not None:
        task_ids = [int(pk) for pk in task_ids]
        if not task_ids:
            return 0
        where.append(f"{task_table}.id IN ({', '.join(['%s'] * len(task_ids))})")
        params.extend(task_ids)
    if missing_only:
        where.append(
            f"{task_table}.prediction_score IS NULL AND {task_table}.total_predictions > 0"
        )
    mean = f"(SELECT AVG(p.score) FROM {prediction_table} p WHERE p.task_id = {task_table}.id)"
    sql = (
        f"UPDATE {task_table} SET prediction_score = {mean} "
        f"WHERE {' AND '.join(where)} AND prediction_score IS DISTINCT FROM {mean}"
    )
    if connection.vendor == "sqlite":
        sql = sql.replace("IS DISTINCT FROM", "IS NOT")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def tasks_predictions_added(*, project_id: int, task_ids: list[int], delta: int = 1) -> None:
    """Bulk prediction writers (ML prediction jobs): each of ``task_ids`` gained (or,
    with ``delta=-1``, lost) one prediction. One UPDATE for the tasks' counters, their
    mean scores recomputed, and the project's counter moved once."""
    if not task_ids:
        return
    Task.objects.filter(pk__in=task_ids).update(total_predictions=F("total_predictions") + delta)
    prediction_scores_refresh(task_ids=task_ids)
    if delta > 0:
        result_index_fill_tasks(project_id=project_id, task_ids=task_ids)
    project_counters_add(project_id=project_id, predictions=delta * len(task_ids))
