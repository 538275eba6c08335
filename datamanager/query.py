"""Parse and validate a Label Studio Data Manager query.

The accepted shape is Label Studio's::

    {"filters": {"conjunction": "and" | "or",
                 "match": "task" | "annotation",   (LabelHub's; "task" by default)
                 "items": [{"filter": "filter:tasks:<column>", "operator": "...",
                            "type": "Number" | "String" | ..., "value": ...}]},
     "ordering": ["tasks:<column>" | "-tasks:<column>"],
     "selectedItems": {"all": true, "excluded": [ids]} | {"all": false, "included": [ids]}}

Everything a user sends is checked here against the allow-list in ``columns`` before any
queryset is built, and nothing from the query ever becomes an ORM path: a column id
selects a hand-written builder, a ``data.<key>`` key is passed to the database as a
parameter, never spliced into a lookup. That closes the hole Label Studio had
(CVE-2023-47117), where ``filter:tasks:updated_by__password`` reached the users table.
Every problem is a 400 that names the item and the field.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from labelhub.errors import ApiError
from labelhub.jsonlimits import check_bytes
from labelhub.validation import MAX_ID

MAX_ITEMS = 50
MAX_ORDERING = 3
MAX_STRING = 1000
MAX_LIST = 1000
MAX_KEY = 200
MAX_REGEX = 300
MAX_SELECTED = 100_000

CONJUNCTIONS = ("and", "or")
OPERATORS = frozenset(
    {
        "equal",
        "not_equal",
        "contains",
        "not_contains",
        "regex",
        "less",
        "greater",
        "less_or_equal",
        "greater_or_equal",
        "in",
        "not_in",
        "in_list",
        "not_in_list",
        "empty",
    }
)
# Label Studio's filter types; for data/meta keys they say how to read the value.
TYPES = frozenset(
    {
        "number",
        "datetime",
        "boolean",
        "string",
        "list",
        "unknown",
        "image",
        "audio",
        "audioplus",
        "text",
        "hypertext",
        "timeseries",
        "video",
    }
)

FILTER_PREFIX = "filter:tasks:"
ORDER_PREFIX = "tasks:"
# A column id: lower case and underscores. A data/meta key: no control characters (it
# reaches the database as a parameter, never as a lookup, so "__" is only text there).
_COLUMN_RE = re.compile(r"^[a-z_]{1,40}$")
_FORBIDDEN_KEY = re.compile(r"[\x00-\x1f\x7f]")


class QueryError(ApiError):
    """A 400 naming what in the query is wrong. ``ls_message`` is Label Studio's wording
    for a refused filter column, given in its ``validation_errors`` shape by
    ``_filter_item``."""

    def __init__(self, message: str, *, field: str = "query", ls_message: str = "") -> None:
        super().__init__(f"Invalid query: {message}", [{"field": field, "message": message}])
        self.ls_message = ls_message


@dataclass(frozen=True)
class ColumnRef:
    """A column on the allow-list: ``name`` is a column id, or "data"/"meta" with ``key``."""

    name: str
    key: str | None = None

    @property
    def id(self) -> str:
        return f"{self.name}.{self.key}" if self.key is not None else self.name


@dataclass(frozen=True)
class FilterItem:
    column: ColumnRef
    operator: str
    type: str
    value: Any
    index: int

    @property
    def where(self) -> str:
        return f"filters.items[{self.index}]"


@dataclass(frozen=True)
class OrderItem:
    column: ColumnRef
    descending: bool


@dataclass(frozen=True)
class Selection:
    all: bool = True
    ids: tuple[int, ...] = ()  # "included" when all is False, else "excluded"


# ``filters.match`` (a LabelHub extension): what conditions on annotations (results,
# annotator, ground truth, reviews, lead time) must share. "task", the default and Label
# Studio's meaning: each holds for some annotation of the task. "annotation": all of
# them for one and the same annotation ("Cat" by X: X's annotation says Cat).
MATCHES = ("task", "annotation")


@dataclass
class Query:
    conjunction: str = "and"
    match: str = "task"
    items: list[FilterItem] = field(default_factory=list)
    ordering: list[OrderItem] = field(default_factory=list)
    selection: Selection | None = None
    # Benchmark QA copies are left out unless a filter names their column; an annotator's
    # list keeps them (set by the API), where they must look like any other task.
    benchmarks: bool = False

    @property
    def has_regex(self) -> bool:
        return any(item.operator == "regex" for item in self.items)


def column_ref(raw: Any, *, prefix: str, where: str, known: frozenset[str]) -> ColumnRef:
    """Resolve ``filter:tasks:<id>`` / ``tasks:<id>`` against the allow-list."""
    if not isinstance(raw, str) or not raw.startswith(prefix):
        raise QueryError(
            f"must look like {prefix}<column>",
            field=where,
            ls_message=f'Filter "{raw}" should start with "{prefix}"',
        )
    rest = raw[len(prefix) :]
    if prefix == FILTER_PREFIX and rest.startswith("-"):
        rest = rest[1:]  # Label Studio's direction marker; a filter has no direction
    for name in ("data", "meta"):
        if rest.startswith(name + "."):
            key = rest[len(name) + 1 :]
            if not key or len(key) > MAX_KEY or _FORBIDDEN_KEY.search(key):
                raise QueryError(f"{name} key {key!r} is not allowed", field=where)
            return ColumnRef(name, key)
    if "__" in rest and rest not in known:
        # Label Studio's guard against lookups through relations (CVE-2023-47117); here
        # no column id ever becomes a lookup, and this answers as Label Studio does.
        raise QueryError(
            f"unknown column {rest[:80]!r}: no relation lookups",
            field=where,
            ls_message=f'"__" is not generally allowed in filters. Consider asking your '
            f'administrator to add "{rest}" to DATA_MANAGER_FILTER_ALLOWLIST, but note that '
            "some filter expressions may pose a security risk",
        )
    if not _COLUMN_RE.match(rest) or rest not in known:
        raise QueryError(f"unknown column {rest[:80]!r}", field=where)
    return ColumnRef(rest)


def load(raw: Any) -> dict:
    """The query as a dict, from a JSON string (a query parameter) or already parsed."""
    if raw in (None, ""):
        return {}
    if isinstance(raw, (str, bytes)):
        if len(raw) > 200_000:
            raise QueryError("too long")
        check_bytes(raw, "query")  # nesting past the limit: a 400 before json recurses
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise QueryError("not valid JSON") from exc
    if not isinstance(raw, dict):
        raise QueryError("must be a JSON object")
    return raw


def parse(raw: Any, *, known: frozenset[str], orderable: frozenset[str]) -> Query:
    """Validate a whole query. ``known``/``orderable`` are the allow-listed column ids."""
    body = load(raw)
    query = Query()
    filters = body.get("filters")
    if filters not in (None, {}):
        query.conjunction, query.items = parse_filters(filters, known=known)
        query.match = parse_match(filters)
    query.ordering = parse_ordering(body.get("ordering"), orderable=orderable)
    if body.get("selectedItems") is not None:
        query.selection = parse_selection(body["selectedItems"])
    return query


def parse_match(filters: Any) -> str:
    """``filters.match``: "task" (the default) or "annotation" (see ``MATCHES``)."""
    match = filters.get("match", "task") if isinstance(filters, dict) else "task"
    if match in (None, ""):
        return "task"
    if match not in MATCHES:
        raise QueryError("must be 'task' or 'annotation'", field="filters.match")
    return match


def parse_filters(filters: Any, *, known: frozenset[str]) -> tuple[str, list[FilterItem]]:
    if not isinstance(filters, dict):
        raise QueryError("must be an object", field="filters")
    conjunction = filters.get("conjunction", "and")
    if conjunction not in CONJUNCTIONS:
        raise QueryError("must be 'and' or 'or'", field="filters.conjunction")
    items = filters.get("items")
    items = [] if items is None else items
    if not isinstance(items, list):
        raise QueryError("must be a list", field="filters.items")
    if len(items) > MAX_ITEMS:
        raise QueryError(f"at most {MAX_ITEMS} filters", field="filters.items")
    return conjunction, [_filter_item(item, index, known) for index, item in enumerate(items)]


def _filter_item(item: Any, index: int, known: frozenset[str]) -> FilterItem:
    where = f"filters.items[{index}]"
    if not isinstance(item, dict):
        raise QueryError("must be an object", field=where)
    try:
        column = column_ref(
            item.get("filter"), prefix=FILTER_PREFIX, where=f"{where}.filter", known=known
        )
    except QueryError as error:
        if error.ls_message:  # Label Studio's shape: one entry per filter, this one's column
            error.validation_errors = {
                "filter_group": {"filters": [{}] * index + [{"column": [error.ls_message]}]}
            }
        raise
    operator = item.get("operator")
    if operator not in OPERATORS:
        raise QueryError(f"unknown operator {str(operator)[:40]!r}", field=f"{where}.operator")
    type_ = item.get("type") or "String"
    if not isinstance(type_, str) or type_.lower() not in TYPES:
        raise QueryError(f"unknown type {str(type_)[:40]!r}", field=f"{where}.type")
    value = item.get("value")
    _check_size(value, f"{where}.value")
    if operator == "regex":
        regex_check(value, f"{where}.value")
    return FilterItem(column, operator, type_.lower(), value, index)


def _check_size(value: Any, where: str, depth: int = 0) -> None:
    if depth > 2:
        raise QueryError("nested too deeply", field=where)
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise QueryError(f"longer than {MAX_STRING} characters", field=where)
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise QueryError(f"more than {MAX_LIST} values", field=where)
        for part in value:
            _check_size(part, where, depth + 1)
    if isinstance(value, dict):
        if set(value) - {"min", "max"}:
            raise QueryError("a range has only 'min' and 'max'", field=where)
        for part in value.values():
            _check_size(part, where, depth + 1)


def parse_ordering(ordering: Any, *, orderable: frozenset[str]) -> list[OrderItem]:
    if ordering in (None, "", []):
        return []
    if isinstance(ordering, str):
        ordering = [ordering]
    if not isinstance(ordering, list):
        raise QueryError("must be a list", field="ordering")
    if len(ordering) > MAX_ORDERING:
        raise QueryError(f"at most {MAX_ORDERING} columns", field="ordering")
    out = []
    for index, raw in enumerate(ordering):
        where = f"ordering[{index}]"
        if not isinstance(raw, str):
            raise QueryError("must be a string", field=where)
        descending = raw.startswith("-")
        raw = raw[1:] if descending else raw
        if raw.startswith(FILTER_PREFIX):  # tolerate the filter spelling
            raw = ORDER_PREFIX + raw[len(FILTER_PREFIX) :]
        out.append(
            OrderItem(
                column_ref(raw, prefix=ORDER_PREFIX, where=where, known=orderable), descending
            )
        )
    return out


def parse_selection(selected: Any) -> Selection:
    if not isinstance(selected, dict):
        raise QueryError("must be an object", field="selectedItems")
    everything = selected.get("all", False)
    if not isinstance(everything, bool):
        raise QueryError("'all' must be true or false", field="selectedItems.all")
    key = "excluded" if everything else "included"
    ids = selected.get(key, [])
    if not isinstance(ids, list) or len(ids) > MAX_SELECTED:
        raise QueryError(
            f"must be a list of at most {MAX_SELECTED} ids", field=f"selectedItems.{key}"
        )
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise QueryError("ids must be whole numbers", field=f"selectedItems.{key}")
    if not all(-MAX_ID <= i <= MAX_ID for i in ids):
        raise QueryError(f"ids must be at most {MAX_ID}", field=f"selectedItems.{key}")
    return Selection(all=everything, ids=tuple(ids))


# ----------------------------------------------------------------------- value coercion


def regex_check(value: Any, where: str) -> str:
    """A regex must be a short string that Python can compile. PostgreSQL checks its own
    dialect again, and its errors are turned into 400s too (see ``selectors``)."""
    if not isinstance(value, str) or not value:
        raise QueryError("a regex must be a non-empty string", field=where)
    if len(value) > MAX_REGEX:
        raise QueryError(f"a regex may have at most {MAX_REGEX} characters", field=where)
    try:
        re.compile(value)
    except re.error as exc:
        raise QueryError(f"invalid regex: {exc}", field=where) from exc
    return value


def as_number(value: Any, where: str) -> float | int:
    if isinstance(value, bool):
        raise QueryError("must be a number", field=where)
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError as exc:
            raise QueryError("must be a number", field=where) from exc
    if not isinstance(value, (int, float)) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise QueryError("must be a number", field=where)
    if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
        raise QueryError(f"must be between -{MAX_ID} and {MAX_ID}", field=where)
    return value


def as_datetime(value: Any, where: str, *, end_of_day: bool = False) -> datetime:
    """ISO date or date-time; naive values are UTC. A bare date used as an upper bound
    means the end of that day."""
    if isinstance(value, str):
        parsed = None
        try:
            parsed = parse_datetime(value.replace("Z", "+00:00"))
            if parsed is None:
                day = parse_date(value)
                if day is not None:
                    parsed = datetime.combine(day, time.max if end_of_day else time.min)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise QueryError("must be an ISO date or date-time", field=where)


def as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.lower() in ("true", "yes", "1")
    if value in (0, 1):
        return bool(value)
    raise QueryError("must be true or false", field=where)


def as_string(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise QueryError("must be a string", field=where)
    return value


def as_range(value: Any, where: str, convert) -> tuple[Any, Any]:
    """``{"min", "max"}`` (either may be missing or null), converted by ``convert``."""
    if not isinstance(value, dict) or not ({"min", "max"} & set(value)):
        raise QueryError("must be a range {min, max}", field=where)
    low = value.get("min")
    high = value.get("max")
    low = None if low in (None, "") else convert(low, where)
    high = None if high in (None, "") else convert(high, where)
    if low is None and high is None:
        raise QueryError("a range needs min or max", field=where)
    return low, high


def as_list(value: Any, where: str, convert) -> list:
    if not isinstance(value, list):
        value = [value]
    if not value:
        raise QueryError("must not be empty", field=where)
    return [convert(v, where) for v in value]
