"""The few SQL pieces Django's ORM has no portable spelling for, and the time bound.

Each expression compiles for PostgreSQL and SQLite. User input only ever reaches the
database as a parameter: JSON keys, label values and regex patterns alike.

- ``ResultHasLabel``: a label, choice or class name anywhere in a result list. On
  PostgreSQL it is ``result @> '[{"value": {"<key>": ["<label>"]}}]'`` (OR-ed over the
  config's label keys), which the ``jsonb_path_ops`` GIN index answers; on SQLite it
  walks the list with ``json_each``/``json_tree``.
- ``JsonKeyText`` / ``JsonKeyNumber`` / ``JsonKeyEquals``: a top-level key of ``data``
  or ``meta`` as text, as a number (numeric strings from CSV imports included, anything
  else NULL instead of a cast error), and typed equality (``meta @> {"k": v}`` on
  PostgreSQL, which the meta GIN index answers).
- ``Regex``: ``~`` on PostgreSQL; on SQLite a function of ours, because Django's
  ``REGEXP`` runs Python's backtracking ``re`` with no bound.
- ``time_limited()``: the statement time limit for queries that carry a regex.
- ``SerialPlan``: no parallel workers for a page that walks the tasks in id order.
"""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager

from django.db import NotSupportedError, OperationalError, connection, transaction
from django.db.models import BooleanField, FloatField, Func, TextField

from labelhub.errors import ApiError
from labelhub.sqlite_regex import regex_deadline, regex_timed_out

REGEX_SECONDS = 3.0
# SQLite: the subject of a regex is cut to this many characters (the time bound is the
# REGEXP function's timeout, see labelhub.sqlite_regex).
SQLITE_REGEX_SUBJECT = 20_000
# Label keys whose values are nested lists (a path of options).
NESTED_KEYS = frozenset({"taxonomy"})


def _vendor(connection_) -> str:
    if connection_.vendor not in ("postgresql", "sqlite"):
        raise NotSupportedError("the Data Manager supports PostgreSQL and SQLite")
    return connection_.vendor


class _Expr(Func):
    """A one-column function whose SQL we write per vendor."""

    arity = 1

    def as_sql(self, compiler, connection_, **extra):
        column_sql, params = compiler.compile(self.source_expressions[0])
        if _vendor(connection_) == "postgresql":
            return self.postgres(column_sql, list(params))
        return self.sqlite(column_sql, list(params), connection_)


