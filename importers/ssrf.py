"""Fetch a URL for a ``url=`` import without letting it reach the server's own network.

On by default. The host name is resolved here, every address it resolves to must be
public (not loopback, private, shared, link-local - the cloud metadata address among
them -, multicast, reserved or unspecified, IPv4-mapped forms included), and the
connection is then made to that vetted address, with the original name used for the
``Host`` header and for TLS (SNI and certificate check). A second lookup never happens,
so DNS rebinding cannot swap the address between the check and the connect. Redirects
are followed by hand (at most 5) and each new location is vetted the same way. The
body is streamed to disk with a size limit and an overall deadline.

``LABELHUB_SSRF_ALLOWED_HOSTS`` lists host names, addresses or networks (CIDR) an admin
allows even when they are not public.
"""

import ipaddress
import mimetypes
import socket
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from django.conf import settings

from labelhub.errors import ApiError

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


def _allowed(host: str, address: ipaddress._BaseAddress | None = None) -> bool:
    for entry in settings.LABELHUB_SSRF_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        if address is None:
            if entry == host.lower().rstrip("."):
                return True
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def is_public(address: ipaddress._BaseAddress) -> bool:
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (the one lookup a fetch makes per hop)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def vet(url: str, host: str, port: int) -> str:
    """The address to connect to, or a 400 saying why the host is refused."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    try:
        addresses = [str(literal)] if literal else resolve(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise _refuse(url, f"the host name {host} does not resolve ({exc})") from None
    if not addresses:
        raise _refuse(url, f"the host name {host} does not resolve")
    host_allowed = literal is None and _allowed(host)
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if host_allowed or is_public(address) or _allowed(host, address):
            continue
        raise _refuse(
            url,
            f"{host} resolves to {address}, a loopback, private, link-local or otherwise "
            "non-public address; an admin can allow it in LABELHUB_SSRF_ALLOWED_HOSTS",
        )
    return addresses[0]


def _pool(scheme: str, address: str, port: int, host: str, timeout: urllib3.Timeout):
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)


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
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" + (f":{parts.port}" if parts.port else "")
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
