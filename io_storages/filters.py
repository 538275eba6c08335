"""``regex_filter``, bounded: the ``regex`` package with a timeout, the engine the Data
Manager registers for SQLite (``labelhub.sqlite_regex``).

Python's ``re`` backtracks without limit (``(a+)+$`` against one 30-character key ran
15 s inside a sync). Here each key gets ``KEY_SECONDS``; a key that runs out stops the
sync with a 400-style message naming the filter, never a stuck worker. Keys are matched
from their start, as Label Studio does (``re.match``).
"""

from collections.abc import Callable

import regex

from io_storages.backend import StorageError

KEY_SECONDS = 0.1


def compile_filter(pattern: str | None):
    """The compiled filter, or StorageError naming ``regex_filter``."""
    if not pattern:
        return None
    try:
        return regex.compile(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        raise StorageError(
            f"regex_filter is not a regular expression: {exc}", "regex_filter"
        ) from None


def key_filter(pattern: str | None) -> Callable[[str], bool]:
    compiled = compile_filter(pattern)
    if compiled is None:
        return lambda key: True

    def keep(key: str) -> bool:
        try:
            return compiled.match(key, timeout=KEY_SECONDS) is not None
        except TimeoutError:
            raise StorageError(
                f"regex_filter took longer than {KEY_SECONDS} s on the key {key[:200]!r}; "
                "use a simpler pattern",
                "regex_filter",
            ) from None

    return keep
