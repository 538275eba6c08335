"""Reads for exports: which tasks, and their dicts in keyset chunks.

Tasks are read in keyset chunks of CHUNK_SIZE ids. On PostgreSQL one query per chunk
has the database build each task's JSON text (export_task_dicts_sql, exporters.task_sql),
which Python only parses; the chunks grow to about CHUNK_BYTES of text and the next one
is read while the current one is written (_chunks). Elsewhere (SQLite) each chunk's
annotations (with the annotator's name and email, one join), reviews and predictions come
in one ``.values()`` query apiece and are grouped in Python (export_task_dicts_plain). Both give the same dicts, key order included
(tests/exporters/test_fast_path.py). Compared with ``prefetch_related`` over model
instances, exporting 20k tasks (each with an annotation and a prediction) on PostgreSQL
took 1.6-2.6 s instead of 4.7-10.6 s (medians of 3, two rounds, on a busy 2-core
machine: about 3x faster). cProfile showed the prefetch cloning a queryset per instance
as the main cost.
"""

import re
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import orjson
from django.db import connection, connections
from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from annotations.models import Annotation, Prediction, Review
from annotations.representations import (
    ANNOTATION_COLUMNS,
    PREDICTION_COLUMNS,
    REVIEW_COLUMNS,
    annotation_row,
    prediction_row,
    review_row,
)
from datamanager import query as query_format
from datamanager import selectors as dm
from exporters import task_sql
from projects.models import Project
from tasks.models import Task
from tasks.representations import TASK_COLUMNS, iso_datetime, task_row

CHUNK_SIZE = 1000


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks and completions an export holds (the options of issue #11)."""

    task_ids: tuple[int, ...] | None = None
    download_all_tasks: bool = False
    only_ground_truth: bool = False
    only_accepted: bool = False  # at least one reviewer's thumbs up
    exclude_cancelled: bool = False
    include_predictions: bool = True
    include_benchmarks: bool = False  # Benchmark QA tasks are not production data
    # Label Studio's task_filter_options: None, "only" or "exclude" each.
    finished: str | None = None  # is_labeled
    annotated: str | None = None  # has a non-cancelled annotation
    skipped: str | None = None  # has a cancelled annotation
    reviewed: str | None = None  # has a reviewed annotation
    # Label Studio's annotation_filter_options: the kinds of completions kept, any of
    # "usual" (neither skipped nor ground truth), "ground_truth", "skipped"; None or
    # empty keeps all (as Label Studio does when none is true).
    annotation_kinds: frozenset[str] | None = None

    def annotation_q(self) -> Q:
        q = Q()
        if self.annotation_kinds:
            kinds = {
                "usual": Q(was_cancelled=False, ground_truth=False),
                "ground_truth": Q(ground_truth=True),
                "skipped": Q(was_cancelled=True),
            }
            either = Q()
            for kind in sorted(self.annotation_kinds):
                either |= kinds[kind]
            q &= either
        if self.only_ground_truth:
            q &= Q(ground_truth=True)
        if self.only_accepted:
            q &= Q(Exists(Review.objects.filter(annotation=OuterRef("pk"), accepted=True)))
        if self.exclude_cancelled:
            q &= Q(was_cancelled=False)
        return q

    @property
    def restricts_annotations(self) -> bool:
        return self.only_ground_truth or self.only_accepted


def export_tasks_queryset(
    *, project: Project, task_filter: TaskFilter, query: query_format.Query | None = None
) -> QuerySet:
    """The one place that decides which tasks an export holds: with a completion
    restriction (ground truth, accepted), the tasks that have such a completion; else
    every task with download_all_tasks, or the tasks with (non-cancelled, when cancelled
    ones are excluded) completions."""
    tasks = Task.objects.filter(project=project)
    # The Data Manager's query names the Benchmark column: export what it shows.
    wants_benchmarks = query is not None and dm.shows_benchmarks(query)
    if not (task_filter.include_benchmarks or wants_benchmarks):
        tasks = tasks.filter(is_benchmark=False)
    if query is not None:
        # The Data Manager's filters and selectedItems, through its one engine.
        tasks = tasks.filter(pk__in=dm.task_queryset(project=project, query=query).values("pk"))
    if task_filter.task_ids is not None:
        tasks = tasks.filter(pk__in=task_filter.task_ids)
    modes = {
        "finished": Q(is_labeled=True),
        "annotated": Q(total_annotations__gt=0),
        "skipped": Q(cancelled_annotations__gt=0),
        "reviewed": Q(Exists(Review.objects.filter(annotation__task_id=OuterRef("pk")))),
    }
    for name, condition in modes.items():
        mode = getattr(task_filter, name)
        if mode == "only":
            tasks = tasks.filter(condition)
        elif mode == "exclude":
            tasks = tasks.exclude(condition)
    if task_filter.restricts_annotations:
        kept = Annotation.objects.filter(task_filter.annotation_q(), task_id=OuterRef("pk"))
        tasks = tasks.filter(Exists(kept))
    elif not task_filter.download_all_tasks:
        if task_filter.annotation_kinds:
            # Label Studio's only_with_annotations keeps a task when one of its
            # completions passes annotation_filter_options.
            kept = Annotation.objects.filter(task_filter.annotation_q(), task_id=OuterRef("pk"))
            tasks = tasks.filter(Exists(kept))
        elif task_filter.exclude_cancelled:
            tasks = tasks.filter(total_annotations__gt=0)
        else:
            tasks = tasks.filter(Q(total_annotations__gt=0) | Q(cancelled_annotations__gt=0))
    return tasks


def task_data_keys(tasks: QuerySet) -> list[str]:
    """The data keys of these tasks, for tabular headers: one DISTINCT query on
    PostgreSQL, a keyset walk over ``data`` elsewhere."""
    if connection.vendor == "postgresql":
        sql, params = tasks.order_by().values("data").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT jsonb_object_keys(t.data) FROM ({sql}) t "
                "WHERE jsonb_typeof(t.data) = 'object'",
                params,
            )
            return sorted(row[0] for row in cursor.fetchall())
    keys: set[str] = set()
    last_id = 0
    while True:
        chunk = list(
            tasks.filter(id__gt=last_id).order_by("id").values_list("id", "data")[:CHUNK_SIZE]
        )
        if not chunk:
            return sorted(keys)
        last_id = chunk[-1][0]
        for _, data in chunk:
            if isinstance(data, dict):
                keys.update(data)


