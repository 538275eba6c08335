"""Parsers for uploaded files: one function per format, each yielding task records.

Errors are ApiErrors that name the file, and the line (and column) where they can.
"""

import csv
import io
from collections.abc import Iterator

import orjson

from labelhub.errors import ApiError
from projects.label_config import ParsedConfig


def _bad(filename: str, message: str, line: int | None = None) -> ApiError:
    where = f"{filename}, line {line}" if line else filename
    return ApiError(
        f"Could not read {where}: {message}",
        [{"file": filename, "line": line, "message": message}],
    )


def _decode(filename: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad(filename, f"not UTF-8 text (byte {exc.start})") from exc


def json_loads(raw: bytes | str, *, source: str = "request body"):
    """orjson.loads with an error that gives line and column."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        line = text.count("\n", 0, exc.pos) + 1
        column = exc.pos - (text.rfind("\n", 0, exc.pos) + 1) + 1
        raise ApiError(
            f"Malformed JSON in {source} at line {line}, column {column}: {exc.msg}",
            [{"file": source, "line": line, "column": column, "message": exc.msg}],
        ) from exc


def parse_json(filename: str, raw: bytes, parsed: ParsedConfig) -> list:
    if not raw.strip():
        raise _bad(filename, "the file is empty")
    value = json_loads(raw, source=filename)
    return value if isinstance(value, list) else [value]


def parse_jsonl(filename: str, raw: bytes, parsed: ParsedConfig) -> list:
    records = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if line.strip():
            records.append(json_loads(line, source=f"{filename}, line {number}"))
    if not records:
        raise _bad(filename, "the file is empty")
    return records


def _rows(filename: str, raw: bytes, delimiter: str | None) -> Iterator[dict]:
    text = _decode(filename, raw)
    if not text.strip():
        raise _bad(filename, "the file is empty")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    if not header or any(not (name or "").strip() for name in header):
        raise _bad(filename, "the first line must be a header naming every column", 1)
    if len(set(header)) != len(header):
        raise _bad(filename, "the header repeats a column name", 1)
    for row in reader:
        if None in row:
            raise _bad(filename, "the row has more cells than the header", reader.line_num)
        yield {key: ("" if value is None else value) for key, value in row.items()}


def parse_csv(filename: str, raw: bytes, parsed: ParsedConfig) -> list:
    return list(_rows(filename, raw, None))


def parse_tsv(filename: str, raw: bytes, parsed: ParsedConfig) -> list:
    return list(_rows(filename, raw, "\t"))


def parse_txt(filename: str, raw: bytes, parsed: ParsedConfig) -> list:
    keys = parsed.data_keys
    if len(keys) != 1:
        raise _bad(
            filename,
            f"a text file fills one data key, but the labeling config has {len(keys)}: "
            + ", ".join(keys),
        )
    lines = [line for line in _decode(filename, raw).splitlines() if line.strip()]
    if not lines:
        raise _bad(filename, "the file is empty")
    return [{keys[0]: line} for line in lines]


PARSERS = {
    "json": parse_json,
    "jsonl": parse_jsonl,
    "csv": parse_csv,
    "tsv": parse_tsv,
    "txt": parse_txt,
}


def parse_upload(filename: str, raw: bytes, parsed: ParsedConfig) -> list:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    parser = PARSERS.get(extension)
    if parser is None:
        raise _bad(filename, f"unsupported file type; use one of: {', '.join(sorted(PARSERS))}")
    return parser(filename, raw, parsed)
