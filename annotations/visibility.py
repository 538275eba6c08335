"""What a task answer may tell a caller who does not read every annotation (annotators).

One function, ``tasks_shown``, applied to every task answer an annotator can get (the
task list, task detail, Label Studio's old task list, ``/next/``, the submit's
``next_task``, "label as displayed" and the Label Stream page's JSON):

- **No agreement.** ``agreement`` is null for them on every task. A task's agreement,
  read before and after they change their own label, tells them what their co-annotators
  chose (and on a Benchmark QA task, the gold answer).
- **No ground-truth flag.** ``ground_truth`` is false: the project's own ground-truth
  tasks are its benchmarks when no benchmark project is linked.
- **Benchmark tasks look like any other task.** A Benchmark QA task (a linked copy, or,
  without a benchmark project, a ground-truth task while benchmarks are on) carries the
  gold answer and the answers of every annotator who met it, and was never handed out by
  the sampler. Its counters (``total_annotations``, ``cancelled_annotations``,
  ``is_labeled``, ``completed_at``) are shown as if the caller's own annotations were
  the only ones, which is what an ordinary task they are served looks like.
- **Predictions only where the project shows them.** With
  ``show_predictions_to_annotators`` off, ``total_predictions`` is 0 and
  ``predictions_score`` null (the predictions themselves are left out by
  ``selectors.with_nested`` and ``stream.stream_task_dict``).

Admins and reviewers get the answers unchanged.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from annotations import benchmarks, counters
from annotations.models import Annotation
from projects.models import Project
from projects.permissions import READ_ALL_ANNOTATIONS, can, may_see_predictions


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def benchmark_ids(*, project: Project, task_ids: list[int], flagged: set[int]) -> set[int]:
    """Which of ``task_ids`` are Benchmark QA tasks: the ``flagged`` copies, and without a
    linked benchmark project (while benchmarks are on) the ground-truth tasks."""
    found = set(flagged)
    if project.benchmark_project_id is None and benchmarks.benchmarks_enabled(project):
        rest = [pk for pk in task_ids if pk not in found]
        if rest:
            found |= set(
                benchmarks.benchmark_pool(project=project)
                .filter(pk__in=rest)
                .values_list("pk", flat=True)
            )
    return found


def tasks_shown(*, bodies: list[dict], tasks: list, user, project: Project) -> list[dict]:
    """``bodies`` (task answers, in place, and returned) as ``user`` may see them; ``tasks``
    are the rows they were made from (for ``is_benchmark``). At most two queries, for
    the page's benchmark tasks only, and none for admins and reviewers."""
    if user is None or can(user, project, READ_ALL_ANNOTATIONS):
        return bodies
    see_predictions = may_see_predictions(user, project)
    gold = benchmark_ids(
        project=project,
        task_ids=[t.pk for t in tasks],
        flagged={t.pk for t in tasks if getattr(t, "is_benchmark", False)},
    )
    own: dict[int, dict] = {pk: {"total": 0, "cancelled": 0, "last": None} for pk in gold}
    if gold:
        rows = Annotation.objects.filter(task_id__in=gold, completed_by=user).values_list(
            "task_id", "was_cancelled", "created_at"
        )
        for task_id, cancelled, created in rows:
            mine = own[task_id]
            mine["cancelled" if cancelled else "total"] += 1
            if not cancelled and (mine["last"] is None or created > mine["last"]):
                mine["last"] = created
    skips = counters.skips_count(project)
    for body in bodies:
        if "agreement" in body:
            body["agreement"] = None
        if "ground_truth" in body:
            body["ground_truth"] = False
        if not see_predictions:
            body["total_predictions"] = 0
            if "predictions_score" in body:
                body["predictions_score"] = None
        if body.get("id") not in own:
            continue
        mine = own[body["id"]]
        body["total_annotations"] = mine["total"]
        body["cancelled_annotations"] = mine["cancelled"]
        body["is_labeled"] = counters.is_labeled(
            mine["total"],
            project.maximum_annotations,
            cancelled=mine["cancelled"] if skips else 0,
        )
        if "completed_at" in body:
            body["completed_at"] = _iso(mine["last"])
        if "overlap" in body:
            body["overlap"] = project.maximum_annotations
    return bodies


def task_shown(*, body: dict, task, user, project: Project) -> dict:
    """``tasks_shown`` for one task answer."""
    return tasks_shown(bodies=[body], tasks=[task], user=user, project=project)[0]


def benchmark_q(project: Project) -> Q:
    """``benchmark_ids`` as a condition on the project's task rows."""
    if project.benchmark_project_id is None and benchmarks.benchmarks_enabled(project):
        gold = Annotation.objects.filter(
            task=OuterRef("pk"), ground_truth=True, was_cancelled=False
        )
        return Q(is_benchmark=True) | Q(Exists(gold))
    return Q(is_benchmark=True)


def counts_shown(*, counts: dict, tasks: QuerySet, user, project: Project) -> dict:
    """The task list's totals (``{total, total_annotations, total_predictions}`` over
    ``tasks``, the filtered task rows) as ``user`` may see them: the sums of what
    ``tasks_shown`` shows for each task (benchmark tasks counting the user's own
    annotations only; no predictions where they are hidden)."""
    if user is None or can(user, project, READ_ALL_ANNOTATIONS):
        return counts
    gold = benchmark_q(project)
    sums = tasks.order_by().aggregate(
        total=Count("id"),
        total_annotations=Coalesce(Sum("total_annotations", filter=~gold), 0),
        total_predictions=Coalesce(Sum("total_predictions"), 0),
    )
    sums["total_annotations"] += Annotation.objects.filter(
        task__in=tasks.filter(gold).values("pk"), completed_by=user, was_cancelled=False
    ).count()
    if not may_see_predictions(user, project):
        sums["total_predictions"] = 0
    return {**counts, **sums}
