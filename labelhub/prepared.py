"""Hot read queries compiled once per process, then run with new values.

Building and compiling a queryset is most of a small request's time: the next-task call
spent about 60% of its CPU in Django's ``filter()`` and SQL compiler for statements that
took 0.1 ms each in SQLite (cProfile, ``bench/request_profile.py --profile next``). A
``Prepared`` query keeps the queryset as the one definition of the query, built once
with *markers* in place of the values that change per call; the SQL it compiles to is
kept with the position of each marker among its parameters, and each call executes that
SQL with the call's values through the connection's cursor (so the statement is logged
and counted like any other: ``django_assert_num_queries`` sees it) and turns the rows
into what the queryset would have given (model instances, with their annotations, or
``values_list`` tuples; the fields' converters applied).

Markers are integers, datetimes and strings no real value takes (see ``Markers``);
compiling checks that each one the builder received lands in the parameters exactly as
given and that no parameter is a mangled marker, so a builder that computes with a
marker (``marker + 1``) fails loudly at its first call instead of baking a constant into
the SQL. A builder whose SQL *shape* depends on a value (a list length, a flag) names
that value in the key.

A ``paged`` query takes its window as values too: the compiled SQL ends with ``LIMIT %s
OFFSET %s`` and each call passes ``limit`` and ``offset`` (Django writes a slice's bounds
into the SQL text, which would compile one query per page number).
"""

import inspect
import re
import weakref
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta

import orjson
from django.conf import settings
from django.db import connections
from django.db.models import JSONField, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ValuesListIterable,
    get_related_populators,
)

_INT_BASE = 7_391_000_000_000_000_000  # < 2**63; no id, count or setting comes near it
_DATETIME_BASE = datetime(2893, 7, 1, tzinfo=UTC)
_STRING_PREFIX = "\x00labelhub-marker-"
_ITEM = "\x00"  # joins a list marker's name and its index


class Markers:
    """Stand-ins for a builder's changing values: ``m.int("project")`` and friends return
    a marker and remember its name, the argument the call will pass."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.values: list[object] = []

    def _add(self, name: str, value: object) -> object:
        self.names.append(name)
        self.values.append(value)
        return value

    def int(self, name: str) -> int:
        return self._add(name, _INT_BASE + len(self.names))  # type: ignore[return-value]

    def datetime(self, name: str) -> datetime:
        value = _DATETIME_BASE + timedelta(seconds=len(self.names))
        return self._add(name, value)  # type: ignore[return-value]

    def str(self, name: str) -> str:
        return self._add(name, f"{_STRING_PREFIX}{len(self.names)}")  # type: ignore[return-value]

    def ints(self, name: str, count: int) -> list[int]:
        """``count`` integer markers for a list argument (``pk__in``): the call passes
        ``name`` as a sequence of that length (name the length in the key)."""
        return [self.int(f"{name}{_ITEM}{i}") for i in range(count)]


class _Compiled:
    def __init__(
        self, queryset: QuerySet, markers: Markers, connection, paged: bool = False
    ) -> None:
        if paged and queryset.query.is_sliced:
            raise ValueError("a paged query takes its window as values, not as a slice")
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if paged:
            sql += " LIMIT %s OFFSET %s"
        adapted = {}
        for name, value in zip(markers.names, markers.values, strict=True):
            as_db = (
                connection.ops.adapt_datetimefield_value(value)
                if isinstance(value, datetime)
                else None
            )
            adapted[name] = (value, as_db)
        slots: list[tuple[str | None, object, bool]] = []  # (marker name, constant, adapt)
        found = set()
        for param in params:
            slot: tuple[str | None, object, bool] = (None, param, False)
            for name, (raw, as_db) in adapted.items():
                if type(param) is type(raw) and param == raw:
                    slot = (name, None, False)
                elif isinstance(raw, datetime) and isinstance(as_db, str) and param == as_db:
                    slot = (name, None, True)  # SQLite's text form of a datetime
                else:
                    continue
                found.add(name)
                break
            if slot[0] is None and _looks_marked(param):
                raise ValueError(f"a marker was changed by the query's builder: {param!r}")
            slots.append(slot)
        missing = set(markers.names) - found
        if missing:
            raise ValueError(f"markers not in the compiled query: {sorted(missing)}")
        if paged:
            slots += [("limit", None, False), ("offset", None, False)]
        self.sql = sql
        self.slots = slots
        self.compiler = compiler
        self.converters = _fast_converters(
            compiler.get_converters(
                [column[0] for column in compiler.select[0 : compiler.col_count]]
            ),
            connection,
        )
        self.iterable = queryset._iterable_class
        self.fields = queryset.query.values_select or ()
        self.connection = connection  # the compiling thread's: its ops and converters only read
        self.alias = connection.alias

    def params(self, values: dict) -> list:
        ops = self.connection.ops
        out = []
        for name, constant, adapt in self.slots:
            if name is None:
                out.append(constant)
                continue
            if _ITEM in name:
                base, index = name.split(_ITEM)
                value = values[base][int(index)]
            else:
                value = values[name]
            out.append(ops.adapt_datetimefield_value(value) if adapt else value)
        return out

    def rows(self, values: dict) -> list:
        with connections[self.alias].cursor() as cursor:  # the calling thread's connection
            cursor.execute(self.sql, self.params(values))
            raw = cursor.fetchall()
        if not raw:
            return []
        if self.compiler.has_extra_select:  # ORDER BY terms selected only to sort
            raw = [row[: self.compiler.col_count] for row in raw]
        rows = raw
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.iterable is FlatValuesListIterable:
            return [row[0] for row in rows]
        if self.iterable is ValuesListIterable:
            return [tuple(row) for row in rows]
        return self._instances(rows)

    def _instances(self, rows) -> list:
        compiler = self.compiler
        klass_info = compiler.klass_info
        model = klass_info["model"]
        select = compiler.select
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        extra = compiler.annotation_col_map.items()
        db = self.connection.alias
        related = get_related_populators(klass_info, select, db)
        out = []
        for row in rows:
            instance = model.from_db(db, names, row[start:end])
            for populator in related:  # select_related
                populator.populate(row, instance)
            for attr, position in extra:
                setattr(instance, attr, row[position])
            out.append(instance)
        return out


# 19 digits in a row: maybe an integer past 64 bits, which orjson reads as a float and
# the standard library as an int (such text goes to the original converter).
_LONG_DIGITS = re.compile(r"\d{19}")


def _fast_converters(converters: dict, connection) -> dict:
    """The compiled query's value converters, two of them swapped for quicker twins that
    give the same values: a JSON column's (``JSONField.from_db_value``, the standard
    library's json) parsed with orjson, and SQLite's datetime text
    (``convert_datetimefield_value``: ``parse_datetime``, then ``make_aware`` after a
    settings look-up per value) read with ``datetime.fromisoformat``. Whatever a twin
    does not take (JSON orjson refuses, such as NaN, or with a run of 19 digits; text
    ``fromisoformat`` refuses) goes to the original converter. On the task list's first
    page (30 tasks with their annotations and predictions) the two were a quarter of the
    request's CPU (cProfile, ``bench/request_profile.py --profile first``)."""
    out = {}
    for position, (functions, expression) in converters.items():
        out[position] = ([_fast_converter(f, connection) for f in functions], expression)
    return out


