"""The Data Manager's reads: one engine for the pages, the task API, actions and the
Ground Truth Manager.

- ``parse_query``: validate a Label Studio query against the allow-list (400 otherwise).
- ``task_queryset``: the project's tasks that the filters and selection leave.
- ``annotation_queryset``: the completions the filters leave, each filter read at the
  level of the completion ("class Cat by annotator X" is one completion).
- ``tasks_page``: one page, by keyset (``after`` a cursor) or by page number. Keyset
  pages cost the same however deep they are: ``WHERE (key, id) > (last key, last id)``
  on an index, where an OFFSET would walk every row before the page.
- ``tasks_counts``: the "Found" count and the totals, asked for apart from the page so
  the list shows before the count is done.

Queries that carry a regex run under a time limit (``sql.time_limited``).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from functools import reduce
from operator import and_, or_

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime

from annotations.models import Annotation, Prediction
from datamanager import columns as cols
from datamanager import query as query_format
from datamanager.sql import time_limited
from labelhub.errors import ApiError
from labelhub.jsonlimits import check_bytes
from tasks.models import Task

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 1000


def parse_query(raw) -> query_format.Query:
    return query_format.parse(raw, known=cols.KNOWN, orderable=cols.ORDERABLE)


def parse_filters(filters) -> tuple[str, list[query_format.FilterItem]]:
    """Just the ``filters`` part (``{"conjunction", "items"}``), for the GT Manager."""
    if filters in (None, {}, []):
        return "and", []
    if isinstance(filters, str):
        filters = query_format.load(filters)
    if isinstance(filters, dict) and "filters" in filters and "items" not in filters:
        filters = filters["filters"]
    return query_format.parse_filters(filters, known=cols.KNOWN)


def _combine(parts: list, conjunction: str) -> Q:
    return reduce(and_ if conjunction == "and" else or_, parts) if parts else Q()


def _grouped_exists(
    model_qs: QuerySet, conds: list[tuple[str, cols.Cond]], conjunction: str
) -> list[Q]:
    """Positive conditions on related rows, as few EXISTS as keep their meaning.

    With "and", conditions on different columns must hold for the same row ("Cat" by
    "X": one completion); the same column twice ("by X" and "by Y") needs two rows, so
    it opens another group. With "or", one EXISTS of the OR is the same thing.
    """
    if conjunction == "or":
        return [Q(Exists(model_qs.filter(_combine([c.q for _, c in conds], "or"))))]
    groups: list[dict[str, Q]] = []
    for column, cond in conds:
        for group in groups:
            if column not in group:
                group[column] = cond.q
                break
        else:
            groups.append({column: cond.q})
    return [Q(Exists(model_qs.filter(_combine(list(g.values()), "and")))) for g in groups]


def filter_condition(
    conjunction: str,
    items: list[query_format.FilterItem],
    ctx: cols.ProjectContext,
    task_bound: Q | None = None,
) -> Q:
    """The task-level condition of a list of filter items.

    ``task_bound`` (a condition on ``task_id``) is repeated inside each EXISTS: a keyset
    page after task id X then reads annotations from X on, where PostgreSQL would not
    carry ``id > X`` over to the joined side by itself.
    """
    project = ctx.project
    related = {
        "annotation": Annotation.objects.filter(task=OuterRef("pk"), project=project),
        "prediction": Prediction.objects.filter(task=OuterRef("pk"), project=project),
    }
    if task_bound is not None:
        related = {scope: qs.filter(task_bound) for scope, qs in related.items()}
    parts: list[Q] = []
    positive: dict[str, list] = {"annotation": [], "prediction": []}
    for item in items:
        cond = cols.builder_for(item.column, level="task")(item, ctx)
        if cond.scope == "task":
            parts.append(cond.q)
        elif cond.negate:
            parts.append(~Q(Exists(related[cond.scope].filter(cond.q))))
        else:
            positive[cond.scope].append((item.column.id, cond))
    for scope, conds in positive.items():
        if conds:
            parts += _grouped_exists(related[scope], conds, conjunction)
    return _combine(parts, conjunction)


def task_queryset(
    *,
    project,
    query: query_format.Query,
    ctx: cols.ProjectContext | None = None,
    task_bound: Q | None = None,
) -> QuerySet:
    """Tasks of the project left by the query's filters and ``selectedItems`` (unordered)."""
    ctx = ctx or cols.ProjectContext.for_project(project)
    queryset = Task.objects.filter(project=project)
    if query.items:
        queryset = queryset.filter(
            filter_condition(query.conjunction, query.items, ctx, task_bound)
        )
    selection = query.selection
    if selection is not None:
        if selection.all:
            if selection.ids:
                queryset = queryset.exclude(pk__in=selection.ids)
        else:
            queryset = queryset.filter(pk__in=selection.ids)
    return queryset


