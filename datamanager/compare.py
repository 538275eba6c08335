"""The Data Manager's comparisons: which operators each column kind takes, and one
filter item's operator and value as a condition on an expression (``compare``)."""

from __future__ import annotations

from datetime import time

from django.db.models import (
    Q,
)
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from datamanager import query as query_format
from datamanager.sql import (
    Regex,
)

NEGATIVE = frozenset({"not_equal", "not_contains", "not_in", "not_in_list"})
POSITIVE_OF = {
    "not_equal": "equal",
    "not_contains": "contains",
    "not_in": "in",
    "not_in_list": "in_list",
}
NUMBER_OPS = (
    "equal",
    "not_equal",
    "less",
    "greater",
    "less_or_equal",
    "greater_or_equal",
    "in",
    "not_in",
    "empty",
)
TEXT_OPS = (
    "equal",
    "not_equal",
    "contains",
    "not_contains",
    "regex",
    "in_list",
    "not_in_list",
    "empty",
)
BOOL_OPS = ("equal", "not_equal")
LIST_OPS = ("contains", "not_contains", "equal", "not_equal", "in_list", "not_in_list", "empty")


def _unsupported(item: query_format.FilterItem, allowed) -> query_format.QueryError:
    return query_format.QueryError(
        f"operator {item.operator!r} does not apply to {item.column.id}; use one of {', '.join(allowed)}",
        field=f"{item.where}.operator",
    )


def _convert(kind: str):
    if kind == "number":
        return query_format.as_number
    if kind == "datetime":
        return query_format.as_datetime
    return query_format.as_string


def compare(expr, item: query_format.FilterItem, kind: str) -> Q:
    """``expr <operator> value`` for numbers, date-times and text. Negative operators
    also match NULL (a task with no predictions has no score, and it is not 0.5)."""
    op, where = item.operator, f"{item.where}.value"
    if op == "empty":
        empty = query_format.as_bool(item.value, where)
        return Q(IsNull(expr, True)) if empty else Q(IsNull(expr, False))
    if op in NEGATIVE:
        positive = query_format.FilterItem(
            item.column, POSITIVE_OF[op], item.type, item.value, item.index
        )
        return ~compare(expr, positive, kind) | Q(IsNull(expr, True))
    if op in ("in", "in_list") and isinstance(item.value, list) or op == "in_list":
        return Q(In(expr, query_format.as_list(item.value, where, _convert(kind))))
    if op == "in":
        low, high = query_format.as_range(item.value, where, _convert(kind))
        if (
            kind == "datetime"
            and isinstance(item.value.get("max"), str)
            and len(item.value["max"]) == 10
        ):
            high = query_format.as_datetime(item.value["max"], where, end_of_day=True)
        cond = Q()
        if low is not None:
            cond &= Q(GreaterThanOrEqual(expr, low))
        if high is not None:
            cond &= Q(LessThanOrEqual(expr, high))
        return cond
    lookups = {
        "less": LessThan,
        "greater": GreaterThan,
        "less_or_equal": LessThanOrEqual,
        "greater_or_equal": GreaterThanOrEqual,
    }
    if op in lookups:
        if kind == "text":
            raise _unsupported(
                item, ("equal", "not_equal", "contains", "not_contains", "regex", "empty")
            )
        return Q(lookups[op](expr, _convert(kind)(item.value, where)))
    if op == "equal":
        if kind == "datetime" and isinstance(item.value, str) and len(item.value) == 10:
            day = query_format.as_datetime(item.value, where)
            return Q(GreaterThanOrEqual(expr, day)) & Q(
                LessThanOrEqual(expr, day.combine(day.date(), time.max, day.tzinfo))
            )
        return Q(Exact(expr, _convert(kind)(item.value, where)))
    if kind == "text" and op == "contains":
        return Q(IContains(expr, query_format.as_string(item.value, where)))
    if kind == "text" and op == "regex":
        return Q(Regex(expr, item.value))
    raise _unsupported(item, NUMBER_OPS if kind != "text" else TEXT_OPS)
