"""Writes that keep the quality figures: task agreement, pair scores, label counts, and
Benchmark QA linking.

Every function here runs inside the caller's transaction, after the caller locked the
task row (``annotations.services`` does), and touches one task only: a write costs the
scoring of the changed annotation against the task's other annotations, never a rescan
of the project.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC

from django.db import connection, transaction
from django.db.models import Avg, Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate

from annotations import metrics
from annotations.models import (
    AgreementPair,
    Annotation,
    AnnotatorDay,
    AnnotatorPairTotal,
    LabelCount,
)
from annotations.result_index import result_index_fill_tasks
from projects.models import Project
from projects.services import quality_settings_check
from tasks.models import Task


def task_agreement_update(*, task_id: int, annotation_id: int | None = None) -> float | None:
    """Rescore the pairs of ``annotation_id`` (all the task's pairs when None) and store
    the task's agreement: the mean pair score of its non-cancelled annotations."""
    task = Task.objects.only("id", "project_id", "is_benchmark").get(pk=task_id)
    live = list(
        Annotation.objects.filter(task_id=task_id, was_cancelled=False)
        .order_by("id")
        .only("id", "result", "completed_by_id")
    )
    pairs = AgreementPair.objects.filter(task_id=task_id)
    if annotation_id is not None:
        pairs = pairs.filter(annotation_id=annotation_id) | pairs.filter(other_id=annotation_id)
        changed = [a for a in live if a.pk == annotation_id]
    else:
        changed = live
    pair_totals_apply(
        project_id=task.project_id,
        pairs=pairs.values_list("user_id", "other_user_id", "score", "is_benchmark"),
        sign=-1,
    )
    pairs.delete()
    rows: list[AgreementPair] = []
    done: set[tuple[int, int]] = set()
    for mine in changed:
        for other in live:
            key = (min(mine.pk, other.pk), max(mine.pk, other.pk))
            if other.pk == mine.pk or key in done:
                continue
            done.add(key)
            value = metrics.score(mine.result or [], other.result or [])
            for x, y in ((mine, other), (other, mine)):
                rows.append(
                    AgreementPair(
                        project_id=task.project_id,
                        task_id=task_id,
                        annotation_id=x.pk,
                        other_id=y.pk,
                        user_id=x.completed_by_id,
                        other_user_id=y.completed_by_id,
                        is_benchmark=task.is_benchmark,
                        score=value,
                    )
                )
    AgreementPair.objects.bulk_create(rows)
    pair_totals_apply(
        project_id=task.project_id,
        pairs=[(r.user_id, r.other_user_id, r.score, r.is_benchmark) for r in rows],
        sign=1,
    )
    agreement = None
    if len(live) >= 2:
        agreement = AgreementPair.objects.filter(task_id=task_id).aggregate(v=Avg("score"))["v"]
    Task.objects.filter(pk=task_id).update(agreement=agreement)
    return agreement


MAX_OVERLAP_EXTRA = 2


def low_agreement_reassign(*, task_id: int) -> bool:
    """With the project's ``reassign_low_agreement`` on: when the task has reached its
    overlap and its agreement is below ``agreement_threshold``, ask for one more
    annotation (up to ``maximum_annotations + 2``). Runs after the write's agreement
    upkeep, on the task row the write has locked. Returns whether it asked."""
    task = Task.objects.select_related("project").get(pk=task_id)
    project = task.project
    if (
        not project.reassign_low_agreement
        or task.is_benchmark
        or task.agreement is None
        or task.agreement >= project.agreement_threshold
        or task.overlap_extra >= MAX_OVERLAP_EXTRA
        or task.total_annotations < project.maximum_annotations + task.overlap_extra
    ):
        return False
    Task.objects.filter(pk=task_id).update(overlap_extra=task.overlap_extra + 1, is_labeled=False)
    return True


def result_labels(result) -> Counter:
    """(from_name, label) -> times chosen in one result list: choices, span and region
    labels, taxonomy paths (joined with " / "), ratings and numbers."""
    counts: Counter = Counter()
    for item in result or ():
        if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
            continue
        name, value, kind = item.get("from_name"), item["value"], str(item.get("type", "")).lower()
        if not name:
            continue
        chosen = value.get(kind) if kind.endswith("labels") else None
        for key in ("choices", "labels"):
            if not isinstance(chosen, list):
                chosen = value.get(key)
        if kind == "taxonomy":
            chosen = [
                " / ".join(map(str, p)) if isinstance(p, list) else str(p)
                for p in value.get("taxonomy") or []
            ]
        elif kind in ("rating", "number") and kind in value:
            chosen = [value[kind]]
        for label in chosen if isinstance(chosen, list) else ():
            counts[(str(name)[:255], str(label)[:255])] += 1
    return counts


def _upsert_add(model, keys: tuple[str, ...], adds: tuple[str, ...], rows: list[tuple]) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET col = col + excluded.col`` for each
    of ``adds``: concurrent writers add their deltas without reading the row first
    (PostgreSQL and SQLite >= 3.24 both speak it)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(c) for c in (*keys, *adds))
    marks = ", ".join(["%s"] * (len(keys) + len(adds)))
    sets = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in adds)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {sets}",
            rows,
        )


