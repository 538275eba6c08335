"""A nesting limit for every JSON the server parses.

Parsers build nested containers recursively or keep a stack per level; a 200 KB body of
100,000 nested arrays grew a web worker to many gigabytes (and Python's ``json`` raises
RecursionError). So every path that parses JSON from outside (the DRF parser for API
bodies, request imports, background imports, JSON Lines) first runs the bytes through
``NestingCheck``, which refuses nesting deeper than ``MAX_DEPTH`` with a 400 naming the
line, before any parser sees them.

The scan works on chunks, so files of any size stream through it with constant memory.
Brackets inside strings do not count. See ``NestingCheck`` for how it stays in C.
"""

import re
from itertools import accumulate

import orjson

from labelhub.exceptions import ApiError

MAX_DEPTH = 64

_ESCAPE = re.compile(rb"\\.", re.S)
_ALL_BUT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = [0] * 256
for _b in b"[{":
    _DELTA[_b] = 1
for _b in b"]}":
    _DELTA[_b] = -1
_OPEN = frozenset(b"[{")


class NestingError(ApiError):
    def __init__(self, source: str, line: int, limit: int):
        message = f"JSON nested deeper than {limit} levels"
        super().__init__(
            f"Could not read {source}, line {line}: {message}",
            [{"file": source, "line": line, "message": message}],
        )
        self.line = line


class NestingCheck:
    """Feed bytes in order; raises ``NestingError`` once nesting passes the limit.

    The fast path is all C: escapes dropped by one ``re.sub`` (data rarely has any),
    the chunk split at its quotes (every other piece is outside a string), the brackets
    kept by ``bytes.translate`` and the running depth taken by ``accumulate``. Only a
    chunk that goes too deep is walked byte by byte, to name the line.
    """

    def __init__(self, source: str = "request body", limit: int = MAX_DEPTH, line: int = 1):
        self.source = source
        self.limit = limit
        self.depth = 0
        self.line = line  # line of the start of the next chunk
        self.in_string = False
        self.escape = False  # the last chunk ended inside a string, after a backslash

    def feed(self, chunk: bytes) -> None:
        state = (self.depth, self.in_string, self.escape)
        body = chunk
        if self.escape:
            body = body[1:]
            self.escape = False
        if b"\\" in body:
            run = len(body) - len(body.rstrip(b"\\"))
            if run % 2:
                self.escape = True
                body = body[:-1]
            body = _ESCAPE.sub(b"", body)
        parts = body.split(b'"')
        outside = parts[1::2] if self.in_string else parts[0::2]
        if len(parts) % 2 == 0:
            self.in_string = not self.in_string
        kept = b"".join(outside).translate(None, _ALL_BUT_BRACKETS)
        if kept:
            deepest = max(accumulate(map(_DELTA.__getitem__, kept), initial=self.depth))
            if deepest > self.limit:
                raise NestingError(self.source, self._line_of_excess(chunk, *state), self.limit)
            self.depth += kept.count(b"[") + kept.count(b"{") - kept.count(b"]") - kept.count(b"}")
        self.line += chunk.count(b"\n")

    def _line_of_excess(self, chunk: bytes, depth: int, in_string: bool, escape: bool) -> int:
        """The slow walk over one chunk: the line where nesting passes the limit."""
        line = self.line
        for byte in chunk:
            if escape:
                escape = False
            elif in_string:
                if byte == 0x5C:  # backslash
                    escape = True
                elif byte == 0x22:
                    in_string = False
            elif byte == 0x22:
                in_string = True
            elif byte in _OPEN:
                depth += 1
                if depth > self.limit:
                    return line
            elif byte in (0x5D, 0x7D):
                depth -= 1
            if byte == 0x0A:
                line += 1
        return line


def check_bytes(
    raw: bytes | str, source: str = "request body", limit: int = MAX_DEPTH, line: int = 1
) -> None:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    NestingCheck(source, limit, line).feed(raw)


def check_file(fh, source: str, limit: int = MAX_DEPTH, chunk_size: int = 1 << 20) -> None:
    """Scan a binary file from its current position, then put it back there."""
    start = fh.tell()
    check = NestingCheck(source, limit)
    for chunk in iter(lambda: fh.read(chunk_size), b""):
        check.feed(chunk)
    fh.seek(start)


def value_depth_over(value, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed value (dicts and lists) nests deeper than ``limit``: for values
    that did not come through a checked parser (form fields, stored rows). Iterative, so
    any depth is safe to walk."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend(
            (child, depth + 1) for child in children if isinstance(child, dict | list | tuple)
        )
    return False


def dumps_any(value) -> bytes:
    """``orjson.dumps``, and for a value nested past orjson's own limit (254 levels: a
    row stored before the nesting limit held) the same bytes built without recursion,
    so a writer never stops in the middle of a stream on stored data."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        pass
    out = bytearray()
    # Each frame: an iterator over a container's items, whether it is an object, and
    # whether an item was written yet.
    stack: list[tuple] = []
    item = value
    while True:
        if isinstance(item, dict):
            out += b"{"
            stack.append((iter(item.items()), True, [False]))
        elif isinstance(item, list | tuple):
            out += b"["
            stack.append((iter(item), False, [False]))
        else:
            out += orjson.dumps(item, default=str)
        while stack:
            items, is_object, started = stack[-1]
            following = next(items, _END)
            if following is _END:
                out += b"}" if is_object else b"]"
                stack.pop()
                continue
            if started[0]:
                out += b","
            started[0] = True
            if is_object:
                key, item = following
                out += orjson.dumps(str(key)) + b":"
            else:
                item = following
            break
        else:
            return bytes(out)


_END = object()