JSON_COLUMNS = frozenset({"data", "meta", "result"})

# How Django writes a datetime into SQLite (UTC, ``str()`` of the naive value): the
# microseconds only when they are not zero, as ``datetime.isoformat`` writes them.
_SQLITE_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{6})?")


def _sqlite_datetime_iso(text: str | None) -> str | None:
    """``iso_datetime`` of the datetime stored as this SQLite text, without building the
    datetime: ``2026-12-06 22:35:10.5`` gives ``2026-12-06T22:35:10.5Z``. Text in any
    other form goes through Django's converter first, so the answer is the same."""
    if text is None:
        return None
    if _SQLITE_DATETIME.fullmatch(text):
        return f"{text[:10]}T{text[11:]}Z"
    convert = connection.ops.convert_datetimefield_value  # type: ignore[attr-defined]
    return iso_datetime(convert(text, None, connection))


def _values(queryset, columns: tuple[str, ...]) -> Iterator[dict]:
    """``.values(*columns)`` with JSON columns read as text and parsed with orjson, and
    on SQLite the datetime columns read as text and given as ISO strings.

    Django decodes JSONField values with the standard library's json, and prepares an
    ``IN`` list of 1,000 ids parameter by parameter; on the export of 100k text tasks
    those two were most of the time in cProfile. Reading ``col::text`` and parsing it
    with orjson, and selecting a chunk's children by id range, removes both. On SQLite,
    parsing each stored datetime into an aware datetime and writing it back out in ISO
    form was then a third of the JSON export of 10k tasks (cProfile,
    ``bench/request_profile.py --profile export``); the text is that form but for two
    characters (``iso_datetime`` passes the string on).
    """
    casts = {f"{c}__text": Cast(c, TextField()) for c in columns if c in JSON_COLUMNS}
    stamps = []
    if connection.vendor == "sqlite":
        fields = {f.name: f for f in queryset.model._meta.concrete_fields}
        stamps = [c for c in columns if isinstance(fields.get(c), DateTimeField)]
    casts.update({f"{c}__text": Cast(c, TextField()) for c in stamps})
    plain = [c for c in columns if c not in JSON_COLUMNS and c not in stamps]
    loads = orjson.loads
    json_names = [name for name in casts if name[:-6] in JSON_COLUMNS]
    stamp_names = [f"{c}__text" for c in stamps]
    for row in queryset.annotate(**casts).values(*plain, *casts):
        for name in json_names:
            text = row.pop(name)
            row[name[:-6]] = None if text is None else loads(text)
        for name in stamp_names:
            row[name[:-6]] = _sqlite_datetime_iso(row.pop(name))
        yield row


