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

REGEX_SECONDS = 3.0
# One match (one row) gets at most this long. The ``regex`` package checks its timeout
# only now and then: measured on this loaded 2-core machine, ``a*a*a*a*a*a*\d`` on 1,000
# to 10,000 characters overran a 0.5 s timeout to 2.8-3.4 s, and a 3 s one to 17 s on
# /api/dm/next/ (issue #24 row 5), while a 0.05 s timeout ended in 0.2-0.4 s. A sane
# pattern matches a 20,000-character subject in well under a millisecond, so a row that
# needs a quarter of a second is hostile, and stopping it there keeps the whole
# statement near its deadline.
MATCH_SECONDS = 0.25
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "labelhub_regex_deadline", default=None
)


@contextmanager
def regex_deadline(seconds: float):
    """Every REGEXP evaluated inside the block shares one deadline."""
    token = _deadline.set(time.monotonic() + seconds)
    flag = _timed_out.set(False)
    try:
        yield
    finally:
        _deadline.reset(token)
        _timed_out.reset(flag)


_timed_out: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "labelhub_regex_timed_out", default=False
)


def regex_timed_out(exc: BaseException | None = None) -> bool:
    """Whether the SQLite error ``exc`` (``user-defined function raised exception``) came
    from a REGEXP that ran out of time in this context."""
    if exc is not None and "user-defined function raised exception" not in str(exc):
        return False
    return _timed_out.get()


@lru_cache(maxsize=256)
def _compiled(pattern: str):
    import regex  # at the first REGEXP, not at django.setup() (projects' AppConfig)

    return regex.compile(pattern)


def regexp(pattern, value) -> bool:
    if pattern is None or value is None:
        return False
    deadline = _deadline.get()
    remaining = REGEX_SECONDS if deadline is None else deadline - time.monotonic()
    if remaining <= 0:
        _timed_out.set(True)
        raise TimeoutError("regex time limit")
    try:
        return (
            _compiled(str(pattern)).search(str(value), timeout=min(remaining, MATCH_SECONDS))
            is not None
        )
    except TimeoutError:
        _timed_out.set(True)
        raise


def register(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: replace Django's REGEXP on SQLite connections."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function("REGEXP", 2, regexp, deterministic=True)
        raw.create_function("lh_regexp", 2, regexp, deterministic=True)
