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
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

from labelhub import ssrf as guard
from labelhub.errors import ApiError
from labelhub.ssrf import is_public, resolve  # noqa: F401 - re-exported for callers and tests

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
    """Download ``url`` to ``target``; return a file name for it (see ``file_name``).
    One bounded call (``labelhub.ssrf.call``): ``LABELHUB_IMPORT_URL_TIMEOUT`` for the
    whole download, redirects included, and at most ``LABELHUB_IMPORT_URL_MAX_SIZE``."""
    limit = settings.LABELHUB_IMPORT_URL_MAX_SIZE
    with open(target, "wb") as out:
        try:
            answer = guard.call(
                url,
                headers={"User-Agent": "LabelHub-importer", "Accept": "*/*"},
                allowed=settings.LABELHUB_SSRF_ALLOWED_HOSTS,
                refuse=lambda _url, why: _refuse(url, why),
                allow_setting="LABELHUB_SSRF_ALLOWED_HOSTS",
                seconds=settings.LABELHUB_IMPORT_URL_TIMEOUT,
                max_bytes=limit,
                redirects=MAX_REDIRECTS,
                sink=out.write,
                resolver=lambda name, number: resolve(name, number),  # looked up at call time
            )
        except guard.CallError as exc:
            if exc.kind == "too_large":
                raise _refuse(
                    url, f"the file is larger than the limit of {limit} bytes", 413
                ) from None
            if exc.kind == "timeout":
                raise _refuse(url, "the download timed out") from None
            raise _refuse(url, f"the server {exc}") from None
    if answer.status >= 400:
        raise _refuse(url, f"the server answered HTTP {answer.status}")
    if answer.status in (301, 302, 303, 307, 308):
        raise _refuse(url, f"more than {MAX_REDIRECTS} redirects")
    return file_name(answer.url, answer.headers.get("Content-Type", ""))
