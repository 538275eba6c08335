"""Fetch a URL for a ``url=`` import without letting it reach the server's own network.

On by default. The host name is resolved here, every address it resolves to must be
public (not loopback, private, shared, link-local - the cloud metadata address among
them -, multicast, reserved or unspecified, IPv4-mapped forms included), and the
connection is then made to that vetted address, with the original name used for the
``Host`` header and for TLS (SNI and certificate check). A second lookup never happens,
so DNS rebinding cannot swap the address between the check and the connect. Redirects
are followed by hand (at most 5) and each new location is vetted the same way. The
body is streamed to disk with a size limit and an overall deadline.

The address checks live in ``labelhub.ssrf`` (shared with the ML backends).
``LABELHUB_SSRF_ALLOWED_HOSTS`` lists host names, addresses or networks (CIDR) an admin
allows even when they are not public.
"""

import mimetypes
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from django.conf import settings

from labelhub import ssrf as guard
from labelhub.errors import ApiError
from labelhub.ssrf import is_public, resolve  # noqa: F401 - re-exported for callers and tests

_pool = guard.pool

MAX_REDIRECTS = 5
CHUNK = 1 << 16
_EXTENSIONS = {
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "text/plain": ".txt",
    "text/html": ".html",
    "application/zip": ".zip",
    "application/pdf": ".pdf",
}


def _refuse(url: str, why: str, status_code: int = 400) -> ApiError:
    return ApiError(
        f"Could not import {url}: {why}",
        [{"field": "url", "message": why}],
        status_code=status_code,
    )


def vet(url: str, host: str, port: int) -> str:
    """The address to connect to, or a 400 saying why the host is refused."""
    return guard.vet(
        url,
        host,
        port,
        allowed=settings.LABELHUB_SSRF_ALLOWED_HOSTS,
        refuse=_refuse,
        allow_setting="LABELHUB_SSRF_ALLOWED_HOSTS",
        resolver=lambda name, number: resolve(name, number),  # looked up at call time
    )


def file_name(url: str, content_type: str) -> str:
    """A name with an extension the importers understand: the URL's, else the type's."""
    base = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "download"
    if "." in base and len(base.rsplit(".", 1)[-1]) <= 5:
        return base
    mime = content_type.split(";", 1)[0].strip().lower()
    extension = _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ""
    return base + extension


def fetch(url: str, target: Path) -> str:
    """Download ``url`` to ``target``; return a file name for it (see ``file_name``)."""
    deadline = time.monotonic() + settings.LABELHUB_IMPORT_URL_TIMEOUT
    limit = settings.LABELHUB_IMPORT_URL_MAX_SIZE
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _refuse(url, "only http and https URLs can be imported")
        if parts.username or parts.password:
            raise _refuse(url, "URLs with a user name or password are not imported")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = vet(url, host, port)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _refuse(url, "the download timed out", 400)
        timeout = urllib3.Timeout(connect=min(10.0, remaining), read=remaining)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = guard.host_header(host, parts.port)
        pool = _pool(parts.scheme, address, port, host, timeout)
        try:
            response = pool.urlopen(
                "GET",
                path,
                headers={"Host": host_header, "User-Agent": "LabelHub-importer", "Accept": "*/*"},
                redirect=False,
                preload_content=False,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            pool.close()
            raise _refuse(url, f"the server could not be reached ({type(exc).__name__})") from None
        try:
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                current = urljoin(current, response.headers["Location"])
                continue
            if response.status >= 400:
                raise _refuse(url, f"the server answered HTTP {response.status}")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                raise _refuse(url, f"the file is larger than the limit of {limit} bytes", 413)
            written = 0
            with open(target, "wb") as out:
                for chunk in response.stream(CHUNK):
                    written += len(chunk)
                    if written > limit:
                        raise _refuse(
                            url, f"the file is larger than the limit of {limit} bytes", 413
                        )
                    if time.monotonic() > deadline:
                        raise _refuse(url, "the download timed out")
                    out.write(chunk)
            return file_name(current, response.headers.get("Content-Type", ""))
        except urllib3.exceptions.HTTPError as exc:
            raise _refuse(url, f"the download failed ({type(exc).__name__})") from None
        finally:
            response.release_conn()
            pool.close()
    raise _refuse(url, f"more than {MAX_REDIRECTS} redirects")
