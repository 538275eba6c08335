"""The SQL in which PostgreSQL writes a chunk's task JSON (selectors.export_task_dicts_sql).

One statement per chunk: the chunk's tasks (a Django queryset, compiled in), their
completions (the export's annotation filter, also a queryset) with the annotator and the
reviews, and the predictions, each aggregated over the chunk's id range, every task's
JSON text built on the server. Python only parses it with orjson, so the text must give
the same values and key order as ``tasks.representations`` (the plain path), not the same
bytes.

The text is built by concatenation (``'{"id":' || t.id || ...``), not with
``json_build_object``, which looks up each argument's type and output function on every
row: on 1M task rows of 8 fields the server spent 0.75 s instead of 1.8 s.

``items_only`` builds only what the converter's items read (``exporters.formats.items``:
the task's id and data; each completion's id, annotator id and email, result,
``was_cancelled``, timestamps and lead time): no reviews, predictions, meta or counters.
Every format but JSON is written from those items.
"""

from django.contrib.auth import get_user_model

from annotations.models import Annotation, Prediction, Review

# Where a chunk's tasks go in the statement; the caller puts the compiled chunk query
# there (its parameters come before the completions' ones).
CHUNK = "{chunk}"


def _iso_sql(column: str) -> str:
    """``tasks.representations.iso_datetime`` in SQL: ISO 8601 in UTC with ``Z``, and the
    microseconds only when they are not zero (as ``datetime.isoformat`` writes them)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {column}) = {column} "
        f'THEN to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') '
        f'ELSE to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END'
    )


def _json_object(pairs: list[tuple[str, str]]) -> str:
    """A JSON object's text: each pair's ``sql`` already gives its value's JSON text
    (never NULL)."""
    parts = [f"'{{\"{pairs[0][0]}\":' || {pairs[0][1]}"]
    parts += [f"',\"{key}\":' || {sql}" for key, sql in pairs[1:]]
    return "(" + " || ".join(parts) + " || '}')"


def _number(column: str) -> str:
    """An integer or boolean column (``::text`` gives ``true``/``false``)."""
    return f"COALESCE({column}::text, 'null')"


def _float(column: str) -> str:
    """NaN and the infinities are not JSON: null, as orjson writes them on the plain path."""
    return (
        f"CASE WHEN {column} IS NULL OR {column} IN ('NaN', 'Infinity', '-Infinity') "
        f"THEN 'null' ELSE {column}::text END"
    )


def _string(column: str) -> str:
    return f"COALESCE(to_json({column})::text, 'null')"


def _jsonb(column: str) -> str:
    return f"COALESCE({column}::text, 'null')"


def _timestamp(column: str) -> str:
    return f"COALESCE('\"' || {_iso_sql(column)} || '\"', 'null')"


def _grouped_json(item: str, source: str, key: str, order: str) -> str:
    """``key`` and the JSON array text of its items, over ``source`` (the chunk's id range)."""
    return (
        f"SELECT {key} AS key, '[' || string_agg({item}, ',' ORDER BY {order}) || ']' AS items "
        f"FROM {source} GROUP BY {key}"
    )


def task_json_sql(
    *, completions_sql: str, include_predictions: bool, items_only: bool = False
) -> str:
    """The chunk statement: rows of ``(task id, task JSON text)`` in id order, with
    ``CHUNK`` standing for the chunk's task query and ``completions_sql`` (the filtered
    annotations' ``ANNOTATION_COLUMNS``) compiled in."""
    user_table = get_user_model()._meta.db_table
    in_range = "BETWEEN (SELECT lo FROM b) AND (SELECT hi FROM b)"
    annotator = _json_object(
        [("id", _number("u.id")), ("email", _string("u.email"))]
        if items_only
        else [
            ("id", _number("u.id")),
            ("email", _string("u.email")),
            ("first_name", _string("u.first_name")),
            ("last_name", _string("u.last_name")),
        ]
    )
    # The annotator's JSON comes from a LATERAL subquery (OFFSET 0 keeps it one), which
    # PostgreSQL memoizes per annotator instead of building it per annotation (about 15%
    # of the chunk statement on the text bench).
    source = (
        f"({completions_sql}) a "
        f'LEFT JOIN LATERAL (SELECT {annotator} AS js FROM "{user_table}" u '
        "WHERE u.id = a.completed_by_id OFFSET 0) u ON true "
    )
    if items_only:
        annotation = _json_object(
            [
                ("id", _number("a.id")),
                ("completed_by", "COALESCE(u.js, 'null')"),
                ("result", _jsonb("a.result")),
                ("was_cancelled", _number("a.was_cancelled")),
                ("lead_time", _float("a.lead_time")),
                ("created_at", _timestamp("a.created_at")),
                ("updated_at", _timestamp("a.updated_at")),
            ]
        )
    else:
        review = _json_object(
            [
                ("id", _number("r.id")),
                ("annotation", _number("r.annotation_id")),
                ("reviewer", _number("r.reviewer_id")),
                ("accepted", _number("r.accepted")),
                ("comment", _string("r.comment")),
                ("created_at", _timestamp("r.created_at")),
                ("updated_at", _timestamp("r.updated_at")),
            ]
        )
        reviews = _grouped_json(
            review,
            f'"{Review._meta.db_table}" r JOIN "{Annotation._meta.db_table}" ra '
            f"ON ra.id = r.annotation_id WHERE ra.task_id {in_range}",
            "r.annotation_id",
            "r.id",
        )
        source += f"LEFT JOIN ({reviews}) rv ON rv.key = a.id "
        annotation = _json_object(
            [
                ("id", _number("a.id")),
                ("task", _number("a.task_id")),
                ("project", _number("a.project_id")),
                # Label Studio's expanded annotator, as selectors._with_annotator builds it.
                ("completed_by", "COALESCE(u.js, 'null')"),
                ("result", _jsonb("a.result")),
                ("was_cancelled", _number("a.was_cancelled")),
                ("ground_truth", _number("a.ground_truth")),
                ("lead_time", _float("a.lead_time")),
                ("parent_prediction", _number("a.parent_prediction_id")),
                ("parent_annotation", _number("a.parent_annotation_id")),
                ("created_at", _timestamp("a.created_at")),
                ("updated_at", _timestamp("a.updated_at")),
                ("reviews", "COALESCE(rv.items, '[]')"),
            ]
        )
    annotations = _grouped_json(
        annotation, f"{source}WHERE a.task_id {in_range}", "a.task_id", "a.id"
    )
    joins = f"LEFT JOIN ({annotations}) an ON an.key = t.id"
    if items_only:
        task_pairs = [("id", _number("t.id")), ("data", _jsonb("t.data"))]
    else:
        task_pairs = [
            ("id", _number("t.id")),
            ("project", _number("t.project_id")),
            ("data", _jsonb("t.data")),
            ("meta", _jsonb("t.meta")),
            ("is_labeled", _number("t.is_labeled")),
            ("total_annotations", _number("t.total_annotations")),
            ("cancelled_annotations", _number("t.cancelled_annotations")),
            ("total_predictions", _number("t.total_predictions")),
            ("created_at", _timestamp("t.created_at")),
            ("updated_at", _timestamp("t.updated_at")),
        ]
    task_pairs.append(("annotations", "COALESCE(an.items, '[]')"))
    if include_predictions and not items_only:
        prediction = _json_object(
            [
                ("id", _number("p.id")),
                ("task", _number("p.task_id")),
                ("project", _number("p.project_id")),
                ("model_version", _string("p.model_version")),
                ("score", _float("p.score")),
                ("result", _jsonb("p.result")),
                ("created_at", _timestamp("p.created_at")),
                ("updated_at", _timestamp("p.updated_at")),
            ]
        )
        predictions = _grouped_json(
            prediction,
            f'"{Prediction._meta.db_table}" p WHERE p.task_id {in_range}',
            "p.task_id",
            "p.id",
        )
        joins += f" LEFT JOIN ({predictions}) pr ON pr.key = t.id"
        task_pairs.append(("predictions", "COALESCE(pr.items, '[]')"))
    return (
        f"WITH t AS MATERIALIZED ({CHUNK}), "
        "b AS MATERIALIZED (SELECT min(id) AS lo, max(id) AS hi FROM t) "
        f"SELECT t.id, {_json_object(task_pairs)} FROM t {joins} ORDER BY t.id"
    )