class ResultHasLabel(_Expr):
    """True when a result list has an item whose ``value.<key>`` holds one of ``labels``."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column, *, keys: list[str], labels: list[str]):
        super().__init__(column)
        self.keys, self.labels = list(keys), list(labels)

    def postgres(self, column_sql, params):
        parts = []
        for key in self.keys:
            for label in self.labels:
                value = [[label]] if key in NESTED_KEYS else [label]
                parts.append(f"{column_sql} @> %s::jsonb")
                params.append(json.dumps([{"value": {key: value}}]))
        return "(" + " OR ".join(parts) + ")", params

    def sqlite(self, column_sql, params, connection_):
        keys = " OR ".join("t.fullkey LIKE %s" for _ in self.keys)
        labels = ", ".join("%s" for _ in self.labels)
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({column_sql}) AS r, json_tree(r.value, '$.value') AS t "
            f"WHERE t.type = 'text' AND t.atom IN ({labels}) AND ({keys}))"
        )
        # "_" in a key would match any character in LIKE: a harmless superset.
        keys_sql = [f"$.value.{key}[%" for key in self.keys]
        return sql, params + self.labels + keys_sql


def _sqlite_path(key: str) -> str:
    if '"' in key:
        raise ApiError(f"key {key!r} may not contain a double quote")
    return f'$."{key}"'


class JsonKeyText(_Expr):
    """``column ->> key``: strings as they are, other values as JSON text."""

    output_field = TextField()

    def __init__(self, column, key: str):
        super().__init__(column)
        self.key = key

    def postgres(self, column_sql, params):
        return f"({column_sql} ->> %s::text)", params + [self.key]

    def sqlite(self, column_sql, params, connection_):
        return f"CAST(json_extract({column_sql}, %s) AS TEXT)", params + [_sqlite_path(self.key)]


_NUMERIC_RE = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


class JsonKeyNumber(_Expr):
    """The key as a number; numeric strings count, anything else is NULL."""

    output_field = FloatField()

    def __init__(self, column, key: str):
        super().__init__(column)
        self.key = key

    def postgres(self, column_sql, params):
        value = f"({column_sql} -> %s::text)"
        text = f"({column_sql} ->> %s::text)"
        sql = (
            f"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({text})::double precision "
            f"WHEN jsonb_typeof({value}) = 'string' AND {text} ~ %s "
            f"THEN ({text})::double precision END)"
        )
        key = self.key
        # placeholders in order: value, text, value, text, regex, text
        return sql, [
            *params,
            key,
            *params,
            key,
            *params,
            key,
            *params,
            key,
            _NUMERIC_RE,
            *params,
            key,
        ]

    def sqlite(self, column_sql, params, connection_):
        path = _sqlite_path(self.key)
        sql = (
            f"(CASE WHEN json_type({column_sql}, %s) IN ('integer', 'real') "
            f"THEN json_extract({column_sql}, %s) "
            f"WHEN json_type({column_sql}, %s) = 'text' "
            f"AND trim(json_extract({column_sql}, %s)) <> '' "
            f"AND trim(json_extract({column_sql}, %s)) NOT GLOB '*[^0-9.eE+-]*' "
            f"THEN CAST(trim(json_extract({column_sql}, %s)) AS REAL) END)"
        )
        out = []
        for _ in range(6):
            out += [*params, path]
        return sql, out


class JsonKeyEquals(_Expr):
    """``column[key]`` equals any of ``values``, JSON types respected. On PostgreSQL it is
    containment, which the GIN index on ``meta`` answers."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column, key: str, values: list):
        super().__init__(column)
        self.key, self.values = key, list(values)

    def postgres(self, column_sql, params):
        parts, out = [], []
        for value in self.values:
            parts.append(f"{column_sql} @> %s::jsonb")
            out += [*params, json.dumps({self.key: value})]
        return "(" + " OR ".join(parts) + ")", out

    def sqlite(self, column_sql, params, connection_):
        path = _sqlite_path(self.key)
        parts, out = [], []
        for value in self.values:
            if isinstance(value, bool):
                parts.append(f"json_type({column_sql}, %s) = %s")
                out += [*params, path, "true" if value else "false"]
            elif isinstance(value, (int, float)):
                parts.append(
                    f"(json_type({column_sql}, %s) IN ('integer', 'real') "
                    f"AND json_extract({column_sql}, %s) = %s)"
                )
                out += [*params, path, *params, path, value]
            else:
                parts.append(
                    f"(json_type({column_sql}, %s) = 'text' AND json_extract({column_sql}, %s) = %s)"
                )
                out += [*params, path, *params, path, value]
        # a missing key gives NULL, and NOT NULL would drop the row from "not equal"
        return "COALESCE((" + " OR ".join(parts) + "), 0)", out


class JsonKeyEmpty(_Expr):
    """The key is missing, null, ``""``, ``[]`` or ``{}``."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column, key: str):
        super().__init__(column)
        self.key = key

    def postgres(self, column_sql, params):
        value = f"({column_sql} -> %s::text)"
        sql = f"({value} IS NULL OR {value} IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{{}}'::jsonb))"
        return sql, [*params, self.key, *params, self.key]

    def sqlite(self, column_sql, params, connection_):
        path = _sqlite_path(self.key)
        sql = (
            f"(json_type({column_sql}, %s) IS NULL OR json_type({column_sql}, %s) = 'null' "
            f"OR json_extract({column_sql}, %s) IN ('', '[]', '{{}}'))"
        )
        return sql, [*params, path, *params, path, *params, path]


class JsonText(_Expr):
    """A whole JSON column as text (for regex over results)."""

    output_field = TextField()

    def postgres(self, column_sql, params):
        return f"({column_sql})::text", params

    def sqlite(self, column_sql, params, connection_):
        return f"CAST({column_sql} AS TEXT)", params


class Regex(_Expr):
    """``expression ~ pattern``. Time is limited by ``time_limited()``; ``safe_pattern``
    refuses backtracking-prone patterns on both databases, so a pattern gets the same
    answer on either; on SQLite the subject is also cut."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, expression, pattern: str):
        super().__init__(expression)
        self.pattern = pattern

    def postgres(self, column_sql, params):
        # PostgreSQL's regex syntax has what Python's lacks (\m, \M, ...): only what
        # Python can parse is checked here; PostgreSQL reports the rest itself.
        safe_pattern(self.pattern, foreign_syntax_ok=True)
        return f"({column_sql} ~ %s)", params + [self.pattern]

    def sqlite(self, column_sql, params, connection_):
        # lh_regexp is labelhub.sqlite_regex.regexp, registered on every connection.
        safe_pattern(self.pattern)
        return f"lh_regexp(%s, substr({column_sql}, 1, {SQLITE_REGEX_SUBJECT}))", [
            self.pattern,
            *params,
        ]


