"""Reads for the quality report (``GET /api/projects/{id}/quality/``) and the pairwise
agreement matrix.

Everything comes from stored rows kept by the annotation services in the transaction of
each write (``AnnotatorDay``, ``AnnotatorPairTotal``, ``AnnotatorTotal``,
``ProjectAgreement``, ``LabelCount``, ``LeadTimeBucket``) and SQL aggregates over them: no
Python loop over annotations, and no scan of the project's annotations. The medians walk
at most one lead-time bucket of one index per annotator.
"""

from __future__ import annotations

import csv
import io

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Q, Sum

from annotations.models import (
    Annotation,
    AnnotatorDay,
    AnnotatorPairTotal,
    AnnotatorTotal,
    LabelCount,
    LeadTimeBucket,
    ProjectAgreement,
)
from annotations.quality import TOTAL_COLUMNS, lead_time_bucket_floor
from labelhub.spreadsheet import cell
from projects.models import Project
from tasks.models import Task

ANNOTATOR_FIELDS = (
    "user",
    "email",
    "annotations",
    "skipped",
    "lead_time_mean",
    "lead_time_median",
    "agreement",
    "gt_accuracy",
    "gt_tasks",
    "benchmark_accuracy",
    "benchmark_tasks",
    "reviews_accepted",
    "reviews_rejected",
)


def _medians(*, project: Project, user_id: int | None = None) -> dict[int, float | None]:
    """Exact median lead time per annotator, without walking all their lead times.

    The stored lead-time buckets (``LeadTimeBucket``) give, with one window query, the
    bucket that holds each annotator's middle lead time and how many of their lead
    times lie below it; then the (project, completed_by, lead_time) index is walked
    from that bucket's floor to the middle one or two values: a walk of at most one
    bucket (5% of the lead-time range) instead of half the annotator's annotations. On
    PostgreSQL one statement for all annotators; elsewhere one small query each."""
    bucket_table = LeadTimeBucket._meta.db_table
    where, params = "project_id = %s AND count > 0", [project.pk]
    if user_id is not None:
        where += " AND user_id = %s"
        params.append(user_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT user_id, bucket, cum - count, total FROM (
                SELECT user_id, bucket, count,
                    SUM(count) OVER (PARTITION BY user_id ORDER BY bucket) AS cum,
                    SUM(count) OVER (PARTITION BY user_id) AS total
                FROM {bucket_table} WHERE {where}
            ) h
            WHERE cum > (total - 1) / 2 AND cum - count <= (total - 1) / 2
            """,
            params,
        )
        found = cursor.fetchall()
    # user -> (floor of the bucket, offset from it, how many middle values)
    wanted = {
        user: (lead_time_bucket_floor(bucket), (total - 1) // 2 - below, 2 - total % 2)
        for user, bucket, below, total in found
    }
    out: dict[int, float | None] = {}
    if not wanted:
        return out
    if connection.vendor == "postgresql":
        users = list(wanted)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT u.id, (
                    SELECT avg(m.lead_time) FROM (
                        SELECT a.lead_time FROM annotations_annotation a
                        WHERE a.project_id = %s AND a.completed_by_id = u.id
                          AND a.lead_time >= u.floor
                        ORDER BY a.lead_time OFFSET u.skip LIMIT u.take
                    ) m
                )
                FROM unnest(%s::int[], %s::float8[], %s::int[], %s::int[])
                    AS u(id, floor, skip, take)
                """,
                [
                    project.pk,
                    users,
                    [wanted[u][0] for u in users],
                    [wanted[u][1] for u in users],
                    [wanted[u][2] for u in users],
                ],
            )
            out.update({user: value for user, value in cursor.fetchall()})
        return out
    timed = Annotation.objects.filter(project=project, lead_time__isnull=False)
    for user, (floor, skip, take) in wanted.items():
        middle = list(
            timed.filter(completed_by_id=user, lead_time__gte=floor)
            .order_by("lead_time")
            .values_list("lead_time", flat=True)[skip : skip + take]
        )
        out[user] = sum(middle) / len(middle) if middle else None
    return out