def _grouped(queryset, columns: tuple[str, ...], key: str) -> dict[int, list[dict]]:
    groups: dict[int, list[dict]] = defaultdict(list)
    for row in _values(queryset.order_by("id"), columns):
        groups[row[key]].append(row)
    return groups


ANNOTATOR_COLUMNS = ("completed_by__email", "completed_by__first_name", "completed_by__last_name")


def _with_annotator(annotation: dict, row: dict) -> dict:
    """``completed_by`` as Label Studio's JSON export expands it (its
    ``CompletedBySerializer``): ``{"id", "email", "first_name", "last_name"}``, so the
    export names people, the SDK's converter reads ``completed_by["email"]`` and the
    importer maps it back to the member. ``annotator=id`` (LS's ``only_id``) puts the
    bare id back (``exporters.formats.text.write_json``)."""
    if annotation["completed_by"] is not None:
        annotation["completed_by"] = {
            "id": annotation["completed_by"],
            "email": row["completed_by__email"],
            "first_name": row["completed_by__first_name"],
            "last_name": row["completed_by__last_name"],
        }
    return annotation


def export_task_dicts_plain(
    tasks: QuerySet, *, task_filter: TaskFilter, guard=nullcontext, items_only: bool = False
) -> Iterator[dict]:
    """``export_task_dicts`` with ``.values()`` rows shaped in Python by
    ``tasks.representations`` (any database; the SQLite path)."""
    completions = Annotation.objects.filter(task_filter.annotation_q())
    columns = (*ANNOTATION_COLUMNS, *ANNOTATOR_COLUMNS)
    last_id = 0
    while True:
        with guard():
            chunk = list(
                _values(tasks.filter(id__gt=last_id).order_by("id")[:CHUNK_SIZE], TASK_COLUMNS)
            )
        if not chunk:
            return
        # The chunk's children by id range (tasks of the range that the filter left
        # out are never looked up); see _values for why not an IN list.
        first, last_id = chunk[0]["id"], chunk[-1]["id"]
        annotations = _grouped(
            completions.filter(task_id__gte=first, task_id__lte=last_id), columns, "task_id"
        )
        reviews = _grouped(
            Review.objects.filter(annotation__task_id__gte=first, annotation__task_id__lte=last_id),
            REVIEW_COLUMNS,
            "annotation_id",
        )
        predictions = (
            _grouped(
                Prediction.objects.filter(task_id__gte=first, task_id__lte=last_id),
                PREDICTION_COLUMNS,
                "task_id",
            )
            if task_filter.include_predictions
            else None
        )
        for row in chunk:
            task_annotations = []
            for a in annotations.get(row["id"], ()):
                body = annotation_row(a, reviews=[review_row(r) for r in reviews.get(a["id"], ())])
                task_annotations.append(_with_annotator(body, a))
            yield task_row(
                row,
                annotations=task_annotations,
                predictions=(
                    None
                    if predictions is None
                    else [prediction_row(p) for p in predictions.get(row["id"], ())]
                ),
            )


def export_task_dicts(
    tasks: QuerySet, *, task_filter: TaskFilter, guard=nullcontext, items_only: bool = False
) -> Iterator[dict]:
    """Yield full task dicts (annotations with reviews and the annotator's email,
    predictions) in id order, CHUNK_SIZE tasks per round of queries. ``guard()`` wraps
    each chunk's task query (the Data Manager's time limit for regex filters).

    PostgreSQL builds each task's JSON itself (``export_task_dicts_sql``); elsewhere the
    rows are read with ``.values()`` and shaped in Python (``export_task_dicts_plain``).
    Both give equal dicts (tests/exporters/test_fast_path.py). ``items_only`` lets the
    SQL path leave out what the converter's items never read (reviews, predictions,
    meta, counters); the plain path gives full dicts anyway."""
    if connection.vendor == "postgresql":
        return export_task_dicts_sql(
            tasks, task_filter=task_filter, guard=guard, items_only=items_only
        )
    return export_task_dicts_plain(tasks, task_filter=task_filter, guard=guard)


