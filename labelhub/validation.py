"""Checks for ids and numbers that come from outside, before they reach the database.

A Python int has no size limit, but PostgreSQL's bigint and SQLite's integer stop at
2**63 - 1: a larger id sent to the database is a DataError or an OverflowError (a 500).
Every id taken from a query string or a body goes through ``id_value`` or ``id_list``
first, so it answers a 400 that names the parameter.
"""

import math

from labelhub.exceptions import ApiError

MAX_ID = 2**63 - 1
# The largest magnitude a number from outside may have (issue #24 row 9). A float near
# 1e308 is finite, but the first sum or product overflows: two lead times of 1e308 made
# the quality counters infinite (SQLite: /quality/ a 500 for everyone; PostgreSQL:
# "value out of range" on the second write). 1e15 leaves room for sums of billions of
# rows, and is far above any real seconds, score or rate.
MAX_FLOAT = 1e15


def number_ok(value) -> bool:
    """A JSON number from outside (not a bool) that is finite and within ``MAX_FLOAT``
    (an integer: within the database's 64 bits)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return -MAX_ID - 1 <= value <= MAX_ID
    return math.isfinite(value) and abs(value) <= MAX_FLOAT


def _nonfinite(name: str):
    raise ValueError(f"{name} is not a JSON number")


def limit_drf_json() -> None:
    """DRF's ``JSONField`` reads a form-encoded or multipart field with Python's
    ``json``, which no parser checked: a 200 KB ``[[[...`` was a RecursionError (a 500)
    and a 300-deep value was stored (issue #24 row 3). Here a field's JSON text is
    scanned for nesting before ``json`` sees it, ``NaN``/``Infinity`` are refused (a
    database's JSON cannot hold them), and a value from any parser is refused when it
    nests deeper than ``MAX_DEPTH``: each a 400 naming the field."""
    import json

    from rest_framework import fields
    from rest_framework.exceptions import ValidationError

    from labelhub.jsonlimits import MAX_DEPTH, NestingError, check_bytes, value_depth_over

    if getattr(fields.JSONField, "_labelhub_limited", False):
        return
    original = fields.JSONField.to_internal_value
    too_deep = f"JSON nested deeper than {MAX_DEPTH} levels"

    def to_internal_value(self, data):
        if self.binary or getattr(data, "is_json_string", False):
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
            try:
                check_bytes(text, self.field_name or "value")
            except NestingError:
                raise ValidationError(too_deep) from None
            try:
                return json.loads(text, cls=self.decoder, parse_constant=_nonfinite)
            except (TypeError, ValueError):
                self.fail("invalid")
        if value_depth_over(data, MAX_DEPTH):
            raise ValidationError(too_deep)
        return original(self, data)

    fields.JSONField.to_internal_value = to_internal_value
    fields.JSONField._labelhub_limited = True


def bound_drf_numbers() -> None:
    """Give every DRF ``IntegerField`` and ``FloatField`` without bounds of its own the
    database's: 64-bit integers and floats within ``MAX_FLOAT``. Called once at start
    (projects' AppConfig), so a serializer field cannot forget them: a 10**30
    ``benchmark_first`` was a DataError (a 500) on PostgreSQL and an OverflowError on
    SQLite."""
    from rest_framework import fields

    if getattr(fields.IntegerField, "_labelhub_bounded", False):
        return

    def bounded(cls, low, high):
        original = cls.__init__

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("min_value", low)
            kwargs.setdefault("max_value", high)
            original(self, *args, **kwargs)

        cls.__init__ = __init__
        cls._labelhub_bounded = True

    bounded(fields.IntegerField, -MAX_ID - 1, MAX_ID)
    bounded(fields.FloatField, -MAX_FLOAT, MAX_FLOAT)


def id_value(raw, name: str) -> int:
    """One id: a whole number from 1 to 2**63 - 1, else a 400 naming ``name``."""
    if isinstance(raw, bool):
        raw = None
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(
            f"{name} must be a whole number", [{"field": name, "message": "not an integer"}]
        ) from None
    if not 1 <= value <= MAX_ID:
        raise ApiError(
            f"{name} is out of range",
            [{"field": name, "message": f"must be between 1 and {MAX_ID}"}],
        )
    return value


def id_list(raw, name: str) -> list[int]:
    """A list of ids (a JSON list, or a comma-separated string), each checked."""
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list | tuple):
        raise ApiError(f"{name} must be a list of ids", [{"field": name, "message": "not a list"}])
    out = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            item = item.strip()
        out.append(id_value(item, f"{name}[{index}]"))
    return out