def _ratio(total: float, count: int) -> float | None:
    return total / count if count else None


def annotator_rows(*, project: Project, user_id: int | None = None) -> list[dict]:
    """One row per annotator who wrote annotations in the project (``ANNOTATOR_FIELDS``).

    Throughput from the day rows, agreement from the annotator-pair totals, accuracy and
    review counts from the annotator totals, medians from the lead-time buckets."""
    days = AnnotatorDay.objects.filter(project=project)
    totals_q = AnnotatorPairTotal.objects.filter(project=project)
    stored_q = AnnotatorTotal.objects.filter(project=project)
    if user_id is not None:
        days = days.filter(user_id=user_id)
        totals_q = totals_q.filter(user_id=user_id)
        stored_q = stored_q.filter(user_id=user_id)
    totals = {
        row["user_id"]: row
        for row in days.values("user_id").annotate(
            n=Sum("annotations"),
            skips=Sum("skipped"),
            lt_sum=Sum("lead_time_sum"),
            lt_n=Sum("lead_time_count"),
        )
        if row["n"] or row["skips"]
    }
    medians = _medians(project=project, user_id=user_id)
    agreement = {
        row["user_id"]: row
        for row in totals_q.values("user_id").annotate(s=Sum("score_sum"), n=Sum("scored"))
    }
    stored = {row["user_id"]: row for row in stored_q.values()}
    emails = dict(get_user_model().objects.filter(pk__in=totals).values_list("pk", "email"))
    rows = []
    for user, total in sorted(totals.items()):
        scored = agreement.get(user, {})
        kept = stored.get(user) or dict.fromkeys(TOTAL_COLUMNS, 0)
        rows.append(
            {
                "user": user,
                "email": emails.get(user, ""),
                "annotations": total["n"],
                "skipped": total["skips"],
                "lead_time_mean": total["lt_sum"] / total["lt_n"] if total["lt_n"] else None,
                "lead_time_median": medians.get(user),
                "agreement": scored["s"] / scored["n"] if scored.get("n") else None,
                "gt_accuracy": _ratio(kept["gt_score_sum"], kept["gt_scored"]),
                "gt_tasks": kept["gt_tasks"],
                "benchmark_accuracy": _ratio(kept["benchmark_score_sum"], kept["benchmark_scored"]),
                "benchmark_tasks": kept["benchmark_tasks"],
                "reviews_accepted": kept["reviews_accepted"],
                "reviews_rejected": kept["reviews_rejected"],
            }
        )
    return rows


def quality_report(*, project: Project, user_id: int | None = None) -> dict:
    """The ``GET /quality/`` answer. ``user_id`` limits the annotator table, the daily
    counts and the label distribution's reader to one annotator (the label counts are
    the project's and are left out for one annotator)."""
    kept = ProjectAgreement.objects.filter(project=project).first()
    days = AnnotatorDay.objects.filter(project=project)
    if user_id is not None:
        days = days.filter(user_id=user_id)
    per_day = (
        days.values("day")
        .annotate(n=Sum("annotations"), skips=Sum("skipped"))
        .filter(Q(n__gt=0) | Q(skips__gt=0))
        .order_by("day")
    )
    labels: dict[str, dict[str, int]] = {}
    if user_id is None:
        counts = LabelCount.objects.filter(project=project, count__gt=0).order_by(
            "from_name", "-count", "label"
        )
        for name, label, count in counts.values_list("from_name", "label", "count"):
            labels.setdefault(name, {})[label] = count
    return {
        "agreement": _ratio(kept.agreement_sum, kept.agreement_count) if kept else None,
        "tasks_with_overlap": kept.overlap_tasks if kept else 0,
        "annotators": annotator_rows(project=project, user_id=user_id),
        "labels": labels,
        "per_day": [
            {"date": row["day"].isoformat(), "annotations": row["n"], "skipped": row["skips"]}
            for row in per_day
        ],
    }


