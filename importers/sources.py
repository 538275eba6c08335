"""What an import reads: files on disk, spooled from the request, a URL or the CLI.

``ImportFile`` is one file with the name the user gave it; ``iter_records`` turns a list
of them into task records, dispatching on the extension: task files (json, jsonl, csv,
tsv, txt) are parsed as streams, archives (zip, rar) are unpacked with limits and their
members handled the same way, and media files become one task each. ``ImportContext``
carries what the readers need and what they report (bytes read, the current file and
line for error messages, media files to remove if the import fails).
"""

import fcntl
import io
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from django.conf import settings

from importers import archives, manifests
from importers.formats import file_error
from importers.formats.jsonfile import read_json, read_jsonl
from importers.formats.tables import read_table, read_txt
from importers.media import MediaStore, media_record, media_type
from importers.models import ImportJob
from labelhub.errors import ApiError
from projects.label_config import ParsedConfig

TASK_FORMATS = {"json", "jsonl", "csv", "tsv", "txt"}
ARCHIVES = {"zip", "rar"}
CHUNK = 1 << 20


@dataclass
class ImportFile:
    path: Path
    name: str
    kind: str | None = None  # a format forced by the caller (a request body is JSON)
    # The records of a JSON list the import policy already parsed whole (a file under
    # LABELHUB_ASYNC_IMPORT_BYTES, ``importers.background.estimated_tasks``): the import
    # in the request reads them instead of parsing and nesting-checking the file again.
    parsed: list | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def as_dict(self) -> dict:
        return {"path": str(self.path), "name": self.name, "kind": self.kind}


def file_kind(name: str) -> str | None:
    """``json``... for task files, ``zip``/``rar``, ``media``, or None if unsupported."""
    base = name.rsplit("/", 1)[-1].lower()
    ext = base.rsplit(".", 1)[-1] if "." in base else ""
    if ext in TASK_FORMATS or ext in ARCHIVES:
        return ext
    if media_type(base):
        return "media"
    return None


def supported_extensions() -> str:
    from importers.media import MEDIA_TYPES

    media = sorted(ext for exts in MEDIA_TYPES.values() for ext in exts)
    return (
        ", ".join(sorted(TASK_FORMATS | ARCHIVES)) + ", and media files (" + ", ".join(media) + ")"
    )


def accepted_extensions() -> list[str]:
    """Every file name ending the importer takes, for a file picker's ``accept``: task
    files, archives and media files (one task each)."""
    from importers.media import MEDIA_TYPES

    media = {ext for exts in MEDIA_TYPES.values() for ext in exts}
    return ["." + ext for ext in sorted(TASK_FORMATS | ARCHIVES | media)]


class _Counting(io.RawIOBase):
    """A raw file that reports the bytes read to the context (wrap it in a buffer)."""

    def __init__(self, fh, ctx: "ImportContext") -> None:
        super().__init__()
        self.fh = fh
        self.ctx = ctx
        self.furthest = 0  # a peek and a seek back must not count the same bytes twice

    def readinto(self, buffer) -> int:
        count = self.fh.readinto(buffer)
        end = self.fh.tell()
        if end > self.furthest:
            self.ctx.bytes_done += end - self.furthest
            self.furthest = end
        return count

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def tell(self) -> int:
        return self.fh.tell()


@dataclass
class ImportContext:
    project: object
    parsed: ParsedConfig
    work_dir: Path
    skip_duplicate_urls: bool = False
    bytes_total: int = 0
    bytes_done: int = 0
    skipped: int = 0
    file: str | None = None
    line: int | None = None
    media: MediaStore | None = None
    unpacked: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.media is None:
            self.media = MediaStore(self.project.pk)

    def where(self) -> dict:
        where: dict = {}
        if self.file:
            where["file"] = self.file
        if self.line:
            where["line"] = self.line
        return where

    def cleanup(self, *, failed: bool) -> None:
        if failed:
            self.media.discard()
        for folder in self.unpacked:
            archives.remove(folder)
        self.unpacked.clear()


def _json_object(raw: bytes, name: str, ctx: ImportContext):
    obj = manifests.parse_object(raw, name)
    if manifests.is_manifest(obj):
        return manifests.manifest_records(obj, parsed=ctx.parsed, filename=name, ctx=ctx)
    return [dict(obj)]


def _csv_records(fh, name: str, ctx: ImportContext, delimiter):
    head = fh.read(4096)
    fh.seek(0)
    try:
        first_line = head.decode("utf-8-sig", "replace").splitlines()[0] if head.strip() else ""
    except IndexError:
        first_line = ""
    if delimiter is None and manifests.is_csv_manifest(first_line):
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        try:
            yield from manifests.csv_manifest_records(
                text, parsed=ctx.parsed, filename=name, ctx=ctx
            )
        except UnicodeDecodeError:
            raise file_error(name, "not UTF-8 text") from None
        return
    yield from read_table(fh, name, ctx, delimiter=delimiter, data_keys=ctx.parsed.data_keys)


