"""Keyset paging for the Data Manager's task pages: the opaque ``after`` cursor (the
last row's sort keys, URL-safe base64 JSON) and the conditions for rows after or before it
in (k0, k1, ..., id) order with NULLs last."""

import base64
import json
from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from labelhub.errors import ApiError
from labelhub.jsonlimits import check_bytes


def cursor_encode(values: list) -> str:
    plain = [{"$dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return (
        base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def cursor_decode(cursor: str, size: int) -> list:
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


def rows_after(names: list[str], descs: list[bool], values: list) -> Q:
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


def rows_before(names: list[str], descs: list[bool], values: list) -> Q:
    """Rows before ``values`` in the same (k0, k1, ..., id) order, NULLs last: the mirror
    of ``rows_after``. Everything non-NULL comes before a NULL key."""
    condition = Q(pk__in=[])
    for index, (name, desc, value) in enumerate(
        reversed(list(zip(names, descs, values, strict=True)))
    ):
        if value is None:
            before, equal = Q(**{f"{name}__isnull": False}), Q(**{f"{name}__isnull": True})
        else:
            before, equal = Q(**{f"{name}__{'gt' if desc else 'lt'}": value}), Q(**{name: value})
        condition = before if index == 0 else before | (equal & condition)
    return condition