def _fast_converter(function, connection):
    owner = getattr(function, "__self__", None)
    is_json = getattr(function, "__func__", None) is JSONField.from_db_value
    if is_json and getattr(owner, "decoder", None) is None:

        def json_value(value, expression, conn, loads=orjson.loads, digits=_LONG_DIGITS):
            if isinstance(value, str) and digits.search(value) is None:
                try:
                    return loads(value)
                except orjson.JSONDecodeError:
                    pass
            return function(value, expression, conn)

        return json_value
    if (
        connection.vendor == "sqlite"
        and getattr(function, "__name__", "") == "convert_datetimefield_value"
        and owner is connection.ops
        and settings.USE_TZ
    ):
        zone = connection.timezone

        def datetime_value(value, expression, conn, parse=datetime.fromisoformat):
            if isinstance(value, str):
                try:
                    parsed = parse(value)
                except ValueError:
                    return function(value, expression, conn)
                return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=zone)
            return function(value, expression, conn)

        return datetime_value
    return function


def _looks_marked(value) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value - _INT_BASE) < 1_000_000_000
    if isinstance(value, datetime):
        return value.year == _DATETIME_BASE.year
    if isinstance(value, str):
        return _STRING_PREFIX in value or value.startswith(str(_DATETIME_BASE.year))
    return False


# Every Prepared query alive: the loaded modules' (a query built and dropped, in a test,
# leaves it).
_ALL: "weakref.WeakSet[Prepared]" = weakref.WeakSet()


def compile_loaded() -> int:
    """Compile each loaded query that has one shape (its builder takes only the markers),
    so that a server compiles them once before it forks its workers, not once in each
    worker at its first requests (a query that locks rows compiles at its first use, in
    its transaction). Returns how many were compiled; compiling needs no connection."""
    count = 0
    for query in list(_ALL):
        if len(inspect.signature(query.build).parameters) != 1:
            continue
        if query.build(Markers()).query.select_for_update:  # compiles in its transaction
            continue
        query.compile()
        count += 1
    return count


