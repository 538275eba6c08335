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

import json
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from annotations.models import Annotation, AnnotationDraft, Prediction, ReviewRecord
from datamanager import columns as cols
from datamanager import keyset
from datamanager import query as query_format
from datamanager.sql import SerialPlan, time_limited
from labelhub import registrations
from labelhub.prepared import Markers, Prepared
from projects.label_config import ParsedConfig
from projects.models import Project
from tasks.models import Task
from tasks.services import task_data_keys_add, task_data_keys_sample

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 1000


def parse_query(raw) -> query_format.Query:
    registrations.load()  # the columns of apps above (io_storages, importers)
    return query_format.parse(raw, known=cols.KNOWN, orderable=cols.ORDERABLE)


def parse_filters(filters) -> tuple[str, list[query_format.FilterItem]]:
    """Just the ``filters`` part (``{"conjunction", "items"}``), for the GT Manager."""
    registrations.load()
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
    model_qs: QuerySet, conds: list[tuple[str, cols.Cond]], conjunction: str, match: str = "task"
) -> list[Q]:
    """Positive conditions on related rows, as few EXISTS as keep their meaning.

    ``match`` "task" (Label Studio's meaning, the default): with "and", each condition
    holds for some row of the task, one EXISTS each ("Cat" and "by X": a completion says
    Cat, and X completed the task). ``match`` "annotation": conditions on different
    columns must hold for the same row ("Cat" by "X": one completion); the same column
    twice ("by X" and "by Y") needs two rows, so it opens another group. With "or", one
    EXISTS of the OR is the same thing either way.
    """
    if conjunction == "or":
        return [Q(Exists(model_qs.filter(_combine([c.q for _, c in conds], "or"))))]
    if match == "task":
        return [Q(Exists(model_qs.filter(cond.q))) for _, cond in conds]
    groups: list[dict[str, Q]] = []
    for column, cond in conds:
        for group in groups:
            if column not in group:
                group[column] = cond.q
                break
        else:
            groups.append({column: cond.q})
    return [Q(Exists(model_qs.filter(_combine(list(g.values()), "and")))) for g in groups]


# A label on fewer than this share of the project's tasks is "selective" (see _use_hint).
HINT_SHARE = 50
HINT_PROBE_MAX = 20_000