def _file_records(item: ImportFile, ctx: ImportContext) -> Iterator:
    kind = item.kind or file_kind(item.name)
    ctx.file, ctx.line = item.name, None
    if kind is None:
        error = file_error(item.name, f"unsupported file type; use {supported_extensions()}")
        # Label Studio's clients read its wording from validation_errors.
        suffix = PurePath(item.name).suffix
        error.validation_errors = {"non_field_errors": [f"{suffix} extension is not supported"]}
        raise error
    if kind == "media":
        yield media_record(ctx.parsed, ctx.media, item.path, item.name)
        ctx.bytes_done += item.size
        return
    if kind in ARCHIVES:
        folder = ctx.work_dir / f"unpacked-{uuid.uuid4().hex[:8]}"
        ctx.unpacked.append(folder)
        found = False
        size = item.size
        for member_path, member_name in archives.extract(item.path, item.name, folder):
            if file_kind(member_name) in (None, "zip", "rar"):
                continue  # unsupported or nested archive members are skipped
            found = True
            yield from _file_records(ImportFile(member_path, member_name), ctx)
            member_path.unlink(missing_ok=True)
        archives.remove(folder)
        ctx.bytes_done += size
        if not found:
            raise file_error(
                item.name, f"the archive holds no importable files ({supported_extensions()})"
            )
        return
    size = item.size
    if kind == "json" and item.parsed is not None:
        yield from item.parsed
        ctx.bytes_done += size
        return
    before = ctx.bytes_done
    with open(item.path, "rb", buffering=0) as raw:
        fh = io.BufferedReader(_Counting(raw, ctx), buffer_size=CHUNK)
        if size == 0:
            raise file_error(item.name, "the file is empty")
        if kind == "json":
            yield from read_json(
                fh,
                item.name,
                str(item.path),
                on_object=lambda text: _json_object(text, item.name, ctx),
            )
        elif kind == "jsonl":
            yield from read_jsonl(fh, item.name, ctx)
        elif kind in ("csv", "tsv"):
            yield from _csv_records(fh, item.name, ctx, "\t" if kind == "tsv" else None)
        else:
            yield from read_txt(fh, item.name, ctx, data_keys=ctx.parsed.data_keys)
    ctx.bytes_done = before + size


def iter_records(files: list[ImportFile], ctx: ImportContext) -> Iterator:
    ctx.bytes_total = sum(item.size for item in files)
    for item in files:
        yield from _file_records(item, ctx)


# --------------------------------------------------------------------------- spooling


def imports_root() -> Path:
    root = Path(settings.DATA_DIR) / "imports"
    root.mkdir(parents=True, exist_ok=True)
    return root


# A folder of a request that is still spooling is held by an flock on this file; the
# kernel drops the lock when the process dies, however it dies.
_OWNER = ".owner"
_held: dict[str, object] = {}
# A folder younger than this is never swept (it may be between mkdtemp and flock).
WORK_DIR_GRACE = 60.0


def work_dir() -> Path:
    """A fresh folder for one import's files, in the data directory (shared by web and
    worker), held by this process until ``work_dir_release`` or ``work_dir_remove``.

    Each call first sweeps the folders left by imports whose process was killed (a web
    worker killed mid-request runs no ``finally``)."""
    work_dirs_sweep()
    folder = Path(tempfile.mkdtemp(prefix="import-", dir=imports_root()))
    handle = open(folder / _OWNER, "w")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _held[str(folder)] = handle
    return folder


def work_dir_release(folder: Path) -> None:
    """This process lets go of the folder (a background job now owns it)."""
    handle = _held.pop(str(folder), None)
    if handle is not None:
        handle.close()


def work_dir_remove(folder: Path) -> None:
    work_dir_release(folder)
    shutil.rmtree(folder, ignore_errors=True)


def work_dirs_sweep() -> int:
    """Remove import folders that nobody holds: no live process has their flock and no
    unfinished job reads them. Returns how many went."""
    root = imports_root()
    candidates = [p for p in root.iterdir() if p.name.startswith("import-") and p.is_dir()]
    if not candidates:
        return 0
    unfinished = set(
        ImportJob.objects.filter(
            status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
        ).values_list("work_dir", flat=True)
    )
    now = time.time()
    removed = 0
    for folder in candidates:
        if str(folder) in unfinished or str(folder) in _held:
            continue
        try:
            if now - folder.stat().st_mtime < WORK_DIR_GRACE:
                continue
            with open(folder / _OWNER, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live request is spooling into it
        except FileNotFoundError:
            pass  # gone already, or a folder from before owners were recorded
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _limit_error(name: str):
    limit = settings.LABELHUB_MAX_IMPORT_SIZE
    return ApiError(f"{name} is larger than the import limit of {limit} bytes.", status_code=413)


def spool_stream(
    stream, target: Path, name: str, *, declared: int | None = None, kind: str | None = None
) -> ImportFile:
    """Copy a stream to disk in 1 MB chunks, refusing more than the import limit."""
    limit = settings.LABELHUB_MAX_IMPORT_SIZE
    if declared is not None and declared > limit:
        raise _limit_error(name)
    written = 0
    with open(target, "wb") as out:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > limit:
                raise _limit_error(name)
            out.write(chunk)
    return ImportFile(target, name, kind)


def spool_upload(upload, folder: Path, index: int) -> ImportFile:
    """An uploaded file, moved (when Django already put it on disk) or copied to folder."""
    if upload.size > settings.LABELHUB_MAX_IMPORT_SIZE:
        raise _limit_error(upload.name)
    name = os.path.basename(upload.name or f"upload-{index}")
    target = folder / f"{index:04d}-upload"
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:
        shutil.move(temporary(), target)
        return ImportFile(target, name)
    with open(target, "wb") as out:
        for chunk in upload.chunks(CHUNK):
            out.write(chunk)
    return ImportFile(target, name)
