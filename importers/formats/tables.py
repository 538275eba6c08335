"""CSV, TSV and plain text, read as streams of decoded lines.

CSV and TSV: the first line is the header and its names become data keys; the
delimiter of a ``.csv`` is sniffed from its first 64 KB (``,`` ``;`` tab ``|``); UTF-8
with or without a BOM. Plain text: one task per non-empty line, filling the config's
single data key.
"""

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from importers.formats import file_error

csv.field_size_limit(64 * 1024 * 1024)


def _text(fh: BinaryIO) -> io.TextIOWrapper:
    return io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")


def _decode_guard(filename: str, lines: Iterator, tracker):
    try:
        yield from lines
    except UnicodeDecodeError as exc:
        raise file_error(
            filename, f"not UTF-8 text (byte {exc.start} of the bad chunk)", tracker.line or None
        ) from None


def sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_header(filename: str, header: list[str], data_keys: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    if not names or any(not name for name in names):
        raise file_error(filename, "the first line must be a header naming every column", 1)
    if len(set(names)) != len(names):
        raise file_error(filename, "the header repeats a column name", 1)
    missing = [key for key in data_keys if key not in names]
    if data_keys and len(missing) == len(data_keys):
        raise file_error(
            filename,
            "the first line must be a header row naming the columns; the labeling config "
            "needs " + ", ".join(f'"{key}"' for key in data_keys),
            1,
        )
    return names


def read_table(
    fh: BinaryIO, filename: str, tracker, *, delimiter: str | None, data_keys: list[str]
) -> Iterator[dict]:
    text = _text(fh)
    try:
        sample = text.read(65536)
    except UnicodeDecodeError:
        raise file_error(filename, "not UTF-8 text", 1) from None
    if not sample.strip():
        raise file_error(filename, "the file is empty")
    if delimiter is None:
        delimiter = sniff_delimiter(sample)
    text.seek(0)
    reader = csv.reader(_decode_guard(filename, text, tracker), delimiter=delimiter)
    header = None
    for row in reader:
        tracker.line = reader.line_num
        if header is None:
            if not any(cell.strip() for cell in row):
                continue
            header = read_header(filename, row, data_keys)
            width = len(header)
            continue
        if not row:
            continue
        if len(row) > width:
            raise file_error(
                filename,
                f"the row has more cells ({len(row)}) than the header ({width})",
                reader.line_num,
            )
        if len(row) < width:
            if not any(cell.strip() for cell in row):
                continue
            row = row + [""] * (width - len(row))
        yield dict(zip(header, row, strict=True))
    if header is None:
        raise file_error(filename, "the file is empty")


def read_txt(fh: BinaryIO, filename: str, tracker, *, data_keys: list[str]) -> Iterator[dict]:
    if len(data_keys) != 1:
        raise file_error(
            filename,
            f"a text file fills one data key, but the labeling config has {len(data_keys)}: "
            + ", ".join(data_keys),
        )
    key = data_keys[0]
    seen = False
    for number, line in enumerate(_decode_guard(filename, _text(fh), tracker), start=1):
        tracker.line = number
        line = line.rstrip("\r\n")
        if line.strip():
            seen = True
            yield {key: line}
    if not seen:
        raise file_error(filename, "the file is empty")
