"""The result-label index: what the Data Manager's result filters read instead of the JSON.

``ResultLabel`` holds one row per (annotation or prediction, ``key``, ``value``): ``key`` a
key of a result item's ``value`` object and ``value`` a string in that key's list, or one
level down for nested lists (taxonomy paths). So a Choices result
``{"value": {"choices": ["Positive"]}}`` gives ``("choices", "Positive")``. Strings longer
than ``MAX_VALUE`` (or keys longer than ``MAX_KEY``) are not indexed; a filter asking for
one falls back to reading the JSON (``datamanager.sql.ResultHasLabel``).

Who writes it, always in the transaction of the row it indexes:

- single-row services (annotation and prediction create/update) call
  ``result_index_set``, next to the counters (``annotations.counters``);
- bulk writers (imports, the ML prediction job through ``tasks_predictions_added``,
  Data Manager actions through ``tasks_counters_recount``, Benchmark QA copies) call
  ``result_index_fill`` for the tasks they wrote: one ``INSERT ... SELECT`` per table
  that unpacks the JSON in the database, for the rows not indexed yet;
- deletes need nothing: the rows go with their annotation or prediction by cascade
  (``project_delete``'s raw DELETEs remove them first, by project);
- ``manage.py rebuild_result_index [--project ID]`` rebuilds it for existing data.

Why a table and not a JSON index: SQLite has no index on JSON contents, so "annotation
results contain Positive" walked every result list with ``json_each``/``json_tree``.
Measured on SQLite at 100k tasks, 50k annotations, 100k predictions
(bench/result_index_bench.py, p50 through the API, 2 shared and busy cores): the Found
count of a label on a sixth of the tasks 208 -> 38 ms, of a label on 0.05% of them
289 -> 4 ms (its first page 110 -> 10 ms), a prediction label's count 425 -> 105 ms;
pages of common labels stay at 10-20 ms. Filling it costs one INSERT per write and, in
bulk, about 2.4 s per 150k rows on SQLite.

No trigram index: "contains" on results resolves, as before, to the configured labels
whose names hold the text (``datamanager.columns._label_candidates``) and then to exact
values, which the B-tree answers; no filter searches substrings of result values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from annotations.models import Annotation, Prediction, ResultLabel
from labelhub.prepared import rows_insert
from projects.models import Project

MAX_KEY = 64
MAX_VALUE = 255


def result_label_pairs(result) -> set[tuple[str, str]]:
    """The (key, value) pairs of one result list; the Python twin of ``_FILL_SQL``."""
    pairs: set[tuple[str, str]] = set()
    if not isinstance(result, list):
        return pairs
    for item in result:
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, dict):
            continue
        for key, entries in value.items():
            if not isinstance(entries, list) or len(key) > MAX_KEY:
                continue
            for entry in entries:
                for atom in entry if isinstance(entry, list) else (entry,):
                    if isinstance(atom, str) and len(atom) <= MAX_VALUE:
                        pairs.add((key, atom))
    return pairs


def indexable(keys: Iterable[str], values: Iterable[str]) -> bool:
    """Whether a lookup of these keys and values can be answered by the index."""
    return all(len(k) <= MAX_KEY for k in keys) and all(len(v) <= MAX_VALUE for v in values)


def result_index_set(*, annotation: Annotation | None = None, prediction: Prediction | None = None):
    """Rewrite the rows of a changed annotation or prediction: one DELETE, one INSERT."""
    owner = {"annotation": annotation} if annotation is not None else {"prediction": prediction}
    ResultLabel.objects.filter(**owner)._raw_delete(ResultLabel.objects.db)
    result_index_add(annotation=annotation, prediction=prediction)


def result_index_add(*, annotation: Annotation | None = None, prediction: Prediction | None = None):
    """The rows of a new annotation or prediction (one INSERT, none when it has no labels)."""
    row = annotation if annotation is not None else prediction
    assert row is not None
    owner = {"annotation": annotation} if annotation is not None else {"prediction": prediction}
    rows = [
        ResultLabel(project_id=row.project_id, task_id=row.task_id, key=key, value=value, **owner)
        for key, value in sorted(result_label_pairs(row.result))
    ]
    rows_insert(rows)  # ResultLabel.objects.bulk_create(rows), written out


# The SQL twin of result_label_pairs: {source} is the annotation or prediction table,
# {owner} the column of ResultLabel that points at it, {where} the rows to fill.
_FILL_SQL = {
    "sqlite": """
INSERT INTO {index} (project_id, task_id, {owner}, key, value)
SELECT DISTINCT s.project_id, s.task_id, s.id, k.key, COALESCE(e2.value, e1.value)
FROM {source} s
JOIN json_each(CASE WHEN json_type(s.result) = 'array' THEN s.result ELSE '[]' END) r
JOIN json_each(CASE WHEN r.type = 'object' AND json_type(r.value, '$.value') = 'object'
                    THEN json_extract(r.value, '$.value') ELSE '{{}}' END) k
