"""Local files: a folder on the server, under ``LABELHUB_LOCAL_FILES_ROOT`` and never
outside it.

The storage's ``path`` must be an absolute folder that, with every symlink resolved, lies
inside the root (no root set: the kind is off). Listing walks the folder without
following symlinked folders, and skips a file whose resolved path leaves the root; a
read resolves the key the same way before it opens anything. Targets write
``<path>/<prefix>/<name>`` with ``O_NOFOLLOW``, so a symlink planted at an object's
name cannot redirect the write.

Task data points at ``/data/local-files/?d=<path relative to the root>``, Label Studio's
form, which ``importers.localfiles`` serves to project members.
"""

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

from io_storages.backend import Backend as BaseBackend
from io_storages.backend import Field, ObjectInfo, StorageError

TITLE = "Local files"
FIELDS = [
    Field("path", required=True, label="Absolute local path"),
]
URL_PREFIX = "/data/local-files/?d="


def root() -> Path | None:
    value = settings.LABELHUB_LOCAL_FILES_ROOT
    return Path(value).expanduser().resolve() if value else None


class Backend(BaseBackend):
    scheme = "localfiles"
    container_field = "path"

    def __init__(self, storage) -> None:
        super().__init__(storage)
        base = root()
        if base is None:
            raise StorageError(
                "Local files storage is off: the server has no LABELHUB_LOCAL_FILES_ROOT.", "path"
            )
        raw = str(storage.option("path", "") or "")
        if not raw or "\x00" in raw or not os.path.isabs(raw):
            raise StorageError("path must be an absolute folder path", "path")
        folder = Path(raw).resolve()
        if not folder.is_relative_to(base):
            raise StorageError(
                f"path must be inside LABELHUB_LOCAL_FILES_ROOT ({base}), symlinks resolved",
                "path",
            )
        self.root = base
        self.folder = folder

    # Keys are paths relative to the storage folder.
    def _file(self, key: str) -> Path:
        if not key or "\x00" in key:
            raise StorageError(f"{key!r} is not a file of this storage")
        candidate = (self.folder / key.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.folder) or not candidate.is_relative_to(self.root):
            raise StorageError(f"{key!r} is outside the storage's folder")
        return candidate

    def uri(self, key: str) -> str:
        relative = (self.folder / key).relative_to(self.root).as_posix()
        return URL_PREFIX + quote(relative, safe="/")

    def key_for_uri(self, uri: str) -> str | None:
        return None  # served by /data/local-files/, not by the resolve proxy

    def check(self, *, source: bool) -> None:
        if not self.folder.is_dir():
            raise StorageError(f"{self.folder} is not an existing folder", "path")
        if not os.access(self.folder, os.R_OK if source else os.W_OK):
            raise StorageError(f"{self.folder} cannot be {'read' if source else 'written'}", "path")

    def iter_objects(self, *, recursive: bool) -> Iterator[ObjectInfo]:
        start = self.folder / self.prefix.strip("/") if self.prefix.strip("/") else self.folder
        start = start.resolve()
        if not start.is_relative_to(self.folder) or not start.is_dir():
            return
        for current, folders, files in os.walk(start, followlinks=False):
            folders.sort()
            if not recursive:
                folders.clear()
            for name in sorted(files):
                path = Path(current) / name
                resolved = path.resolve()
                if not resolved.is_relative_to(self.root) or not resolved.is_file():
                    continue  # a symlink out of the root, or a dangling one
                stat = resolved.stat()
                yield ObjectInfo(
                    path.relative_to(self.folder).as_posix(),
                    datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                    stat.st_size,
                )

    def read(self, key: str) -> bytes:
        path = self._file(key)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise StorageError(f"{key}: {exc.strerror}") from None

    def write(self, key: str, body: bytes) -> None:
        path = (self.folder / key).resolve().parent / Path(key).name
        if not path.parent.is_relative_to(self.folder):
            raise StorageError(f"{key!r} is outside the storage's folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            descriptor = os.open(path, flags, 0o644)
            with os.fdopen(descriptor, "wb") as out:
                out.write(body)
        except OSError as exc:
            raise StorageError(f"{key}: {exc.strerror}") from None

    def delete(self, key: str) -> None:
        path = (self.folder / key).resolve().parent / Path(key).name
        if not path.parent.is_relative_to(self.folder):
            return
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"{key}: {exc.strerror}") from None
