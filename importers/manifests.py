"""Cloud manifests in Encord's published shape, JSON and CSV, turned into task records.

JSON: an object with any of the keys ``images``, ``videos``, ``audio``, ``pdfs``, ``text``,
``image_groups``, ``dicom_series`` and ``nifti`` (each a list of entries), plus
``skip_duplicate_urls``. An entry has ``objectUrl`` (or ``objectUrl_0..N`` for image groups
and DICOM series, in numeric order), ``title``, ``clientMetadata`` and, for image groups,
``createVideo`` (an image sequence). Encord's own example repeats ``image_groups``; JSON
objects with repeated keys keep only the last value in most parsers, so this module parses
with ``object_pairs_hook`` and concatenates the lists of a repeated top-level key.

CSV: headers are case-insensitive: ``ObjectUrl`` plus one title column (``Image title``,
``Video title``, ``Image group title`` with ``Create video``, ``Series title``...). A row
that starts with ``ObjectUrl`` is a new header and switches the type for the rows below
it. Rows of one image group or DICOM series share its title and stay in file order.

Each entry becomes one task: the URL (or the ordered list of URLs) goes under the
project's object key for that type, and the title, client metadata and any other fields
go into ``meta``.
"""

import csv
import json
import re
from collections.abc import Iterable, Iterator

from django.db.models.fields.json import KeyTransform

from importers.bulk.base import connection_idle
from importers.formats import file_error
from importers.formats.jsonfile import BOM, trailing_comma_message
from importers.records import TaskRow
from projects.label_config import ParsedConfig
from tasks.models import Task

# manifest key -> (object tag types that can show it, entries hold a list of URLs)
KINDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "images": (("Image",), False),
    "videos": (("Video",), False),
    "audio": (("Audio", "AudioPlus"), False),
    "pdfs": (("PDF",), False),
    "text": (("Text", "HyperText", "Markdown"), False),
    "image_groups": (("Image",), True),
    "dicom_series": (("Image",), True),
    "nifti": (("Image",), False),
}
_NUMBERED = re.compile(r"^objectUrl_(\d+)$", re.IGNORECASE)
_BOOLEAN_TRUE = {"true", "1", "yes", "y", "t"}

# CSV title column -> manifest key
CSV_TITLES = {
    "image title": "images",
    "video title": "videos",
    "image group title": "image_groups",
    "series title": "dicom_series",
    "audio title": "audio",
    "pdf title": "pdfs",
    "text title": "text",
    "nifti title": "nifti",
}


class _Pairs(dict):
    """A parsed JSON object that remembers the values of keys it saw more than once."""

    repeated: dict


def _pairs_hook(pairs: list) -> dict:
    obj = _Pairs()
    obj.repeated = {}
    for key, value in pairs:
        if key in obj:
            obj.repeated.setdefault(key, [obj[key]]).append(value)
        obj[key] = value
    return obj


def parse_object(raw: bytes, filename: str) -> dict:
    """A JSON object whose repeated list-valued keys are concatenated, or a located error."""
    if raw.startswith(BOM):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise file_error(filename, f"not UTF-8 text (byte {exc.start})") from None
    try:
        obj = json.loads(text, object_pairs_hook=_pairs_hook)
    except json.JSONDecodeError as exc:
        message = f"malformed JSON: {trailing_comma_message(exc)}"
        raise file_error(filename, message, exc.lineno, exc.colno) from None
    if isinstance(obj, _Pairs):
        for key, values in obj.repeated.items():
            if all(isinstance(value, list) for value in values):
                obj[key] = [item for value in values for item in value]
    return obj


def is_manifest(obj) -> bool:
    """An object with at least one manifest key holding entries with object URLs."""
    if not isinstance(obj, dict) or "data" in obj:
        return False
    found = False
    for key, value in obj.items():
        if key in KINDS:
            if not isinstance(value, list):
                return False
            found = True
        elif key != "skip_duplicate_urls":
            return False
    return found


def object_key(parsed: ParsedConfig, kind: str, *, where: str) -> str:
    """The data key for a manifest kind: the config's one object tag that can show it."""
    from importers.media import single_object_key

    types, wants_list = KINDS[kind]
    return single_object_key(
        parsed, types, where=where, subject=f'the manifest\'s "{kind}"', want_list=wants_list
    )


def _entry_urls(entry: dict, wants_list: bool) -> list[str] | str | None:
    if not wants_list:
        url = entry.get("objectUrl")
        return url if isinstance(url, str) and url else None
    numbered = []
    for key, value in entry.items():
        match = _NUMBERED.match(key)
        if match and isinstance(value, str) and value:
            numbered.append((int(match.group(1)), value))
    if not numbered and isinstance(entry.get("objectUrl"), str):
        return [entry["objectUrl"]]
    return [url for _n, url in sorted(numbered)] or None


def _record(kind: str, key: str, urls, entry: dict) -> TaskRow:
    meta = {"manifest_type": kind}
    for name, value in entry.items():
        if name == "objectUrl" or _NUMBERED.match(name):
            continue
        meta[name] = value
    return TaskRow(data={key: urls}, meta=meta)


