"""Writes that keep the quality figures: task agreement, pair scores, label counts, and
Benchmark QA linking.

Every function here runs inside the caller's transaction, after the caller locked the
task row (``annotations.services`` does), and touches one task only: a write costs the
scoring of the changed annotation against the task's other annotations, never a rescan
of the project.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC

from django.db import connection, transaction
from django.db.models import Avg, Count, F, Q, Sum
from django.db.models.functions import TruncDate

from annotations.models import (
    AgreementPair,
    Annotation,
    AnnotatorDay,
    AnnotatorPairTotal,
    AnnotatorTotal,
    LabelCount,
    LeadTimeBucket,
    ProjectAgreement,
    Review,
)
from projects.models import Project
from tasks.models import Task


def task_agreement_update(*, task_id: int, annotation_id: int | None = None) -> float | None:
    """Rescore the pairs of ``annotation_id`` (all the task's pairs when None) and store
    the task's agreement: the mean pair score of its non-cancelled annotations."""
    from annotations import metrics  # scipy and shapely: loaded on first use, not at start

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


def low_agreement_due(*, task_id: int) -> bool:
    """With the project's ``reassign_low_agreement`` on: whether the task, having reached
    its overlap with an agreement below ``agreement_threshold``, should ask for one more
    annotation (up to ``maximum_annotations + 2``; ``counters.task_overlap_extend`` asks).
    Runs after the write's agreement upkeep, on the task row the write has locked."""
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
    if timed:
        _upsert_add(
            LeadTimeBucket,
            ("project_id", "user_id", "bucket"),
            ("count",),
            [
                (
                    annotation.project_id,
                    annotation.completed_by_id,
                    lead_time_bucket(float(annotation.lead_time or 0)),
                    sign,
                )
            ],
        )


# Lead-time buckets for the median: bucket 0 holds lead times below 0.01 s, bucket k
# the ones in [LEAD_TIME_BOUNDS[k - 1], LEAD_TIME_BOUNDS[k]) (each 5% wider than the
# last, up to ~4e8 s), the last bucket everything above. The same Python floats decide
# the bucket on write and bound the report's index walk, so the two always agree.
LEAD_TIME_BOUNDS = [0.01 * 1.05**k for k in range(500)]
LEAD_TIME_FLOOR = -sys.float_info.max


def lead_time_bucket(value: float) -> int:
    return bisect_right(LEAD_TIME_BOUNDS, value)


def lead_time_bucket_floor(bucket: int) -> float:
    """The smallest lead time in ``bucket`` (bucket 0 is open below)."""
    return LEAD_TIME_BOUNDS[bucket - 1] if bucket > 0 else LEAD_TIME_FLOOR


TOTAL_COLUMNS = (
    "reviews_accepted",
    "reviews_rejected",
    "gt_score_sum",
    "gt_scored",
    "gt_tasks",
    "benchmark_score_sum",
    "benchmark_scored",
    "benchmark_tasks",
)


def annotator_totals_apply(*, project_id: int, deltas: dict[int, dict[str, float]]) -> None:
    """Move ``AnnotatorTotal`` rows by ``{user: {column: delta}}`` (one upsert)."""
    rows = [
        (project_id, user, *(delta.get(c, 0) for c in TOTAL_COLUMNS))
        for user, delta in deltas.items()
        if user is not None and any(delta.values())
    ]
    _upsert_add(AnnotatorTotal, ("project_id", "user_id"), TOTAL_COLUMNS, rows)


def review_totals_apply(*, annotation: Annotation, accepted: int = 0, rejected: int = 0) -> None:
    """Move the review counts of ``annotation``'s author."""
    if annotation.completed_by_id is None or not (accepted or rejected):
        return
    annotator_totals_apply(
        project_id=annotation.project_id,
        deltas={
            annotation.completed_by_id: {
                "reviews_accepted": accepted,
                "reviews_rejected": rejected,
            }
        },
    )


def _gold_pairs(pairs):
    """Pairs that score an annotator's annotation against a ground-truth one (not their
    own, not a ground-truth annotation against another)."""
    return pairs.filter(
        other__ground_truth=True, annotation__ground_truth=False, user__isnull=False
    ).filter(Q(other_user__isnull=True) | ~Q(other_user_id=F("user_id")))


def _task_figures(task_id: int) -> tuple[int, tuple, dict] | None:
    """One task's part of ``ProjectAgreement`` and of its annotators' gold scores (the
    rows ``_gold_pairs`` selects), read in one statement with the task row locked."""
    quote = connection.ops.quote_name
    task_t, pair_t = quote(Task._meta.db_table), quote(AgreementPair._meta.db_table)
    gold_ids = (
        f"(SELECT g.id FROM {quote(Annotation._meta.db_table)} g "
        "WHERE g.task_id = t.id AND g.ground_truth)"
    )
    lock = " FOR UPDATE OF t" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.project_id, t.total_annotations, t.is_benchmark, t.agreement, "
            f"p.user_id, p.score FROM {task_t} t LEFT JOIN {pair_t} p ON p.task_id = t.id "
            "AND p.user_id IS NOT NULL "
            "AND (p.other_user_id IS NULL OR p.other_user_id <> p.user_id) "
            f"AND p.other_id IN {gold_ids} AND p.annotation_id NOT IN {gold_ids} "
            f"WHERE t.id = %s{lock}",
            [task_id],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    project_id, total, benchmark, agreement = rows[0][:4]
    overlap = total >= 2 and not benchmark
    scored = overlap and agreement is not None
    project_part = (int(overlap), agreement if scored else 0.0, int(scored))
    kind = "benchmark" if benchmark else "gt"  # pairs carry their task's flag
    gold: dict[int, dict[str, float]] = {}
    for *_, user, score in rows:
        if user is None:
            continue  # the task row alone: no gold pairs
        entry = gold.setdefault(user, {})
        if score is not None:
            entry[f"{kind}_score_sum"] = entry.get(f"{kind}_score_sum", 0.0) + score
            entry[f"{kind}_scored"] = entry.get(f"{kind}_scored", 0) + 1
        entry[f"{kind}_tasks"] = 1
    return project_id, project_part, gold


@contextmanager
def task_figures_kept(*, task_id: int) -> Iterator[None]:
    """Around a single-task write: lock the task, read its part of the project agreement
    and of the gold scores before and after, and move the stored rows by the difference
    (one small read of the task's own rows each time, at most two upserts)."""
    before = _task_figures(task_id)
    yield
    after = _task_figures(task_id)
    if before is None and after is None:
        return
    project_id = (after or before)[0]  # type: ignore[index]
    old_part, old_gold = (before[1], before[2]) if before else ((0, 0.0, 0), {})
    new_part, new_gold = (after[1], after[2]) if after else ((0, 0.0, 0), {})
    if old_part != new_part:
        _upsert_add(
            ProjectAgreement,
            ("project_id",),
            ("overlap_tasks", "agreement_sum", "agreement_count"),
            [(project_id, *(n - o for n, o in zip(new_part, old_part, strict=True)))],
        )
    deltas = {
        user: {
            c: new_gold.get(user, {}).get(c, 0) - old_gold.get(user, {}).get(c, 0)
            for c in TOTAL_COLUMNS
        }
        for user in set(old_gold) | set(new_gold)
    }
    annotator_totals_apply(project_id=project_id, deltas=deltas)


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
        # Every task is rescored below, outside ``task_figures_kept``: the stored totals
        # are rebuilt at the end by ``tasks_figures_recount``.
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


# Task ids per statement when taking deleted tasks out of the figures.
REMOVE_BATCH = 2000


def tasks_figures_remove(*, project: Project, task_ids: list[int]) -> None:
    """Before deleting tasks: take everything they add to the project's kept figures
    out of it (day rows, lead-time buckets, label counts, annotator-pair totals, review
    counts, gold scores, project agreement), with the same GROUP BY queries the
    recounts use, limited to those tasks. The cost follows the number of tasks deleted,
    not the project's size."""
    for start in range(0, len(task_ids), REMOVE_BATCH):
        batch = task_ids[start : start + REMOVE_BATCH]
        pk = project.pk
        _upsert_add(
            AnnotatorDay,
            ("project_id", "user_id", "day"),
            ("annotations", "skipped", "lead_time_sum", "lead_time_count"),
            [
                (
                    pk,
                    r["completed_by_id"],
                    r["day"],
                    -r["n"],
                    -r["skips"],
                    -(r["lt_sum"] or 0.0),
                    -r["lt_n"],
                )
                for r in _day_groups(project, batch)
            ],
        )
        _upsert_add(
            LeadTimeBucket,
            ("project_id", "user_id", "bucket"),
            ("count",),
            [(pk, u, b, -n) for (u, b), n in _lead_time_counts(project, batch).items()],
        )
        _upsert_add(
            LabelCount,
            ("project_id", "from_name", "label"),
            ("count",),
            [(pk, name, label, -n) for (name, label), n in _label_counts(project, batch).items()],
        )
        _upsert_add(
            AnnotatorPairTotal,
            ("project_id", "user_id", "other_user_id"),
            ("score_sum", "scored", "tasks"),
            [
                (pk, r["user_id"], r["other_user_id"], -(r["s"] or 0.0), -r["n"], -r["t"])
                for r in _pair_total_groups(project, batch)
            ],
        )
        annotator_totals_apply(
            project_id=pk,
            deltas={
                user: {c: -v for c, v in values.items()}
                for user, values in _annotator_totals(project, batch).items()
            },
        )
        overlap, total, count = _agreement_figures(project, batch)
        if overlap:
            _upsert_add(
                ProjectAgreement,
                ("project_id",),
                ("overlap_tasks", "agreement_sum", "agreement_count"),
                [(pk, -overlap, -total, -count)],
            )


def tasks_figures_recount(*, project: Project, task_ids: list[int]) -> None:
    """After bulk changes to annotations (Data Manager actions): rescore the tasks' pairs
    and agreement, then recount the annotator-pair totals and day rows (one GROUP BY
    each), the stored totals (``quality_totals_recount``) and the label counts (the
    project's results read in chunks: the slow part of a bulk action on a big project)
    from the rows."""
    for task_id in task_ids:
        task_agreement_update(task_id=task_id)
    # Cascaded deletes removed pair rows without moving the totals: recount them.
    AnnotatorPairTotal.objects.filter(project=project).delete()
    totals = _pair_total_groups(project)
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
    quality_totals_recount(project=project)


def quality_totals_recount(*, project: Project, lead_times: bool = True) -> None:
    """Rebuild the project's ``AnnotatorTotal`` and ``ProjectAgreement`` rows (and, with
    ``lead_times``, its ``LeadTimeBucket`` rows) from the rows they sum: GROUP BY
    queries, for bulk writers (Data Manager actions, ground-truth sampling,
    ``quality_refresh``). Reviews per author is a join over the project's
    annotations: about a second at 1M annotations, fine for a bulk action and the
    reason the report reads the stored rows instead."""
    totals = _annotator_totals(project)
    AnnotatorTotal.objects.filter(project=project).delete()
    AnnotatorTotal.objects.bulk_create(
        AnnotatorTotal(project=project, user_id=user, **values) for user, values in totals.items()
    )
    overlap, total, count = _agreement_figures(project)
    ProjectAgreement.objects.update_or_create(
        project=project,
        defaults={"overlap_tasks": overlap, "agreement_sum": total, "agreement_count": count},
    )
    if lead_times:
        LeadTimeBucket.objects.filter(project=project).delete()
        LeadTimeBucket.objects.bulk_create(_lead_time_rows(project), batch_size=2000)


def _lead_time_rows(project: Project):
    for (user, bucket), n in _lead_time_counts(project).items():
        yield LeadTimeBucket(project=project, user_id=user, bucket=bucket, count=n)


# The GROUP BY queries behind the recounts (the whole project) and behind
# ``tasks_figures_remove`` (``task_ids`` only).


def _scoped(queryset, task_ids, field="task_id"):
    return queryset if task_ids is None else queryset.filter(**{f"{field}__in": task_ids})


def _lead_time_counts(project: Project, task_ids=None) -> Counter:
    """(annotator, bucket) -> lead times, from the distinct (annotator, lead time)
    values, bucketed in Python by the same bounds the writes use."""
    values = (
        _scoped(
            Annotation.objects.filter(
                project=project, completed_by__isnull=False, lead_time__isnull=False
            ),
            task_ids,
        )
        .values_list("completed_by_id", "lead_time")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: Counter = Counter()
    for user, lead_time, n in values.iterator(chunk_size=5000):
        counts[(user, lead_time_bucket(lead_time))] += n
    return counts


def _label_counts(project: Project, task_ids=None) -> Counter:
    results = _scoped(
        Annotation.objects.filter(project=project, was_cancelled=False), task_ids
    ).values_list("result", flat=True)
    total: Counter = Counter()
    for result in results.iterator(chunk_size=2000):
        total.update(result_labels(result))
    return total


def _day_groups(project: Project, task_ids=None):
    return (
        _scoped(Annotation.objects.filter(project=project, completed_by__isnull=False), task_ids)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("completed_by_id", "day")
        .annotate(
            n=Count("id", filter=Q(was_cancelled=False)),
            skips=Count("id", filter=Q(was_cancelled=True)),
            lt_sum=Sum("lead_time"),
            lt_n=Count("lead_time"),
        )
    )


def _pair_total_groups(project: Project, task_ids=None):
    return (
        _scoped(
            AgreementPair.objects.filter(
                project=project, is_benchmark=False, user__isnull=False, other_user__isnull=False
            ),
            task_ids,
        )
        .values("user_id", "other_user_id")
        .annotate(s=Sum("score"), n=Count("score"), t=Count("id"))
    )


def _annotator_totals(project: Project, task_ids=None) -> dict[int, dict[str, float]]:
    """user -> review counts (by author) and gold scores (``TOTAL_COLUMNS``)."""
    totals: dict[int, dict[str, float]] = {}
    reviews = (
        _scoped(
            Review.objects.filter(
                annotation__project=project, annotation__completed_by__isnull=False
            ),
            task_ids,
            "annotation__task_id",
        )
        .values("annotation__completed_by_id")
        .annotate(
            a=Count("id", filter=Q(accepted=True)),
            r=Count("id", filter=Q(accepted=False)),
        )
    )
    for row in reviews:
        totals[row["annotation__completed_by_id"]] = {
            "reviews_accepted": row["a"],
            "reviews_rejected": row["r"],
        }
    gold = (
        _gold_pairs(_scoped(AgreementPair.objects.filter(project=project), task_ids))
        .values("user_id", "is_benchmark")
        .annotate(s=Sum("score"), n=Count("score"), t=Count("task_id", distinct=True))
    )
    for row in gold:
        kind = "benchmark" if row["is_benchmark"] else "gt"
        totals.setdefault(row["user_id"], {}).update(
            {
                f"{kind}_score_sum": row["s"] or 0.0,
                f"{kind}_scored": row["n"],
                f"{kind}_tasks": row["t"],
            }
        )
    return totals


def _agreement_figures(project: Project, task_ids=None) -> tuple[int, float, int]:
    """(overlap tasks, sum of their agreement, how many have one)."""
    overlap = _scoped(
        Task.objects.filter(project=project, total_annotations__gte=2, is_benchmark=False),
        task_ids,
        "pk",
    )
    figures = overlap.aggregate(s=Sum("agreement"), n=Count("agreement"), t=Count("id"))
    return figures["t"], figures["s"] or 0.0, figures["n"]


def _day_rows(project: Project):
    for row in _day_groups(project):
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
    for (name, label), n in _label_counts(project).items():
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