# What an annotator's own row does not show them: each of these moves when they change
# one label, so reading it before and after tells them a co-annotator's answer
# (agreement) or a gold answer (ground-truth and benchmark accuracy; the task counts
# tell which tasks were benchmarks). Benchmark feedback, when the project gives it,
# comes once per task in the annotation POST's answer.
PRIVATE_FIELDS = ("agreement", "gt_accuracy", "gt_tasks", "benchmark_accuracy", "benchmark_tasks")


def report_for_annotator(report: dict) -> dict:
    """The quality report as an annotator sees it (their own row, ``PRIVATE_FIELDS`` and
    the project's agreement left empty)."""
    report["agreement"] = None
    rows_for_annotator(report["annotators"])
    return report


def rows_for_annotator(rows: list[dict]) -> list[dict]:
    for row in rows:
        row.update(dict.fromkeys(PRIVATE_FIELDS))
    return rows


def matrix_for_annotator(*, user) -> dict:
    """The agreement matrix as an annotator sees it: themselves only (pair scores and
    co-annotators' emails are for admins and reviewers)."""
    return {
        "annotators": [{"user": user.pk, "email": user.email}],
        "pairs": [],
        "matrix": [[1.0]],
    }


def annotators_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ANNOTATOR_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({key: cell(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


def agreement_histogram(*, project: Project, bins: int = 10) -> list[dict]:
    """Counts of task agreement in ``bins`` equal bins over [0, 1] (the last one closed)."""
    overlap = Task.objects.filter(
        project=project, total_annotations__gte=2, is_benchmark=False, agreement__isnull=False
    )
    aggregates = {
        f"b{i}": Count(
            "id",
            filter=Q(agreement__gte=i / bins)
            & (Q(agreement__lt=(i + 1) / bins) if i < bins - 1 else Q()),
        )
        for i in range(bins)
    }
    counts = overlap.aggregate(**aggregates)
    return [{"from": i / bins, "to": (i + 1) / bins, "tasks": counts[f"b{i}"]} for i in range(bins)]


def agreement_matrix(*, project: Project, user_id: int | None = None) -> dict:
    """Mean agreement for each pair of annotators over the tasks they share (benchmark
    tasks left out), from the annotator-pair totals. ``user_id`` keeps only that
    annotator's pairs."""
    totals = AnnotatorPairTotal.objects.filter(project=project, tasks__gt=0).exclude(
        other_user_id=F("user_id")
    )
    if user_id is not None:
        totals = totals.filter(user_id=user_id)
    rows = list(
        totals.order_by("user_id", "other_user_id").values(
            "user_id", "other_user_id", "score_sum", "scored", "tasks"
        )
    )
    for row in rows:
        row["agreement"] = row["score_sum"] / row["scored"] if row["scored"] else None
    ids = sorted({r["user_id"] for r in rows} | {r["other_user_id"] for r in rows})
    emails = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "email"))
    index = {user: i for i, user in enumerate(ids)}
    matrix: list[list[float | None]] = [[None] * len(ids) for _ in ids]
    for i in range(len(ids)):
        matrix[i][i] = 1.0
    for row in rows:
        matrix[index[row["user_id"]]][index[row["other_user_id"]]] = row["agreement"]
    return {
        "annotators": [{"user": user, "email": emails.get(user, "")} for user in ids],
        "pairs": [
            {
                "user_a": r["user_id"],
                "user_b": r["other_user_id"],
                "agreement": r["agreement"],
                "tasks": r["tasks"],
            }
            for r in rows
            if r["user_id"] < r["other_user_id"] or user_id is not None
        ],
        "matrix": matrix,
    }