def label_counts_apply(*, project_id: int, added=None, removed=None) -> None:
    """Move the project's label counts by the labels of ``added`` minus ``removed``
    (result lists)."""
    delta = result_labels(added)
    delta.subtract(result_labels(removed))
    rows = [(project_id, name, label, n) for (name, label), n in delta.items() if n]
    _upsert_add(LabelCount, ("project_id", "from_name", "label"), ("count",), rows)


def annotator_day_apply(*, annotation: Annotation, sign: int) -> None:
    """Add (sign 1) or take back (-1) one annotation's part of its author's day row."""
    if annotation.completed_by_id is None:
        return
    day = annotation.created_at.astimezone(UTC).date()
    cancelled = bool(annotation.was_cancelled)
    timed = annotation.lead_time is not None
    row = (
        annotation.project_id,
        annotation.completed_by_id,
        day,
        sign * int(not cancelled),
        sign * int(cancelled),
        sign * float(annotation.lead_time or 0),
        sign * int(timed),
    )
    _upsert_add(
        AnnotatorDay,
        ("project_id", "user_id", "day"),
        ("annotations", "skipped", "lead_time_sum", "lead_time_count"),
        [row],
    )


def pair_totals_apply(*, project_id: int, pairs, sign: int) -> None:
    """Move the annotator-pair totals by ``(user, other_user, score, is_benchmark)`` pairs:
    production pairs between two known annotators only."""
    totals: dict[tuple[int, int], list] = {}
    for user, other, value, benchmark in pairs:
        if benchmark or user is None or other is None:
            continue
        entry = totals.setdefault((user, other), [0.0, 0, 0])
        entry[0] += sign * (value or 0.0)
        entry[1] += sign * int(value is not None)
        entry[2] += sign
    rows = [(project_id, u, o, *entry) for (u, o), entry in totals.items()]
    _upsert_add(
        AnnotatorPairTotal,
        ("project_id", "user_id", "other_user_id"),
        ("score_sum", "scored", "tasks"),
        rows,
    )


def quality_refresh(*, project: Project) -> int:
    """Recompute every task agreement, pair score and kept figure of a project (after
    bulk imports, which write annotations without the per-write upkeep). Returns the
    number of tasks rescored. Task by task, so memory stays one task's annotations."""
    with transaction.atomic():
        for model in (AgreementPair, AnnotatorPairTotal):
            model.objects.filter(project=project).delete()
    overlap = Task.objects.filter(project=project, total_annotations__gte=2).values_list(
        "pk", flat=True
    )
    count = 0
    for task_id in overlap.iterator(chunk_size=2000):
        with transaction.atomic():
            task_agreement_update(task_id=task_id)
        count += 1
    with transaction.atomic():
        tasks_figures_recount(project=project, task_ids=[])
    return count


def tasks_figures_recount(*, project: Project, task_ids: list[int]) -> None:
    """After bulk changes to annotations (Data Manager actions): rescore the tasks' pairs
    and agreement, then recount the annotator-pair totals and day rows (one GROUP BY
    each) and the label counts (the project's results read in chunks: the slow
    part of a bulk action on a big project) from the rows."""
    for task_id in task_ids:
        task_agreement_update(task_id=task_id)
    # Cascaded deletes removed pair rows without moving the totals: recount them.
    AnnotatorPairTotal.objects.filter(project=project).delete()
    totals = (
        AgreementPair.objects.filter(
            project=project, is_benchmark=False, user__isnull=False, other_user__isnull=False
        )
        .values("user_id", "other_user_id")
        .annotate(s=Sum("score"), n=Count("score"), t=Count("id"))
    )
    AnnotatorPairTotal.objects.bulk_create(
        AnnotatorPairTotal(
            project=project,
            user_id=row["user_id"],
            other_user_id=row["other_user_id"],
            score_sum=row["s"] or 0.0,
            scored=row["n"],
            tasks=row["t"],
        )
        for row in totals
    )
    AnnotatorDay.objects.filter(project=project).delete()
    AnnotatorDay.objects.bulk_create(_day_rows(project))
    LabelCount.objects.filter(project=project).delete()
    LabelCount.objects.bulk_create(_label_rows(project))