class DuplicateFilter:
    """Drops entries whose URL the project (or this manifest) already has.

    A single object's identity is its URL; an image group's or series' is its first URL.
    Looked up one query per batch of entries, through the data key, never by listing
    the project's tasks.
    """

    BATCH = 1000

    def __init__(self, project) -> None:
        self.project = project
        self.seen: set[str] = set()
        self.skipped = 0

    @staticmethod
    def identity(record: TaskRow, key: str) -> str:
        urls = record.data[key]
        return urls[0] if isinstance(urls, list) else urls

    def _existing(self, key: str, wants_list: bool, urls: list[str]) -> set[str]:
        connection_idle()
        column = KeyTransform(key, "data")
        if wants_list:
            column = KeyTransform("0", column)
        query = (
            Task.objects.filter(project=self.project)
            .annotate(_url=column)
            .filter(_url__in=urls)
            .values_list("_url", flat=True)
        )
        return set(query)

    def filter(self, kind: str, key: str, records: list[TaskRow]) -> list[TaskRow]:
        wants_list = KINDS[kind][1]
        ids = [self.identity(record, key) for record in records]
        existing = self._existing(key, wants_list, list(set(ids) - self.seen))
        kept = []
        for record, url in zip(records, ids, strict=True):
            if url in self.seen or url in existing:
                self.skipped += 1
                continue
            self.seen.add(url)
            kept.append(record)
        return kept


def _batched(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def manifest_records(obj: dict, *, parsed: ParsedConfig, filename: str, ctx) -> Iterator[dict]:
    """Records of a JSON manifest, in key order; ``ctx.project`` for duplicate checks."""
    skip = bool(obj.get("skip_duplicate_urls")) or ctx.skip_duplicate_urls
    duplicates = DuplicateFilter(ctx.project) if skip else None
    for kind, entries in obj.items():
        if kind not in KINDS or not entries:
            continue
        key = object_key(parsed, kind, where=filename)
        wants_list = KINDS[kind][1]
        records = []
        for position, entry in enumerate(entries):
            where = f'"{kind}"[{position}]'
            if not isinstance(entry, dict):
                raise file_error(filename, f"{where} must be an object")
            urls = _entry_urls(entry, wants_list)
            if not urls:
                wanted = "objectUrl_0, objectUrl_1..." if wants_list else "objectUrl"
                raise file_error(filename, f"{where} has no {wanted}")
            records.append(_record(kind, key, urls, entry))
        for batch in _batched(records, DuplicateFilter.BATCH):
            if duplicates is not None:
                batch = duplicates.filter(kind, key, batch)
            yield from batch
    if duplicates is not None:
        ctx.skipped += duplicates.skipped


# --------------------------------------------------------------------------- CSV


def is_csv_manifest(first_line: str) -> bool:
    cells = next(csv.reader([first_line]), [])
    return bool(cells) and cells[0].strip().lower() == "objecturl"


def _kind_for_url(url: str) -> str:
    from importers.media import media_type  # media knows the file extensions

    return {
        "image": "images",
        "video": "videos",
        "audio": "audio",
        "pdf": "pdfs",
        "html": "text",
        "text": "text",
    }.get(media_type(url.split("?", 1)[0]) or "", "images")


def _truthy(value: str) -> bool:
    return value.strip().lower() in _BOOLEAN_TRUE


def csv_manifest_records(text: Iterable[str], *, parsed: ParsedConfig, filename: str, ctx):
    """Records of a CSV manifest. Group rows (image groups, series) are joined by title."""
    reader = csv.reader(text)
    header: dict[str, int] | None = None
    kind = None
    groups: dict[tuple, dict] = {}
    order: list = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        first = row[0].strip().lower()
        if first == "objecturl":
            header = {cell.strip().lower(): i for i, cell in enumerate(row)}
            titles = [CSV_TITLES[name] for name in header if name in CSV_TITLES]
            if len(titles) > 1:
                raise file_error(filename, "a header row names more than one title column", line)
            kind = titles[0] if titles else None
            continue
        if header is None:
            raise file_error(
                filename, 'the first line must be a header starting with "ObjectUrl"', line
            )

        def cell(name: str, row=row, header=header) -> str:
            index = header.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        url = cell("objecturl")
        if not url:
            raise file_error(filename, "the row has no ObjectUrl", line)
        row_kind = kind or _kind_for_url(url)
        title_column = next((t for t, k in CSV_TITLES.items() if k == row_kind), "")
        title = cell(title_column)
        if KINDS[row_kind][1]:
            if not title:
                raise file_error(filename, f"a {title_column} is needed to group the rows", line)
            group = groups.get((row_kind, title))
            if group is None:
                group = groups[(row_kind, title)] = {"title": title, "urls": []}
                if row_kind == "image_groups":
                    group["createVideo"] = _truthy(cell("create video"))
                order.append((row_kind, group))
            group["urls"].append(url)
        else:
            entry = {"objectUrl": url}
            if title:
                entry["title"] = title
            order.append((row_kind, entry))
    if header is None:
        raise file_error(filename, "the file is empty")
    manifest: dict[str, list] = {}
    for row_kind, entry in order:
        if "urls" in entry:
            urls = entry.pop("urls")
            entry.update({f"objectUrl_{i}": url for i, url in enumerate(urls)})
        manifest.setdefault(row_kind, []).append(entry)
    yield from manifest_records(manifest, parsed=parsed, filename=filename, ctx=ctx)
