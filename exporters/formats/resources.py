"""Media for ``download_resources``: read only through the media storage, never a path.

A task's data may point anywhere. Only ``/data/upload/<this project>/<name>`` (what
LabelHub's uploads write) is read, by key through Django's default storage (the data
folder or the S3 bucket). Everything else (``..`` or encoded escapes, ``file://``,
absolute paths, http(s) URLs including private addresses, another project's files) is
skipped and named in the archive's notes; nothing outside the storage is ever opened.
This is the class of bug Label Studio fixed as CVE-2025-25295.
"""

import posixpath
import re
from urllib.parse import unquote, urlsplit

from django.core.files.storage import default_storage

_UPLOAD = re.compile(r"^/data/upload/(\d+)/([^/\\]+)$")
MAX_NOTES = 1000


class Notes:
    """Warnings for the archive's notes, capped so memory stays flat."""

    def __init__(self) -> None:
        self.warnings: list[dict] = []
        self.skipped = 0

    def add(self, task_id, message: str) -> None:
        self.skipped += 1
        if len(self.warnings) < MAX_NOTES:
            self.warnings.append({"task": task_id, "warning": message})

    def as_dict(self) -> dict:
        return {"warnings": self.warnings, "skipped": self.skipped}


def storage_key(project_id: int, url) -> tuple[str | None, str]:
    """``(key, "")`` for a file this export may read, else ``(None, why)``."""
    if not isinstance(url, str) or not url:
        return None, "no file reference"
    parts = urlsplit(url)
    if parts.scheme == "file":
        return None, f"{url!r}: file:// URLs are never read"
    if parts.scheme or parts.netloc:
        return None, f"{url!r}: only files in this server's media storage are exported"
    path = unquote(parts.path)
    if "\x00" in path or "\\" in path or ".." in path.split("/"):
        return None, f"{url!r}: path escapes the media storage"
    if posixpath.normpath(path) != path:
        return None, f"{url!r}: path is not normalised"
    match = _UPLOAD.match(path)
    if not match:
        return None, f"{url!r}: not an uploaded file of this project"
    if int(match.group(1)) != project_id:
        return None, f"{url!r}: belongs to another project"
    name = match.group(2)
    if name.startswith("."):
        return None, f"{url!r}: hidden file name"
    return f"upload/{project_id}/{name}", ""


def read_media(project_id: int, url, *, task_id, notes: Notes) -> tuple[str, bytes] | None:
    """``(basename, bytes)`` of an uploaded media file, or None with a note."""
    key, why = storage_key(project_id, url)
    if key is None:
        notes.add(task_id, f"skipped {why}")
        return None
    try:
        with default_storage.open(key, "rb") as handle:
            return posixpath.basename(key), handle.read()
    except (OSError, ValueError) as exc:
        notes.add(task_id, f"skipped {url!r}: {exc.__class__.__name__}")
        return None


def basename_of(url) -> str:
    """The file name a label or image entry takes from a data URL, as the converter does."""
    if not isinstance(url, str):
        return str(url)
    path = unquote(urlsplit(url).path) if "://" in url else url
    return posixpath.basename(path.split("?", 1)[0]) or "image"