def _compiled(queryset: QuerySet) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def export_task_dicts_sql(
    tasks: QuerySet, *, task_filter: TaskFilter, guard=nullcontext, items_only: bool = False
) -> Iterator[dict]:
    """``export_task_dicts`` on PostgreSQL: one statement per chunk in which PostgreSQL
    builds each task's JSON text (``exporters.task_sql``) in the shapes of
    ``tasks.representations``; Python only parses it with orjson. Which tasks and which
    completions stay Django querysets (compiled into the SQL), so the filters keep one
    definition. The chunk's children are aggregated over its id range (hash/group
    aggregates, about 3x cheaper on the server than a correlated subquery per task).
    ``items_only``: only the keys the converter's items read (every format but JSON).

    See bench/README.md, "Exports", for the figures and command.
    """
    completions_sql, completions_params = _compiled(
        Annotation.objects.filter(task_filter.annotation_q()).order_by().values(*ANNOTATION_COLUMNS)
    )
    sql = task_sql.task_json_sql(
        completions_sql=completions_sql,
        include_predictions=task_filter.include_predictions,
        items_only=items_only,
    )
    db = connections[tasks.db]

    def fetch(last_id: int, size: int) -> list[tuple[int, str]]:
        chunk_sql, chunk_params = _compiled(
            tasks.filter(id__gt=last_id).order_by("id").values(*TASK_COLUMNS)[:size]
        )
        with db.cursor() as cursor:
            cursor.execute(
                sql.replace(task_sql.CHUNK, chunk_sql, 1), [*chunk_params, *completions_params]
            )
            return cursor.fetchall()

    loads = orjson.loads
    for rows in _chunks(fetch, db, guard=guard):
        for _, text in rows:
            yield loads(text)


# The SQL path starts at CHUNK_SIZE tasks and then sizes its chunks by their text:
# about CHUNK_BYTES of JSON a chunk, at most 5 * CHUNK_SIZE tasks (5,000 small text
# tasks, fewer big ones), so memory stays flat. Each statement has a fixed cost (its
# plan, the chunk's CTEs and sorts): 5,000-task chunks took the 100k text JSON export
# from 0.98 to 0.85 s of server CPU; 20,000 gained nothing more and took more memory.
CHUNK_BYTES = 4 * 1024 * 1024


def _next_size(rows: list[tuple[int, str]], size: int, cap: int) -> int:
    used = sum(len(text) for _, text in rows) or 1
    return max(1, min(cap, size * 2, size * CHUNK_BYTES // used))


def _chunks(fetch, db, *, guard) -> Iterator[list[tuple[int, str]]]:
    """The chunks ``fetch(last_id, size)`` returns, in keyset order, with the next
    chunk's query already running while the caller works on the current one.

    The query runs in a helper thread on the caller's own connection (Django's thread
    sharing), so it stays in the caller's transaction (the snapshot's REPEATABLE READ)
    and only one statement is ever in flight on it: PostgreSQL builds chunk n+1 while
    Python parses and writes chunk n. With a ``guard`` (the Data Manager's time limit,
    which sets a timeout on this thread's transaction) the chunks are read one after
    the other. A chunk shorter than asked for is the last."""
    size, cap = CHUNK_SIZE, 5 * CHUNK_SIZE
    if guard is not nullcontext:
        last_id = 0
        while True:
            with guard():
                rows = fetch(last_id, size)
            if rows:
                yield rows
            if len(rows) < size:
                return
            last_id, size = rows[-1][0], _next_size(rows, size, cap)
    db.inc_thread_sharing()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-chunk") as pool:
            pending: Future | None = pool.submit(fetch, 0, size)
            while pending is not None:
                rows = pending.result()
                # Ask for the next chunk before handing this one on. An abandoned
                # export waits for the one query in flight when the pool shuts down.
                pending = None
                if len(rows) == size:
                    size = _next_size(rows, size, cap)
                    pending = pool.submit(fetch, rows[-1][0], size)
                if rows:
                    yield rows
    finally:
        db.dec_thread_sharing()
