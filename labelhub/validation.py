"""Checks for ids and numbers that come from outside, before they reach the database.

A Python int has no size limit, but PostgreSQL's bigint and SQLite's integer stop at
2**63 - 1: a larger id sent to the database is a DataError or an OverflowError (a 500).
Every id taken from a query string or a body goes through ``id_value`` or ``id_list``
first, so it answers a 400 that names the parameter.
"""

from labelhub.errors import ApiError

MAX_ID = 2**63 - 1


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
