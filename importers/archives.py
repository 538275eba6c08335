"""ZIP and RAR archives, unpacked with limits into the import's own folder.

Refused before anything is written: more members than ``LABELHUB_ARCHIVE_MAX_FILES``,
a declared total size above ``LABELHUB_ARCHIVE_MAX_SIZE``, a compression ratio above
``LABELHUB_ARCHIVE_MAX_RATIO`` (the whole archive or any member over 1 MB), and member
names that are absolute or contain ``..`` (or a drive letter, or a backslash path).
While unpacking, the bytes actually written are counted against the same limits, so an
archive that lies in its headers is stopped too. RAR is read with ``rarfile``, which runs
the Debian ``unar`` or ``bsdtar`` unpacker.
"""

import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import rarfile
from django.conf import settings

from importers.formats import file_error

CHUNK = 1 << 20
_SKIP = re.compile(r"(^|/)(__MACOSX|\.DS_Store|Thumbs\.db)(/|$)|(^|/)\._")


def limits() -> tuple[int, int, int]:
    return (
        settings.LABELHUB_ARCHIVE_MAX_FILES,
        settings.LABELHUB_ARCHIVE_MAX_SIZE,
        settings.LABELHUB_ARCHIVE_MAX_RATIO,
    )


def safe_member_name(archive: str, name: str) -> PurePosixPath:
    """The member's relative path, or a 400 if it could escape the extraction folder."""
    if "\\" in name or "\x00" in name or re.match(r"^[A-Za-z]:", name):
        raise file_error(archive, f'member "{name}" has an unsafe name')
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise file_error(archive, f'member "{name}" would be written outside the archive folder')
    return path


def _members(handle, archive: str) -> list[tuple[object, PurePosixPath, int, int]]:
    max_files, max_size, max_ratio = limits()
    infos = [info for info in handle.infolist() if not info.is_dir()]
    if len(infos) > max_files:
        raise file_error(archive, f"the archive has {len(infos)} files; the limit is {max_files}")
    total = packed = 0
    members = []
    for info in infos:
        name = info.filename
        path = safe_member_name(archive, name)
        size, compressed = int(info.file_size), int(info.compress_size or 0)
        total += size
        packed += compressed
        if size > 1 << 20 and size > max_ratio * max(compressed, 1):
            raise file_error(
                archive,
                f'member "{name}" expands {size // max(compressed, 1)}x, above the limit of '
                f"{max_ratio}x (an archive bomb?)",
            )
        if _SKIP.search(name):
            continue
        members.append((info, path, size, compressed))
    if total > max_size:
        raise file_error(
            archive, f"the archive expands to {total} bytes; the limit is {max_size} bytes"
        )
    if total > 1 << 20 and total > max_ratio * max(packed, 1):
        raise file_error(
            archive,
            f"the archive expands {total // max(packed, 1)}x, above the limit of {max_ratio}x "
            "(an archive bomb?)",
        )
    return members


def _copy(source, target: Path, archive: str, declared: int, budget: list[int]) -> None:
    written = 0
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > declared or budget[0] < 0:
                raise file_error(archive, "the archive holds more data than its headers declare")
            out.write(chunk)


def _open(path: Path, archive: str):
    kind = archive.lower().rsplit(".", 1)[-1]
    try:
        if kind == "zip":
            return zipfile.ZipFile(path)
        return rarfile.RarFile(path)
    except (zipfile.BadZipFile, rarfile.Error, OSError) as exc:
        raise file_error(archive, f"not a readable {kind.upper()} archive ({exc})") from None


def check(path: Path, archive: str) -> int:
    """Refuse a bomb or an unsafe member name from the headers alone; the member count."""
    with _open(path, archive) as handle:
        return len(_members(handle, archive))


def extract(path: Path, archive: str, into: Path) -> Iterator[tuple[Path, str]]:
    """Unpack ``path`` into the folder ``into``; yield (file on disk, display name)."""
    into.mkdir(parents=True, exist_ok=True)
    with _open(path, archive) as handle:
        members = _members(handle, archive)
        budget = [limits()[1]]
        for index, (info, relative, size, _packed) in enumerate(members):
            target = into / f"{index:06d}-{relative.name}"
            try:
                with handle.open(info) as source:
                    _copy(source, target, archive, size, budget)
            except (zipfile.BadZipFile, rarfile.Error, OSError, RuntimeError) as exc:
                raise file_error(archive, f'cannot unpack "{info.filename}" ({exc})') from None
            yield target, f"{archive}/{relative}"


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