def safe_pattern(pattern: str, *, foreign_syntax_ok: bool = False) -> None:
    """Refuse patterns that backtrack exponentially in Python's ``re``: a repeat inside a
    repeat, an alternation inside a repeat, and backreferences. What is left matches in
    polynomial time, and the subject is cut to ``SQLITE_REGEX_SUBJECT`` characters."""
    import re._parser as sre_parse  # the parser of the stdlib re module

    def walk(items, in_repeat: bool) -> None:
        for op, arg in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, body = arg
                repeats = high is sre_parse.MAXREPEAT or high > 1
                if in_repeat and repeats:
                    raise ApiError("regex too complex: a repeat inside a repeat")
                walk(body, in_repeat or repeats)
            elif name == "SUBPATTERN":
                walk(arg[-1], in_repeat)
            elif name == "BRANCH":
                if in_repeat:
                    raise ApiError("regex too complex: an alternation inside a repeat")
                for branch in arg[1]:
                    walk(branch, in_repeat)
            elif name in ("GROUPREF", "GROUPREF_EXISTS"):
                raise ApiError("regex backreferences are not supported")
            elif name in ("ASSERT", "ASSERT_NOT"):
                walk(arg[1], in_repeat)
            elif name == "ATOMIC_GROUP":
                walk(arg, in_repeat)

    try:
        walk(sre_parse.parse(pattern), False)
    except re.error as exc:
        if not foreign_syntax_ok:
            raise ApiError(f"invalid regex: {exc}") from exc


@contextmanager
def time_limited(enabled: bool, seconds: float = REGEX_SECONDS):
    """Run the block's queries under a time limit (when ``enabled``).

    PostgreSQL: ``SET LOCAL statement_timeout`` inside a transaction (restored after, in
    case an outer transaction goes on); a cancelled statement or a regex PostgreSQL
    rejects becomes a 400. SQLite: a progress handler interrupts the statement once the
    deadline has passed.
    """
    if not enabled:
        yield
        return
    vendor = _vendor(connection)
    if vendor == "postgresql":
        from django.db import DataError

        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SHOW statement_timeout")
                    previous = cursor.fetchone()[0]
                    cursor.execute(
                        "SELECT set_config('statement_timeout', %s, true)",
                        [f"{int(seconds * 1000)}ms"],
                    )
                yield
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
        except OperationalError as exc:
            if getattr(getattr(exc, "__cause__", None), "pgcode", None) == "57014":
                raise ApiError(
                    "The filter took too long (regex time limit); make it more specific."
                ) from exc
            raise
        except DataError as exc:
            raise ApiError(f"invalid regex: {str(exc).splitlines()[0]}") from exc
        return
    # SQLite: the progress handler stops the statement between rows, and the REGEXP
    # function (labelhub.sqlite_regex) gives each match only the time left.
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        with regex_deadline(seconds):
            try:
                yield
            except OperationalError as exc:
                # Inside the deadline's block: it knows whether a REGEXP ran out of time.
                if (
                    "interrupted" in str(exc)
                    or time.monotonic() >= deadline
                    or regex_timed_out(exc)
                ):
                    raise ApiError(
                        "The filter took too long (regex time limit); make it more specific."
                    ) from exc
                raise
    finally:
        raw.set_progress_handler(None, 0)


class SerialPlan(Func):
    """A condition that is always true and keeps PostgreSQL from planning the query with
    parallel workers: ``labelhub_serial_plan()`` (migration datamanager 0002) is declared
    IMMUTABLE and PARALLEL UNSAFE, so the planner rules parallel plans out for the whole
    query and then folds the call away to ``true`` (no filter is left in the plan).

    For the first (or next keyset) page of a filter on annotations or predictions, in id
    order, PostgreSQL walks the project's (project, id) index and probes the annotations
    for each task until 31 match. Planned with two parallel workers (a Gather Merge), the
    workers' start costs more than the walk: at 1M tasks, "label Cat + annotator" took 17
    ms of SQL on a quiet machine and 43-54 ms at load 20, 6 ms and 10-16 ms serial
    (bench/README.md). Counts, sorted pages and OFFSET pages read many rows and keep
    their workers; so does a page filtered on task data alone, whose walk is a scan (a
    rare substring of ``data``: 440 ms with workers, 620 ms without).

    A marker in the query rather than ``SET LOCAL max_parallel_workers_per_gather``: that
    needs a transaction, and BEGIN, SET and COMMIT are three more round trips, which cost
    a third of the gain at load 7 on 2 cores. SQLite: nothing to do, so no condition."""

    template = "labelhub_serial_plan()"
    output_field = BooleanField()
    arity = 0