class Prepared:
    """One query shape: ``build(m, *shape)`` returns the queryset, with ``m``'s markers for
    the values each call passes by name; ``shape`` (hashable) selects a variant whose SQL
    differs. ``run(shape, **values)`` returns the queryset's result as a list (``paged``:
    the rows ``offset`` to ``offset + limit``, both passed among the values)."""

    def __init__(
        self, build: Callable[..., QuerySet], using: str = "default", *, paged: bool = False
    ) -> None:
        self.build = build
        self.using = using
        self.paged = paged
        # Shared by the process's threads: a compiled query holds no state of the thread
        # that compiled it but its connection's operations and converters, which only
        # read settings; each call runs on the calling thread's connection. Compiled once
        # per thread instead, a fresh gunicorn worker (4 threads) compiled every query
        # four times, and the first requests of a new server paid for it: the task list's
        # first page on a new thread took 28-49 ms against 6 ms warm (in process, load 5).
        # Two threads compiling at once each build it; either result serves.
        self.compiled: dict[tuple, _Compiled] = {}
        _ALL.add(self)

    def compile(self, shape: tuple[Hashable, ...] = ()) -> "_Compiled":
        connection = connections[self.using]
        key = (connection.vendor, shape)
        compiled = self.compiled.get(key)
        if compiled is None:
            markers = Markers()
            compiled = _Compiled(self.build(markers, *shape), markers, connection, paged=self.paged)
            self.compiled[key] = compiled
        return compiled

    def run(self, shape: tuple[Hashable, ...] = (), **values) -> list:
        return self.compile(shape).rows(values)

    def first(self, shape: tuple[Hashable, ...] = (), **values):
        rows = self.run(shape, **values)
        return rows[0] if rows else None


def row_update(model, pk: int, *, values=None, increments=None, using: str = "default") -> int:
    """``model.objects.filter(pk=pk).update(**values, **{c: F(c) + n for increments})``,
    written out: one UPDATE of one row by primary key, with plain values (each adapted by
    its field, as the ORM does) and counter increments. For the writes of every
    annotation (the task's and the project's counters), where building the ORM's
    UPDATE cost more than running it. No signals are sent (the ORM's update sends none
    either). Returns the number of rows changed."""
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in (values or {}).items():
        field = meta.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    for name, delta in (increments or {}).items():
        column = quote(meta.get_field(name).column)
        sets.append(f"{column} = {column} + %s")
        params.append(int(delta))
    if not sets:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {quote(meta.pk.column)} = %s",
            [*params, pk],
        )
        return cursor.rowcount


def _plain(field, value):
    if hasattr(value, "as_sql"):
        raise ValueError(f"{field}: an expression ({type(value).__name__}), not a value")
    return value


def rows_insert(instances: list, *, returning: bool = False, using: str = "default") -> None:
    """``Model.objects.bulk_create(instances)``, or with ``returning`` the INSERT of
    ``instance.save()`` for one new row, written out: every concrete column but an unset
    primary key, each value prepared as the ORM prepares it (``pre_save``, then
    ``get_db_prep_save``), in the batches ``bulk_create`` would use (one statement for a
    few rows). ``returning`` reads the new primary key back (``RETURNING``: PostgreSQL,
    SQLite >= 3.35) into the instance and marks it saved. For the rows every annotation
    write inserts (the annotation, its result-label index rows) and a project create's
    (the project, its admin membership), where building the ORM's INSERT cost more than
    running it (``bench/request_profile.py --profile create``). No signals are sent:
    nothing listens to those models' saves. A value that is an
    expression (``DatabaseDefault``, for a field with only a database default, which
    the ORM writes as ``DEFAULT``) is refused; a field with both defaults takes its
    Python default, as in the ORM."""
    if not instances:
        return
    if returning and len(instances) != 1:
        raise ValueError("returning reads back one row's primary key")
    connection = connections[using]
    meta = type(instances[0])._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    fields = [
        f
        for f in meta.concrete_fields
        if not (f is pk and getattr(instances[0], f.attname) is None)
    ]
    columns = ", ".join(quote(f.column) for f in fields)
    one = f"({', '.join(['%s'] * len(fields))})"
    batch = max(1, connection.ops.bulk_batch_size(fields, instances))
    with connection.cursor() as cursor:
        for start in range(0, len(instances), batch):
            chunk = instances[start : start + batch]
            params = [
                f.get_db_prep_save(_plain(f, f.pre_save(instance, add=True)), connection)
                for instance in chunk
                for f in fields
            ]
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([one] * len(chunk))}"
            if returning:
                sql += f" RETURNING {quote(pk.column)}"
            cursor.execute(sql, params)
            if returning:
                setattr(instances[0], pk.attname, pk.to_python(cursor.fetchone()[0]))
    if returning:
        instances[0]._state.adding = False
        instances[0]._state.db = using
