"""SQLite's REGEXP, registered by LabelHub on every SQLite connection, with a time bound.

SQLite has no regex engine: Django registers ``REGEXP`` as Python's ``re.search``, which
backtracks without limit (``a*a*a*a*!`` on a 230-character text ran 13 s, and no
statement timeout can interrupt a Python function in the middle of a row). Ours runs
the ``regex`` package, whose matcher takes a ``timeout``: each match gets the time left
before the deadline that ``regex_deadline`` set (or ``REGEX_SECONDS`` outside one), and
a match that runs out raises ``TimeoutError``, which SQLite turns into an error of the
statement.
"""

import contextvars
import time
from contextlib import contextmanager
from functools import lru_cache

import regex

REGEX_SECONDS = 3.0
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "labelhub_regex_deadline", default=None
)


@contextmanager
def regex_deadline(seconds: float):
    """Every REGEXP evaluated inside the block shares one deadline."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def deadline_passed() -> bool:
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline


@lru_cache(maxsize=256)
def _compiled(pattern: str):
    return regex.compile(pattern)


def regexp(pattern, value) -> bool:
    if pattern is None or value is None:
        return False
    deadline = _deadline.get()
    remaining = REGEX_SECONDS if deadline is None else deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("regex time limit")
    return _compiled(str(pattern)).search(str(value), timeout=remaining) is not None


def register(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: replace Django's REGEXP on SQLite connections."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function("REGEXP", 2, regexp, deterministic=True)
        raw.create_function("lh_regexp", 2, regexp, deterministic=True)