JOIN json_each(CASE WHEN k.type = 'array' THEN k.value ELSE '[]' END) e1
LEFT JOIN json_each(CASE WHEN e1.type = 'array' THEN e1.value ELSE '[]' END) e2
WHERE {where} AND NOT EXISTS (SELECT 1 FROM {index} x WHERE x.{owner} = s.id)
  AND length(k.key) <= {max_key}
  AND ((e1.type = 'text' AND e2.type IS NULL) OR e2.type = 'text')
  AND length(COALESCE(e2.value, e1.value)) <= {max_value}
""",
    "postgresql": """
INSERT INTO {index} (project_id, task_id, {owner}, key, value)
SELECT DISTINCT s.project_id, s.task_id, s.id, k.key, a.atom #>> '{{}}'
FROM {source} s
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(s.result) = 'array' THEN s.result ELSE '[]'::jsonb END) r
CROSS JOIN LATERAL jsonb_each(
    CASE WHEN jsonb_typeof(r -> 'value') = 'object' THEN r -> 'value' ELSE '{{}}'::jsonb END) k
CROSS JOIN LATERAL jsonb_path_query(
    CASE WHEN jsonb_typeof(k.value) = 'array' THEN k.value ELSE '[]'::jsonb END,
    'lax $[*][*] ? (@.type() == "string")') a(atom)
WHERE {where} AND NOT EXISTS (SELECT 1 FROM {index} x WHERE x.{owner} = s.id)
  AND length(k.key) <= {max_key} AND length(a.atom #>> '{{}}') <= {max_value}
""",
}


def _fill(model, owner: str, where: str, params: list) -> int:
    sql = _FILL_SQL[connection.vendor].format(
        index=ResultLabel._meta.db_table,
        owner=owner,
        source=model._meta.db_table,
        where=where,
        max_key=MAX_KEY,
        max_value=MAX_VALUE,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


# Task ids per INSERT ... SELECT of a bulk fill. The statement's DISTINCT sorts its rows in
# a temporary B-tree, which SQLite keeps in memory (``temp_store=MEMORY``): one statement
# for a 1M-task import's range held about 100 MB in the importing worker at the end of
# the import (bench/README.md, "the 1M-task import's peak"); 50,000 at a time hold a
# twentieth of it, for the same total work (each statement reads its range through the
# task-id index).
FILL_TASKS = 50_000


def _spans(first: int, last: int) -> Iterable[tuple[int, int]]:
    for start in range(first, last + 1, FILL_TASKS):
        yield start, min(start + FILL_TASKS - 1, last)


def result_index_fill(*, project_id: int, task_ranges: Iterable[Sequence[int]] | None = None):
    """Index, in the database, the annotations and predictions of the project's tasks in
    ``task_ranges`` (``[first, last]`` id ranges; None: the whole project) that have no
    rows yet, so a bulk writer may call it for tasks that already had some. Returns the
    number of rows written."""
    written = 0
    spans = (
        [None]
        if task_ranges is None
        else [piece for span in task_ranges for piece in _spans(int(span[0]), int(span[1]))]
    )
    for span in spans:
        where, params = "s.project_id = %s", [project_id]
        if span is not None:
            where += " AND s.task_id BETWEEN %s AND %s"
            params += list(span)
        written += _fill(Annotation, "annotation_id", where, params)
        written += _fill(Prediction, "prediction_id", where, params)
    return written


def result_index_fill_tasks(*, project_id: int, task_ids: Iterable[int]) -> int:
    """``result_index_fill`` for a set of task ids, as contiguous ranges."""
    ranges: list[list[int]] = []
    for pk in sorted(set(task_ids)):
        if ranges and ranges[-1][1] + 1 == pk:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return result_index_fill(project_id=project_id, task_ranges=ranges) if ranges else 0


def result_index_clear_sql() -> list[str]:
    """The DELETEs of a project's rows (parameter: the project id), each through an index:
    by annotation and by prediction (``project_id`` has none of its own)."""
    return [
        f"DELETE FROM {ResultLabel._meta.db_table} WHERE {owner} IN "
        f"(SELECT id FROM {model._meta.db_table} WHERE project_id = %s)"
        for model, owner in ((Annotation, "annotation_id"), (Prediction, "prediction_id"))
    ]


def result_index_clear(*, project_id: int) -> int:
    """Remove a project's rows; returns how many."""
    deleted = 0
    with connection.cursor() as cursor:
        for sql in result_index_clear_sql():
            cursor.execute(sql, [project_id])
            deleted += max(cursor.rowcount, 0)
    return deleted


def result_index_rebuild(*, project_id: int | None = None) -> dict[int, int]:
    """Rebuild the index of one project (or of every project), each project in one
    transaction: its rows deleted, then filled again from the JSON. Returns
    ``{project id: rows written}``. ``manage.py rebuild_result_index`` calls it."""
    projects = Project.objects.order_by("pk").values_list("pk", flat=True)
    if project_id is not None:
        projects = projects.filter(pk=project_id)
    written = {}
    for pk in projects:
        with transaction.atomic():
            result_index_clear(project_id=pk)
            written[pk] = result_index_fill(project_id=pk)
    return written