def _day_rows(project: Project):
    days = (
        Annotation.objects.filter(project=project, completed_by__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("completed_by_id", "day")
        .annotate(
            n=Count("id", filter=Q(was_cancelled=False)),
            skips=Count("id", filter=Q(was_cancelled=True)),
            lt_sum=Sum("lead_time"),
            lt_n=Count("lead_time"),
        )
    )
    for row in days:
        yield AnnotatorDay(
            project=project,
            user_id=row["completed_by_id"],
            day=row["day"],
            annotations=row["n"],
            skipped=row["skips"],
            lead_time_sum=row["lt_sum"] or 0.0,
            lead_time_count=row["lt_n"],
        )


def _label_rows(project: Project):
    results = Annotation.objects.filter(project=project, was_cancelled=False).values_list(
        "result", flat=True
    )
    total: Counter = Counter()
    for result in results.iterator(chunk_size=2000):
        total.update(result_labels(result))
    for (name, label), n in total.items():
        yield LabelCount(project=project, from_name=name, label=label, count=n)


# ----------------------------------------------------------------------------- benchmarks


def quality_settings(*, project: Project) -> dict:
    return {
        "benchmark_project": project.benchmark_project_id,
        "benchmark_first": project.benchmark_first,
        "benchmark_rate": project.benchmark_rate,
        "benchmark_feedback": project.benchmark_feedback,
        "agreement_threshold": project.agreement_threshold,
        "reassign_low_agreement": project.reassign_low_agreement,
        "benchmark_tasks": Task.objects.filter(project=project, is_benchmark=True).count(),
    }


@transaction.atomic
def benchmarks_link(*, project: Project) -> int:
    """Copy the benchmark project's ground-truth tasks into ``project`` as benchmark tasks,
    each with its gold answer (the ground-truth annotations, without an author here: the
    gold is nobody's work in this project and stays out of the annotator table).
    A re-link adds only tasks not linked before. Returns how many were added.

    Benchmark tasks stay out of the project's counters (task_number, annotation counts),
    so progress and the labeled counters show production work only.
    """
    source = project.benchmark_project
    if source is None:
        return 0
    quality_settings_check(project=project, fields={"benchmark_project": source})
    linked = Task.objects.filter(project=project, benchmark_source=OuterRef("pk"))
    gold = Annotation.objects.filter(task=OuterRef("pk"), ground_truth=True, was_cancelled=False)
    new = list(
        Task.objects.filter(project=source, is_benchmark=False)
        .filter(Exists(gold))
        .filter(~Exists(linked))
        .order_by("pk")
    )
    if not new:
        return 0
    copies = Task.objects.bulk_create(
        Task(
            project=project,
            data=task.data,
            meta=task.meta,
            is_benchmark=True,
            benchmark_source=task,
            is_labeled=True,  # never handed out by the ordinary sampler
        )
        for task in new
    )
    by_source = {copy.benchmark_source_id: copy for copy in copies}
    answers = Annotation.objects.filter(
        task__in=new, ground_truth=True, was_cancelled=False
    ).order_by("pk")
    Annotation.objects.bulk_create(
        Annotation(
            task=by_source[answer.task_id],
            project=project,
            completed_by=None,
            result=answer.result,
            ground_truth=True,
            lead_time=answer.lead_time,
            created_at=answer.created_at,
            updated_at=answer.updated_at,
        )
        for answer in answers
    )
    for copy in copies:
        Task.objects.filter(pk=copy.pk).update(
            total_annotations=Annotation.objects.filter(task=copy).count()
        )
    result_index_fill_tasks(project_id=project.pk, task_ids=[copy.pk for copy in copies])
    return len(copies)