def _use_hint(cond: cols.Cond, hints: str, ctx: cols.ProjectContext) -> bool:
    """Whether to AND a condition's task hint in. For a count or a sorted list, always:
    the database then reads the label's tasks only. For a page walked in id order, only
    when the label is rare: with a common one the id walk finds a page's worth at once,
    while starting from the label's tasks would read and sort all of them (measured on
    SQLite, 100k tasks, a label on a third of them: 25 ms without the hint, 180 with).
    Rare means fewer than 1/HINT_SHARE of the project's tasks, found by counting at most
    that many index entries."""
    if hints != "selective":
        return hints == "always"
    limit = max(100, min(HINT_PROBE_MAX, (ctx.project.task_number or 0) // HINT_SHARE))
    return cond.task_hint[:limit].count() < limit


def filter_condition(
    conjunction: str,
    items: list[query_format.FilterItem],
    ctx: cols.ProjectContext,
    task_bound: Q | None = None,
    hints: str = "always",
    match: str = "task",
) -> Q:
    """The task-level condition of a list of filter items; ``match``: see
    ``_grouped_exists``.

    ``task_bound`` (a condition on ``task_id``) is repeated inside each EXISTS: a keyset
    page after task id X then reads annotations from X on, where PostgreSQL would not
    carry ``id > X`` over to the joined side by itself. ``hints``: "always", "selective"
    or "never" (see ``_use_hint``).
    """
    project = ctx.project
    # ``project`` is implied by the task; PostgreSQL's plans were measured with it. SQLite
    # without table statistics (every new database) takes it as the way in and walks
    # the project's (project, ground_truth) index for every task: 4 s for one page of a
    # 10k-task project with 1,000 annotations, 2 ms once the task's index is used.
    same_project = {"project": project} if connection.vendor == "postgresql" else {}
    related = {
        "annotation": Annotation.objects.filter(task=OuterRef("pk"), **same_project),
        "prediction": Prediction.objects.filter(task=OuterRef("pk"), **same_project),
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
            if cond.task_hint is not None and conjunction == "and" and _use_hint(cond, hints, ctx):
                parts.append(Q(pk__in=cond.task_hint))  # implied by the EXISTS
    for scope, conds in positive.items():
        if conds:
            parts += _grouped_exists(related[scope], conds, conjunction, match)
    return _combine(parts, conjunction)


def project_tasks(project) -> QuerySet:
    """The project's tasks, as ``project_id BETWEEN p AND p`` rather than ``= p``, on
    purpose. With ``=``, PostgreSQL drops ``project_id`` from ``ORDER BY project_id, id``
    (it is constant) and, assuming the project's rows are spread evenly over the ids, may
    walk the primary key from id 1, skipping every older project's tasks: 240 ms for the
    first page of a 100k-task project behind another of 100k, and seconds behind 1M. As a
    range, only the (project, id) index gives that order: 0.1 ms, whatever came before.
    SQLite keeps the plain ``=``: its planner already takes that index for this order."""
    if connection.vendor == "postgresql":
        return Task.objects.filter(project_id__gte=project.pk, project_id__lte=project.pk)
    return Task.objects.filter(project_id=project.pk)


def shows_benchmarks(query: query_format.Query) -> bool:
    """Whether the query asks about Benchmark QA copies (a filter on their column)."""
    return any(item.column.name == "is_benchmark" for item in query.items)


def benchmark_count(*, project) -> int:
    """How many Benchmark QA copies the project holds (a walk of the partial
    ``task_benchmark`` index)."""
    return project_tasks(project).filter(is_benchmark=True).order_by().count()


def task_queryset(
    *,
    project,
    query: query_format.Query,
    ctx: cols.ProjectContext | None = None,
    task_bound: Q | None = None,
    hints: str = "always",
) -> QuerySet:
    """Tasks of the project left by the query's filters and ``selectedItems`` (unordered).
    ``hints``: see ``filter_condition``.

    Benchmark QA copies (``is_benchmark``, linked in from the benchmark project) are not
    production data: they stay out of the list, its counts, its actions (predictions,
    labeling, deletes) and its exports unless a filter names the "Benchmark" column
    (``shows_benchmarks``), so that every count the page shows is what an action or an
    export then gets (issue #26)."""
    ctx = ctx or cols.ProjectContext.for_project(project)
    queryset = project_tasks(project)
    if not (query.benchmarks or shows_benchmarks(query)):
        queryset = queryset.filter(is_benchmark=False)
    if query.items:
        queryset = queryset.filter(
            filter_condition(
                query.conjunction, query.items, ctx, task_bound, hints, match=query.match
            )
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
    keys: list[tuple[object, bool]] = []
    id_desc = False
    for item in query.ordering:
        if item.column.name in ("id", "inner_id"):
            id_desc = item.descending
            break  # the id is unique: keys after it never decide anything
        keys.extend((key, item.descending) for key in cols.order_expressions(item.column, ctx))
    return [*keys, (F("id"), id_desc)]


def ordered(
    queryset: QuerySet,
    query: query_format.Query,
    ctx: cols.ProjectContext,
    *,
    reverse: bool = False,
) -> tuple[QuerySet, list[str], list[bool]]:
    """Order by the query's columns (NULLs last both ways) then id; the keys are
    annotated as ``order_key_0``, ``order_key_1``... so a keyset cursor can be read off the last row.
    ``reverse``: the exact opposite order (NULLs first), to walk back from a row."""
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
        if reverse:
            order_by.append(ref.asc(nulls_first=True) if desc else ref.desc(nulls_first=True))
        else:
            order_by.append(ref.desc(nulls_last=True) if desc else ref.asc(nulls_last=True))
    if names == ["id"]:  # the (project, id) index's order (see project_tasks)
        backwards = descs[0] != reverse
        order_by.insert(0, F("project_id").desc() if backwards else F("project_id").asc())
    return queryset.order_by(*order_by), names, descs


def label_candidates(*, project, query: query_format.Query) -> QuerySet:
    """ "Label tasks as displayed": the tasks the query shows, in its order, for
    ``annotations.stream.next_task(candidates=...)``."""
    ctx = cols.ProjectContext.for_project(project)
    queryset, _, _ = ordered(task_queryset(project=project, query=query, ctx=ctx), query, ctx)
    return queryset


def row_annotations(queryset: QuerySet, ctx: cols.ProjectContext) -> QuerySet:
    """What a Data Manager row shows beyond the task's own columns."""
    registrations.load()
    return queryset.annotate(
        reviews_accepted=cols.reviews_count(True),
        reviews_rejected=cols.reviews_count(False),
        predictions_score=cols.predictions_score(ctx),
        completed_at=cols.completed_at(ctx),
        ground_truth=cols.has_ground_truth(ctx),
        **{name: value() for name, value in cols.ROW_VALUES.items()},
    )


def _id_bound(project, *, descending: bool, after: int | None) -> Q:
    """Where an id-ordered page starts, as a condition on ``task_id`` for the EXISTS
    subqueries: after the cursor, or else at the project's first (last) task. Without it
    PostgreSQL merges with the annotations in task-id order from the very first one,
    reading every other project's (and every earlier page's) annotations first."""
    if after is not None:
        return Q(task_id__lt=after) if descending else Q(task_id__gt=after)
    edge = (
        project_tasks(project)
        .order_by(*(("-project_id", "-id") if descending else ("project_id", "id")))
        .values("id")[:1]
    )
    return Q(task_id__lte=Subquery(edge)) if descending else Q(task_id__gte=Subquery(edge))


# Pages of up to this many tasks read their rows and summaries with queries compiled
# once per page size (labelhub.prepared); bigger pages build them each time.
PREPARED_PAGE_SIZE = 100


def _page_ids(m: Markers, count: int) -> list[int]:
    return m.ints("ids", count)


# The row columns read nothing of the project's context (``row_annotations``), so one
# compiled query serves every project.
_NO_CONTEXT = cols.ProjectContext(project=None, label_keys=[], labels=[])
_ROWS = Prepared(
    lambda m, count: row_annotations(Task.objects.filter(pk__in=_page_ids(m, count)), _NO_CONTEXT)
)
_ANNOTATORS = Prepared(
    lambda m, count: (
        Annotation.objects.filter(task_id__in=_page_ids(m, count), completed_by__isnull=False)
        .values_list("task_id", "completed_by_id")
        .distinct()
        .order_by("task_id", "completed_by_id")
    )
)


def _summary_annotations(m: Markers, count: int, own: bool) -> QuerySet:
    annotations = Annotation.objects.filter(task_id__in=_page_ids(m, count))
    if own:
        annotations = annotations.filter(completed_by_id=m.int("user"))
    return annotations.order_by("id").values_list("task_id", "id", "result", "completed_by_id")


_SUMMARY_ANNOTATIONS = Prepared(_summary_annotations)
_SUMMARY_PREDICTIONS = Prepared(
    lambda m, count: (
        Prediction.objects.filter(task_id__in=_page_ids(m, count))
        .order_by("id")
        .values_list("task_id", "model_version", "result")
    )
)
_SUMMARY_DRAFTS = Prepared(
    lambda m, count: (
        AnnotationDraft.objects.filter(task_id__in=_page_ids(m, count), user_id=m.int("user"))
        .select_related("user")
        .order_by("id")
    )
)


def _rows(ids: list[int], ctx: cols.ProjectContext, decorate=None) -> list[Task]:
    """The page's tasks with their row columns, in ``ids`` order. A second query: the
    per-row subqueries then run for this page only, never under a sort of every row."""
    if decorate is None and 0 < len(ids) <= PREPARED_PAGE_SIZE:
        found = _ROWS.run((len(ids),), ids=ids)
    else:
        queryset = row_annotations(Task.objects.filter(pk__in=ids), ctx)
        if decorate is not None:
            queryset = decorate(queryset)
        found = list(queryset)
    by_id = {task.pk: task for task in found}
    return [by_id[i] for i in ids if i in by_id]


@dataclass
class TaskWindow:
    """One page of the Data Manager: its rows and the keyset cursors around it.
    ``next_after`` is None at the end; ``previous_before`` is None at the start."""

    rows: list[Task]
    next_after: str | None
    previous_before: str | None


def _window(
    *,
    project,
    query: query_format.Query,
    values: list | None,
    backward: bool = False,
    offset: int = 0,
    size: int,
    decorate=None,
) -> tuple[list[Task], list[tuple], bool]:
    """``size`` rows after ``values`` (or before them, ``backward``), or from ``offset``
    when there is no cursor: (rows in the query's order, their key tuples, whether more
    rows follow in the walking direction)."""
    plain = (
        values is None
        and not backward
        and size <= PREPARED_PAGE_SIZE
        and not query.items
        and not query.ordering
        and query.selection is None
    )
    if plain and not offset and decorate is None:
        # The first page of the plain list (no filter, by id): its query compiled once.
        rows = _PLAIN_FIRST_PAGE.run((query.benchmarks, size), project=project.pk)
        return rows[:size], [(t.pk,) for t in rows[:size]], len(rows) > size
    ctx = cols.ProjectContext.for_project(project)
    if plain and offset:
        # A later page of the plain list: the ids past the OFFSET (an index-only walk of
        # task_project_walk), compiled once with the window as values, then the rows.
        ids = _PLAIN_PAGE_IDS.run(
            (query.benchmarks,), project=project.pk, limit=size + 1, offset=offset
        )
        return _rows(ids[:size], ctx, decorate), [(pk,) for pk in ids[:size]], len(ids) > size
    order_keys = _order_keys(query, ctx)
    bound = None
    if len(order_keys) == 1:  # ordered by id alone: the join can start where the page starts
        walking_desc = order_keys[0][1] != backward
        bound = _id_bound(project, descending=walking_desc, after=values[0] if values else None)
    hints = "selective" if len(order_keys) == 1 else "always"
    queryset = task_queryset(project=project, query=query, ctx=ctx, task_bound=bound, hints=hints)
    queryset, names, descs = ordered(queryset, query, ctx, reverse=backward)
    if values is not None:
        queryset = queryset.filter(
            keyset.rows_before(names, descs, values)
            if backward
            else keyset.rows_after(names, descs, values)
        )
    walk = names == ["id"] and not offset
    if walk and connection.vendor == "postgresql" and _probes_related(query, ctx):
        queryset = queryset.filter(SerialPlan())
    with time_limited(query.has_regex):
        if walk:
            # Ordered by id alone: an index walk with no sort, so the row columns can be
            # computed in the same query, for the page's rows only. Not past an OFFSET:
            # PostgreSQL computes the select list of the rows it skips too (page 333 of
            # 20k tasks took 1.0 s that way, 0.1 s with the ids first).
            rows_qs = row_annotations(queryset, ctx)
            if decorate is not None:
                rows_qs = decorate(rows_qs)
            rows = list(rows_qs[offset : offset + size + 1])
            keys: list[tuple] = [(t.pk,) for t in rows]
            rows = rows[:size]
        else:
            keys = list(queryset.values_list(*names)[offset : offset + size + 1])
            rows = _rows([k[-1] for k in keys[:size]], ctx, decorate)
    more = len(keys) > size
    keys = keys[:size]
    if backward:
        rows.reverse()
        keys.reverse()
    return rows, keys, more


def _plain_first_page(m: Markers, benchmarks: bool, size: int) -> QuerySet:
    """``_window``'s walk for the first page with no filter, selection or ordering."""
    project = Project(pk=m.int("project"))
    query = query_format.Query(benchmarks=benchmarks)
    bound = _id_bound(project, descending=False, after=None)
    queryset = task_queryset(
        project=project, query=query, ctx=_NO_CONTEXT, task_bound=bound, hints="selective"
    )
    queryset, _, _ = ordered(queryset, query, _NO_CONTEXT)
    return row_annotations(queryset, _NO_CONTEXT)[: size + 1]


_PLAIN_FIRST_PAGE = Prepared(_plain_first_page)


def _plain_page_ids(m: Markers, benchmarks: bool) -> QuerySet:
    """The ids of the plain list (no filter, selection or ordering) in its order, for a
    page by OFFSET (``Prepared(paged=True)``: the window is a value)."""
    project = Project(pk=m.int("project"))
    query = query_format.Query(benchmarks=benchmarks)
    queryset = task_queryset(project=project, query=query, ctx=_NO_CONTEXT)
    queryset, _, _ = ordered(queryset, query, _NO_CONTEXT)
    return queryset.values_list("id", flat=True)


_PLAIN_PAGE_IDS = Prepared(_plain_page_ids, paged=True)


def _probes_related(query: query_format.Query, ctx: cols.ProjectContext) -> bool:
    """Whether a filter of the query is a condition on the task's annotations or
    predictions (an EXISTS probed per task, see ``sql.SerialPlan``)."""
    return any(
        cols.builder_for(item.column, level="task")(item, ctx).scope != "task"
        for item in query.items
    )


def _check_size(query: query_format.Query, project, cursor: str) -> list:
    ctx = cols.ProjectContext.for_project(project)
    return keyset.cursor_decode(cursor, len(_order_keys(query, ctx)))


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
    size = max(1, min(size, MAX_PAGE_SIZE))
    values = _check_size(query, project, after) if after else None
    offset = 0 if after is not None else (page - 1) * size
    rows, keys, more = _window(
        project=project, query=query, values=values, offset=offset, size=size, decorate=decorate
    )
    return rows, keyset.cursor_encode(list(keys[-1])) if more else None


def tasks_window(
    *,
    project,
    query: query_format.Query,
    after: str | None = None,
    before: str | None = None,
    page: int = 1,
    size: int = DEFAULT_PAGE_SIZE,
    last: int | None = None,
) -> TaskWindow:
    """The Data Manager's page: next and previous by keyset (``after`` / ``before`` a
    cursor), a page number by OFFSET (going straight to page 2000 has to skip the rows
    before it; stepping from page to page never does), and the last page (``last``: the
    number of rows on it, the count modulo the page size, so that its previous pages keep
    their bounds) as the first page of the reversed order, so it costs what the first does."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    if before is not None or last is not None:
        values = _check_size(query, project, before) if before else None
        rows, keys, more = _window(
            project=project,
            query=query,
            values=values,
            backward=True,
            size=size if values is not None or not last else max(1, min(last, size)),
        )
        return TaskWindow(
            rows=rows,
            next_after=keyset.cursor_encode(list(keys[-1]))
            if keys and values is not None
            else None,
            previous_before=keyset.cursor_encode(list(keys[0])) if more else None,
        )
    values = _check_size(query, project, after) if after else None
    offset = 0 if values is not None else (max(page, 1) - 1) * size
    rows, keys, more = _window(
        project=project, query=query, values=values, offset=offset, size=size
    )
    started = values is not None or offset > 0
    return TaskWindow(
        rows=rows,
        next_after=keyset.cursor_encode(list(keys[-1])) if more else None,
        previous_before=keyset.cursor_encode(list(keys[0])) if keys and started else None,
    )


def task_neighbours(
    *, project, query: query_format.Query, task_id: int
) -> tuple[int | None, int | None]:
    """The tasks before and after ``task_id`` in the query's filter and order (the editor's
    Previous and Next): the task's own order keys, then one keyset row each way."""
    ctx = cols.ProjectContext.for_project(project)
    queryset = task_queryset(project=project, query=query, ctx=ctx)
    forward, names, descs = ordered(queryset, query, ctx)
    with time_limited(query.has_regex):
        values = (
            ordered(Task.objects.filter(project=project, pk=task_id), query, ctx)[0]
            .values_list(*names)
            .first()
        )
        if values is None:
            return None, None
        following = forward.filter(keyset.rows_after(names, descs, list(values))).values_list(
            "id", flat=True
        )
        backward, _, _ = ordered(queryset, query, ctx, reverse=True)
        previous = backward.filter(keyset.rows_before(names, descs, list(values))).values_list(
            "id", flat=True
        )
        return previous.first(), following.first()


def tasks_counts(*, project, query: query_format.Query) -> dict:
    """``{total, total_annotations, total_predictions}`` of what the filters leave.

    With no filter and no selection these are the project's own counters (kept by the
    services that write, ``annotations.counters``), which leave out the Benchmark QA
    copies as ``task_queryset`` does. The sums
    read every task of the project: 6 ms of a 12 ms task-list page at 10k tasks on
    SQLite, and linear in the project's size."""
    selection = query.selection
    everything = not query.items and (selection is None or (selection.all and not selection.ids))
    # Without a filter the query leaves the Benchmark QA copies out, as the counters do.
    if everything:
        return {
            "total": project.task_number,
            "total_annotations": project.total_annotations_number,
            "total_predictions": project.total_predictions_number,
        }
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
    if not task_ids:
        return out
    if len(task_ids) <= PREPARED_PAGE_SIZE:
        pairs = _ANNOTATORS.run((len(task_ids),), ids=task_ids)
    else:
        pairs = list(
            Annotation.objects.filter(task_id__in=task_ids, completed_by__isnull=False)
            .values_list("task_id", "completed_by_id")
            .distinct()
            .order_by("task_id", "completed_by_id")
        )
    for task_id, user_id in pairs:
        out.setdefault(task_id, []).append(user_id)
    return out


def reworked_of(task_ids: list[int]) -> dict[int, int]:
    """Each task's rejections that its annotators have since reworked (the review
    history keeps them after the rework takes the ``Review`` off), in one query for a
    page: the Review column shows them, so a rejection does not just vanish."""
    rows = (
        ReviewRecord.objects.filter(
            annotation__task_id__in=task_ids, accepted=False, reworked_at__isnull=False
        )
        .values("annotation__task_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("annotation__task_id", "n")
    )
    return dict(rows)


# json.dumps(r, ensure_ascii=False) builds an encoder per call; one kept does the same.
_RESULT_JSON = json.JSONEncoder(ensure_ascii=False).encode


def _joined_results(results: list) -> str:
    """Label Studio's ``annotations_results`` / ``predictions_results`` on SQLite: the
    rows' result lists joined by commas, without double quotes."""
    return ",".join(_RESULT_JSON(r) for r in results).replace('"', "")


def page_summaries(
    *, task_ids: list[int], user, see_all: bool, see_predictions: bool, with_results: bool
) -> dict[int, dict]:
    """Label Studio's Data Manager columns for a page of tasks: ``annotations_ids``,
    ``annotations_results``, ``predictions_results``, ``predictions_model_versions``
    (strings, empty when none) and the caller's own ``drafts``, in at most three queries
    (annotations and predictions only for a page without nested rows: ``with_results``).
    An annotator (``see_all`` False) is summed up from their own annotations only.
    ``annotators`` (a set of user ids) is read with the annotations: with ``see_all`` it
    is ``annotators_of``'s answer for the task, without that query."""
    out: dict[int, dict] = {
        pk: {
            "annotations": [],
            "ids": [],
            "annotators": set(),
            "predictions": [],
            "versions": [],
            "drafts": [],
        }
        for pk in task_ids
    }
    if not task_ids:
        return out
    prepared = len(task_ids) <= PREPARED_PAGE_SIZE
    shape = (len(task_ids),)
    if with_results:
        if prepared:
            rows = _SUMMARY_ANNOTATIONS.run((*shape, not see_all), ids=task_ids, user=user.pk)
        else:
            annotations = Annotation.objects.filter(task_id__in=task_ids)
            if not see_all:
                annotations = annotations.filter(completed_by=user)
            rows = list(
                annotations.order_by("id").values_list("task_id", "id", "result", "completed_by_id")
            )
        for task_id, pk, result, author in rows:
            out[task_id]["ids"].append(pk)
            out[task_id]["annotations"].append(result)
            if author is not None:
                out[task_id]["annotators"].add(author)
        if see_predictions:
            if prepared:
                predictions = _SUMMARY_PREDICTIONS.run(shape, ids=task_ids)
            else:
                predictions = list(
                    Prediction.objects.filter(task_id__in=task_ids)
                    .order_by("id")
                    .values_list("task_id", "model_version", "result")
                )
            for task_id, version, result in predictions:
                out[task_id]["predictions"].append(result)
                out[task_id]["versions"].append(version)
    if prepared:
        drafts = _SUMMARY_DRAFTS.run(shape, ids=task_ids, user=user.pk)
    else:
        drafts = list(
            AnnotationDraft.objects.filter(task_id__in=task_ids, user=user)
            .select_related("user")
            .order_by("id")
        )
    for draft in drafts:
        out[draft.task_id]["drafts"].append(draft)
    return out


def page_summary_fields(summary: dict) -> dict:
    return {
        "annotations_ids": ",".join(str(pk) for pk in summary["ids"]),
        "annotations_results": _joined_results(summary["annotations"]),
        "predictions_results": _joined_results(summary["predictions"]),
        "predictions_model_versions": ",".join(dict.fromkeys(summary["versions"])),
    }


def data_key_columns(project) -> list[dict]:
    """Every task data key as a column: ``{"key", "type"}``, the labeling config's keys
    first (``type`` is the object tag that shows it: Image, Text...), then every other
    key the project's tasks carry (``type`` None), from ``Project.task_data_keys``, which
    the importers keep. A project whose list is still empty although it has tasks gets
    it from a sample of its tasks once, here (two index walks, not a scan)."""
    try:
        parsed = ParsedConfig.from_dict(project.parsed_config or {})
        objects = {o["value"]: o["type"] for o in parsed.objects.values() if o.get("value")}
        config_keys = list(parsed.data_keys)
    except (ValueError, KeyError):
        objects, config_keys = {}, []
    stored = project.task_data_keys or []
    if not stored and project.task_number:
        stored = task_data_keys_add(
            project_id=project.pk, keys=task_data_keys_sample(project_id=project.pk)
        )
        project.task_data_keys = stored
    keys = list(dict.fromkeys([*config_keys, *stored]))
    return [{"key": key, "type": objects.get(key)} for key in keys]
