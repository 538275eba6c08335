"""The parts of the labels manager that read or write annotations: how many annotations
use a linked label, and Label Studio's bulk rename (``POST /api/labels/bulk``).

The labels and links themselves live in ``projects`` (``projects.labels``).
"""

from __future__ import annotations

import copy
import json
import re

from django.db import transaction
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce

from annotations import quality
from annotations.counters import annotation_figures_change
from annotations.models import Annotation
from annotations.result_index import result_index_set
from annotations.services import result_check
from labelhub.errors import ApiError
from projects.models import Project

BATCH = 500
# Strings whose JSON text is the same in every backend's stored form (ASCII, no
# escapes: PostgreSQL prints non-ASCII as it is, SQLite stores it \u-escaped), so a text
# search for them can narrow the annotations to read.
_PLAIN = re.compile(r"^[\w .,:;!?@#%&()+=<>\-]+$", re.ASCII)


def links_with_counts(links: QuerySet) -> QuerySet:
    """Label Studio's ``annotations_count`` on each link: the annotations of the link's
    project whose result text contains the label's value (its JSON text), one subquery
    per row of the page."""
    matching = (
        Annotation.objects.filter(project=OuterRef("project"))
        .filter(result__icontains=Cast(OuterRef("label__value"), output_field=CharField()))
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return links.annotate(
        annotations_count=Coalesce(Subquery(matching, output_field=IntegerField()), 0)
    )


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _renamed(result, old_label, new_label) -> tuple[list, int]:
    """The result with each region whose ``value[type]`` equals ``old_label`` set to
    ``new_label`` (Label Studio's rule), and how many regions changed."""
    if not isinstance(result, list):
        return result, 0
    changed = 0
    out = []
    for region in result:
        kind = region.get("type") if isinstance(region, dict) else None
        value = region.get("value") if kind is not None else None
        if isinstance(value, dict) and kind in value and value[kind] == old_label:
            region = {**region, "value": {**value, kind: new_label}}
            changed += 1
        out.append(region)
    return out, changed


@transaction.atomic
def annotations_label_rename(*, projects: list[Project], old_label, new_label) -> int:
    """Rename a label in the stored annotations of ``projects``; answers how many
    regions changed. Each changed result is checked against its project's config (a 400
    naming the result, and nothing written) and moves the label counts, the result
    index and the agreement as an edit does; it does not count as rework (reviews
    stay). Annotations are read in pk batches, narrowed by a text search for the old
    label's strings when they are plain."""
    total = 0
    needles = [s for s in _strings(old_label) if _PLAIN.match(s)]
    for project in projects:
        rows = Annotation.objects.filter(project=project)
        for needle in needles:
            rows = rows.filter(Q(result__icontains=json.dumps(needle)))
        after = 0
        while True:
            batch = list(rows.filter(pk__gt=after).order_by("pk")[:BATCH])
            if not batch:
                break
            after = batch[-1].pk
            for annotation in batch:
                result, changed = _renamed(annotation.result, old_label, new_label)
                if not changed:
                    continue
                errors = result_check(project=project, result=result)
                if errors:
                    raise ApiError(
                        f"new_label: annotation {annotation.pk}: {errors[0]['message']}",
                        [{**errors[0], "field": "new_label", "annotation": annotation.pk}],
                    )
                with quality.task_figures_kept(task_id=annotation.task_id):
                    before = copy.copy(annotation)
                    annotation.result = result
                    annotation.save(update_fields=["result"])
                    annotation_figures_change(before=before, annotation=annotation)
                    result_index_set(annotation=annotation)
                total += changed
    return total