def annotation_queryset(*, project, filters=None, include_cancelled: bool = False) -> QuerySet:
    """Completions of the project that match ``filters`` (``{"conjunction", "items"}``),
    each filter read for the completion itself where it can be (results, annotator, ground
    truth, reviews, date, lead time) and for its task otherwise (data, meta, predictions)."""
    conjunction, items = parse_filters(filters)
    ctx = cols.ProjectContext.for_project(project)
    queryset = Annotation.objects.filter(project=project)
    if not include_cancelled:
        queryset = queryset.filter(was_cancelled=False)
    parts = []
    for item in items:
        cond = cols.builder_for(item.column, level="annotation")(item, ctx)
        if cond.scope == "annotation":
            parts.append(~cond.q if cond.negate else cond.q)
        elif cond.scope == "task":
            parts.append(Q(Exists(Task.objects.filter(pk=OuterRef("task_id")).filter(cond.q))))
        else:
            exists = Q(Exists(Prediction.objects.filter(task=OuterRef("task_id")).filter(cond.q)))
            parts.append(~exists if cond.negate else exists)
    if parts:
        queryset = queryset.filter(_combine(parts, conjunction))
    return queryset


# ---------------------------------------------------------------------------- pages


def _order_keys(query: query_format.Query, ctx: cols.ProjectContext) -> list[tuple[object, bool]]:
    """(expression, descending) pairs, always ending with the id as the tie-breaker."""
    keys, id_desc = [], False
    for item in query.ordering:
        if item.column.name in ("id", "inner_id"):
            id_desc = item.descending
            break  # the id is unique: keys after it never decide anything
        keys.append((cols.order_expression(item.column, ctx), item.descending))
    return [*keys, (F("id"), id_desc)]


def ordered(
    queryset: QuerySet, query: query_format.Query, ctx: cols.ProjectContext
) -> tuple[QuerySet, list[str], list[bool]]:
    """Order by the query's columns (NULLs last both ways) then id; the keys are
    annotated as ``order_key_0``, ``order_key_1``... so a keyset cursor can be read off the last row."""
    names, descs, order_by = [], [], []
    for index, (expression, desc) in enumerate(_order_keys(query, ctx)):
        if isinstance(expression, F) and getattr(expression, "name", None) == "id":
            name = "id"
        else:
            name = f"order_key_{index}"
            queryset = queryset.annotate(**{name: expression})
        names.append(name)
        descs.append(desc)
        ref = F(name)
        order_by.append(ref.desc(nulls_last=True) if desc else ref.asc(nulls_last=True))
    return queryset.order_by(*order_by), names, descs


def label_candidates(*, project, query: query_format.Query) -> QuerySet:
    """ "Label tasks as displayed": the tasks the query shows, in its order, for
    ``annotations.stream.next_task(candidates=...)``."""
    ctx = cols.ProjectContext.for_project(project)
    queryset, _, _ = ordered(task_queryset(project=project, query=query, ctx=ctx), query, ctx)
    return queryset


