"""Media for ``download_resources`` (and the ``*_WITH_IMAGES`` formats): never a path.

A task's data may point anywhere. ``/data/upload/<this project>/<name>`` (what
LabelHub's uploads write) is read by key through Django's default storage (the data
folder or the S3 bucket). An ``http(s)`` URL is fetched only through the server's one
SSRF rule (``labelhub.ssrf``: every address the host resolves to must be public, unless
``LABELHUB_SSRF_ALLOWED_HOSTS`` allows it; the connection goes to the vetted address),
with no credentials, a size limit (``REMOTE_MAX_BYTES``), a deadline per file
(``REMOTE_TIMEOUT``) and at most ``REMOTE_REDIRECTS`` redirects, each vetted again.
Everything else (``..`` or encoded escapes, ``file://``, absolute paths, private
addresses, another project's files) is skipped and named in the archive's notes; nothing
outside the storage is ever opened. This is the class of bug Label Studio fixed as
CVE-2025-25295.
"""

import posixpath
import re
import time
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.files.storage import default_storage

from labelhub import ssrf

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


REMOTE_MAX_BYTES = 50 * 1024 * 1024
REMOTE_TIMEOUT = 30.0
REMOTE_REDIRECTS = 3


class Refused(Exception):
    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"{url!r}: {why}")


def _refused(url: str, why: str) -> Refused:
    return Refused(url, why)


def fetch_remote(url: str) -> bytes:
    """The body of a public http(s) URL, or ``Refused`` saying why not."""
    deadline = time.monotonic() + REMOTE_TIMEOUT
    current = url
    for _hop in range(REMOTE_REDIRECTS + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(url, "only http and https URLs are fetched")
        if parts.username or parts.password:
            raise Refused(url, "URLs with a user name or password are not fetched")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = ssrf.vet(
            current,
            parts.hostname,
            port,
            allowed=settings.LABELHUB_SSRF_ALLOWED_HOSTS,
            refuse=_refused,
            allow_setting="LABELHUB_SSRF_ALLOWED_HOSTS",
        )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Refused(url, "timed out")
        timeout = urllib3.Timeout(connect=min(10.0, remaining), read=remaining)
        pool = ssrf.pool(parts.scheme, address, port, parts.hostname, timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            response = pool.urlopen(
                "GET",
                path,
                headers={
                    "Host": ssrf.host_header(parts.hostname, parts.port),
                    "User-Agent": "LabelHub-exporter",
                },
                redirect=False,
                preload_content=False,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            pool.close()
            raise Refused(url, f"could not be reached ({type(exc).__name__})") from None
        try:
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                current = urljoin(current, response.headers["Location"])
                continue
            if response.status >= 400:
                raise Refused(url, f"the server answered HTTP {response.status}")
            if int(response.headers.get("Content-Length") or 0) > REMOTE_MAX_BYTES:
                raise Refused(url, f"larger than {REMOTE_MAX_BYTES} bytes")
            body = bytearray()
            for chunk in response.stream(1 << 16):
                body.extend(chunk)
                if len(body) > REMOTE_MAX_BYTES:
                    raise Refused(url, f"larger than {REMOTE_MAX_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise Refused(url, "timed out")
            return bytes(body)
        except urllib3.exceptions.HTTPError as exc:
            raise Refused(url, f"the download failed ({type(exc).__name__})") from None
        finally:
            response.release_conn()
            pool.close()
    raise Refused(url, f"more than {REMOTE_REDIRECTS} redirects")


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
    """``(basename, bytes)`` of an uploaded media file or a public http(s) URL, or None
    with a note."""
    if isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
        try:
            body = fetch_remote(url)
        except Refused as exc:
            notes.add(task_id, f"skipped {exc}")
            return None
        return basename_of(url), body
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
    """The file name a label or image entry takes from a data URL, as the converter does,
    made safe for an archive member: the part after the last ``/`` or ``\\``, without
    control characters (NUL, CR, LF); ``image`` when nothing is left or it is ``.``/``..``."""
    url = url if isinstance(url, str) else str(url)
    path = unquote(urlsplit(url).path) if "://" in url else url
    name = path.split("?", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return "image" if name in ("", ".", "..") else name
