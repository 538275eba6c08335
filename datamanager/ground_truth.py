"""The Ground Truth Manager: mark a random fraction of the completions a filter leaves,
and clear every mark.

Filters are the Data Manager's, read at the level of the completion
(``datamanager.selectors.annotation_queryset``): "class Cat by annotator X" picks those
completions, not every completion of those tasks. Cancelled completions never count.
"""

from __future__ import annotations

import math

from django.db import transaction

from annotations.ground_truth import ground_truth_clear, ground_truth_set
from annotations.models import Annotation
from datamanager import selectors as dm
from datamanager.sql import time_limited
from labelhub.errors import ApiError
from projects.models import Project


def fraction_check(fraction) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, str)):
        raise ApiError(
            "fraction must be a number between 0 and 1",
            [{"field": "fraction", "message": "not a number"}],
        )
    try:
        value = float(fraction)
    except ValueError as exc:
        raise ApiError(
            "fraction must be a number between 0 and 1",
            [{"field": "fraction", "message": "not a number"}],
        ) from exc
    if not (0 < value <= 1) or math.isnan(value):
        raise ApiError(
            "fraction must be more than 0 and at most 1",
            [{"field": "fraction", "message": "out of range (0, 1]"}],
        )
    return value


@transaction.atomic
def ground_truth_sample(*, project: Project, filters, fraction) -> dict:
    """Mark ``fraction`` of the matching completions as ground truth, at random.

    Completions already marked count toward the fraction: with 100 matches, 5 of them
    already ground truth and ``fraction=0.2``, 15 more are marked (``ceil`` of the
    target, so any match with a positive fraction marks at least one). Answers
    ``{"marked": newly marked, "matched": matches, "ground_truth": marked in all}``.
    """
    fraction = fraction_check(fraction)
    conjunction, items = dm.parse_filters(filters)
    with time_limited(any(i.operator == "regex" for i in items)):
        matching = dm.annotation_queryset(project=project, filters=filters)
        matched = matching.count()
        already = matching.filter(ground_truth=True).count()
        target = math.ceil(matched * fraction - 1e-9)
        need = max(0, target - already)
        chosen = (
            list(
                matching.filter(ground_truth=False)
                .order_by("?")
                .values_list("id", flat=True)[:need]
            )
            if need
            else []
        )
    marked = len(ground_truth_set(project=project, annotation_ids=chosen, value=True))
    return {"marked": marked, "matched": matched, "ground_truth": already + marked}


def ground_truth_reset(*, project: Project) -> dict:
    """Clear every ground-truth flag in the project; the gold answers of its Benchmark QA
    copies are the benchmark project's and stay (``annotations.ground_truth``)."""
    return {"unmarked": len(ground_truth_clear(project=project))}


def ground_truth_stats(*, project: Project) -> dict:
    """For the manager page: how many completions there are and how many are marked."""
    completions = Annotation.objects.filter(project=project, was_cancelled=False)
    return {
        "completions": completions.count(),
        "ground_truth": completions.filter(ground_truth=True).count(),
    }


def ground_truth_preview(*, project: Project, filters) -> dict:
    """How many completions ``filters`` match and how many of those are ground truth,
    with the project's totals (the manager's step 1)."""
    conjunction, items = dm.parse_filters(filters)
    with time_limited(any(i.operator == "regex" for i in items)):
        matching = dm.annotation_queryset(project=project, filters=filters)
        matched = matching.count()
        already = matching.filter(ground_truth=True).count()
    stats = ground_truth_stats(project=project)
    return {
        "matched": matched,
        "ground_truth": already,
        "project_ground_truth": stats["ground_truth"],
        "project_completions": stats["completions"],
    }