def _encode(values: list) -> str:
    plain = [{"$dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return (
        base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def _decode(cursor: str, size: int) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        check_bytes(raw, "after")
        values = json.loads(raw)
    except (ValueError, TypeError, ApiError) as exc:
        raise ApiError("invalid cursor", [{"field": "after", "message": "not a cursor"}]) from exc
    if not isinstance(values, list) or len(values) != size:
        raise ApiError(
            "invalid cursor", [{"field": "after", "message": "does not fit this ordering"}]
        )
    out: list = []
    for value in values:
        if isinstance(value, dict) and set(value) == {"$dt"} and isinstance(value["$dt"], str):
            parsed = parse_datetime(value["$dt"])
            if parsed is None:
                raise ApiError("invalid cursor", [{"field": "after", "message": "bad date"}])
            out.append(parsed)
        elif value is None or isinstance(value, (bool, int, float, str)):
            out.append(value)
        else:
            raise ApiError("invalid cursor", [{"field": "after", "message": "bad value"}])
    if not isinstance(out[-1], int) or isinstance(out[-1], bool):
        raise ApiError("invalid cursor", [{"field": "after", "message": "bad id"}])
    return out


def _after(names: list[str], descs: list[bool], values: list) -> Q:
    """Rows after ``values`` in (k0, k1, ..., id) order with NULLs last: built from the
    last key backwards, ``after_i OR (equal_i AND rest)``."""
    condition = Q(pk__in=[])  # nothing follows an empty key list (never: id is last)
    for index, (name, desc, value) in enumerate(
        reversed(list(zip(names, descs, values, strict=True)))
    ):
        if value is None:  # only NULLs follow a NULL, ordered by the later keys
            after, equal = Q(pk__in=[]), Q(**{f"{name}__isnull": True})
        else:
            after = Q(**{f"{name}__{'lt' if desc else 'gt'}": value})
            if name != "id":
                after |= Q(**{f"{name}__isnull": True})
            equal = Q(**{name: value})
        condition = after if index == 0 else after | (equal & condition)
    return condition


def row_annotations(queryset: QuerySet, ctx: cols.ProjectContext) -> QuerySet:
    """What a Data Manager row shows beyond the task's own columns."""
    return queryset.annotate(
        reviews_accepted=cols.reviews_count(True),
        reviews_rejected=cols.reviews_count(False),
        predictions_score=cols.predictions_score(ctx),
        completed_at=cols.completed_at(ctx),
        ground_truth=cols.has_ground_truth(ctx),
    )


def _id_bound(project, *, descending: bool, after: int | None) -> Q:
    """Where an id-ordered page starts, as a condition on ``task_id`` for the EXISTS
    subqueries: after the cursor, or else at the project's first (last) task. Without it
    PostgreSQL merges with the annotations in task-id order from the very first one,
    reading every other project's (and every earlier page's) annotations first."""
    if after is not None:
        return Q(task_id__lt=after) if descending else Q(task_id__gt=after)
    edge = (
        Task.objects.filter(project=project)
        .order_by("-id" if descending else "id")
        .values("id")[:1]
    )
    return Q(task_id__lte=Subquery(edge)) if descending else Q(task_id__gte=Subquery(edge))


def _rows(ids: list[int], ctx: cols.ProjectContext, decorate=None) -> list[Task]:
    """The page's tasks with their row columns, in ``ids`` order. A second query: the
    per-row subqueries then run for this page only, never under a sort of every row."""
    queryset = row_annotations(Task.objects.filter(pk__in=ids), ctx)
    if decorate is not None:
        queryset = decorate(queryset)
    by_id = {task.pk: task for task in queryset}
    return [by_id[i] for i in ids if i in by_id]


def tasks_page(
    *,
    project,
    query: query_format.Query,
    after: str | None = None,
    page: int = 1,
    size: int = DEFAULT_PAGE_SIZE,
    decorate=None,
) -> tuple[list[Task], str | None]:
    """One page of tasks and the cursor of the next page (None at the end).

    ``after`` is None: page ``page`` by OFFSET (the task API's contract). ``after`` is a
    cursor, or "" for the first page: keyset pagination. ``decorate`` may add prefetches
    to the rows' queryset.
    """
    ctx = cols.ProjectContext.for_project(project)
    size = max(1, min(size, MAX_PAGE_SIZE))
    order_keys = _order_keys(query, ctx)
    values = _decode(after, len(order_keys)) if after else None
    bound = None
    if len(order_keys) == 1:  # ordered by id alone: the join can start where the page starts
        bound = _id_bound(project, descending=order_keys[0][1], after=values[0] if values else None)
    queryset = task_queryset(project=project, query=query, ctx=ctx, task_bound=bound)
    queryset, names, descs = ordered(queryset, query, ctx)
    if values is not None:
        queryset = queryset.filter(_after(names, descs, values))
    offset = 0 if after is not None else (page - 1) * size
    with time_limited(query.has_regex):
        if names == ["id"]:
            # Ordered by id alone: an index walk with no sort, so the row columns can be
            # computed in the same query, for the page's rows only.
            rows_qs = row_annotations(queryset, ctx)
            if decorate is not None:
                rows_qs = decorate(rows_qs)
            rows = list(rows_qs[offset : offset + size + 1])
            keys: list[tuple] = [(t.pk,) for t in rows]
            rows = rows[:size]
        else:
            keys = list(queryset.values_list(*names)[offset : offset + size + 1])
            rows = _rows([k[-1] for k in keys[:size]], ctx, decorate)
    cursor = _encode(list(keys[size - 1])) if len(keys) > size else None
    return rows, cursor


def tasks_counts(*, project, query: query_format.Query) -> dict:
    """``{total, total_annotations, total_predictions}`` of what the filters leave."""
    queryset = task_queryset(project=project, query=query)
    with time_limited(query.has_regex):
        return queryset.order_by().aggregate(
            total=Count("id"),
            total_annotations=Coalesce(Sum("total_annotations"), 0),
            total_predictions=Coalesce(Sum("total_predictions"), 0),
        )


def tasks_found(*, project, query: query_format.Query) -> int:
    """The "Found" count alone (``tasks_counts`` without the sums)."""
    with time_limited(query.has_regex):
        return task_queryset(project=project, query=query).order_by().count()


def annotators_of(task_ids: list[int]) -> dict[int, list[int]]:
    """Each task's annotators (user ids), in one query for a page."""
    out: dict[int, list[int]] = {}
    pairs = (
        Annotation.objects.filter(task_id__in=task_ids, completed_by__isnull=False)
        .values_list("task_id", "completed_by_id")
        .distinct()
        .order_by("task_id", "completed_by_id")
    )
    for task_id, user_id in pairs:
        out.setdefault(task_id, []).append(user_id)
    return out
