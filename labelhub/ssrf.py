"""The SSRF guard shared by every outbound call the server makes on a user's behalf
(``url=`` imports, S3 endpoints, ML backends).

The host name is resolved here, every address it resolves to must be public (not
loopback, private, shared, link-local - the cloud metadata address among them -,
multicast, reserved or unspecified, IPv4-mapped forms included), and the connection is
then made to that vetted address, with the original name used for the ``Host`` header
and for TLS (SNI and certificate check). A second lookup never happens, so DNS
rebinding cannot swap the address between the check and the connect.

``call`` is the one outbound request: the rule above, one deadline for the whole call
(enforced by a watchdog that shuts the socket, so a server that drips bytes cannot
stretch it) and a cap on the bytes read.

Each caller passes its own allow-list (host names, addresses or CIDR networks an admin
allows even when they are not public) and its own way to word a refusal.
"""

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3

Refuse = Callable[[str, str], Exception]


def host_allowed(allowed: Iterable[str], host: str, address=None) -> bool:
    """True when ``host`` (by name) or ``address`` (by network) is on the allow-list."""
    for entry in allowed:
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


# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the last 32 bits are the
# IPv4 address a NAT64 gateway connects to, so that address is the one to vet.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def is_public(address: ipaddress._BaseAddress) -> bool:
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and any(address in net for net in NAT64):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (the one lookup a connection makes)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def vet(
    url: str,
    host: str,
    port: int,
    *,
    allowed: Iterable[str],
    refuse: Refuse,
    allow_setting: str,
    resolver: Callable[[str, int], list[str]] = resolve,
) -> str:
    """The address to connect to, or ``refuse(url, why)`` raised naming the setting
    (``allow_setting``) that would allow a non-public host."""
    allowed = list(allowed)
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    try:
        addresses = [str(literal)] if literal else resolver(host, port)
    except (socket.gaierror, UnicodeError):
        raise refuse(url, f"the host name {host} does not resolve") from None
    if not addresses:
        raise refuse(url, f"the host name {host} does not resolve")
    by_name = literal is None and host_allowed(allowed, host)
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if by_name or is_public(address) or host_allowed(allowed, host, address):
            continue
        # The address itself is not echoed: it would tell an outsider how internal
        # names resolve.
        raise refuse(
            url,
            f"{host} is not a public address (loopback, private, link-local or otherwise "
            f"non-public); an admin can allow it in {allow_setting}",
        )
    return addresses[0]


def pool(scheme: str, address: str, port: int, host: str, timeout: urllib3.Timeout):
    """A one-connection pool to the vetted ``address``, checking TLS against ``host``."""
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


def host_header(host: str, port: int | None) -> str:
    if ":" in host and not host.startswith("["):
        return f"[{host}]" + (f":{port}" if port else "")
    return host if port is None else f"{host}:{port}"


# --------------------------------------------------------------------------------------
# One bounded call: every outbound HTTP request the server makes for a user (ML backends,
# url= imports, export media) goes through ``call`` (issue #24 row 7).


class CallError(Exception):
    """A call that failed on the way: ``kind`` is "unreachable", "timeout" or
    "too_large"; each caller words it (and picks its status) in its own terms."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes  # empty when a ``sink`` took the body
    url: str  # the URL that answered (after redirects)


class _Watchdog:
    """Shuts the call's sockets down when its total time is up. Socket timeouts bound
    each receive, not the whole: a server that sends a byte a second (its headers
    included, which urllib3 reads before any loop of ours) never trips one. A blocked
    receive on a shut-down socket returns at once, so the deadline holds whatever the
    server does."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.connections: list = []
        self.fired = False
        self.timer = threading.Timer(max(seconds, 0.0), self.fire)
        self.timer.daemon = True
        self.timer.start()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def fire(self) -> None:
        self.fired = True
        for conn in list(self.connections):
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def watch(self, connection_pool) -> None:
        base = connection_pool.ConnectionCls
        watchdog = self

        class Watched(base):  # type: ignore[misc, valid-type]
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                watchdog.connections.append(self)

        connection_pool.ConnectionCls = Watched

    def cancel(self) -> None:
        self.timer.cancel()


def call(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict | None = None,
    allowed: Iterable[str],
    refuse: Refuse,
    allow_setting: str,
    seconds: float,
    max_bytes: int,
    redirects: int = 0,
    sink: Callable[[bytes], None] | None = None,
    resolver: Callable[[str, int], list[str]] | None = None,
) -> Answer:
    """``method url`` through the SSRF rule, within ``seconds`` in all (connect, send,
    headers, body, every redirect) and reading at most ``max_bytes`` of the answer.

    Redirects (at most ``redirects``) are followed by hand, each new host vetted again;
    with ``redirects=0`` a 3xx is returned as it is. The body goes to ``sink`` piece by
    piece when given (a file), else it is returned. Refusals are ``refuse(url, why)``;
    failures on the way are ``CallError``. URLs with credentials are refused.
    """
    watchdog = _Watchdog(seconds)
    current = url
    try:
        for _hop in range(redirects + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise refuse(url, "only http and https URLs are allowed")
            if parts.username or parts.password:
                raise refuse(url, "URLs with a user name or password are not allowed")
            host = parts.hostname
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                raise refuse(url, "the port is not a number from 1 to 65535") from None
            address = vet(
                current,
                host,
                port,
                allowed=allowed,
                refuse=refuse,
                allow_setting=allow_setting,
                **({"resolver": resolver} if resolver else {}),
            )
            remaining = watchdog.remaining()
            if remaining <= 0:
                raise CallError("timeout", f"no answer within {seconds:g} s")
            connection_pool = pool(
                parts.scheme,
                address,
                port,
                host,
                urllib3.Timeout(connect=min(10.0, remaining), read=remaining),
            )
            watchdog.watch(connection_pool)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            sent = {**(headers or {}), "Host": host_header(host, parts.port)}
            try:
                response = connection_pool.urlopen(
                    method,
                    path,
                    body=body,
                    headers=sent,
                    redirect=False,
                    preload_content=False,
                    retries=False,
                )
                try:
                    location = response.headers.get("Location")
                    if redirects and response.status in (301, 302, 303, 307, 308) and location:
                        current = urljoin(current, location)
                        if response.status == 303 or (
                            response.status in (301, 302) and method == "POST"
                        ):
                            method, body = "GET", None
                        continue
                    declared = int(response.headers.get("Content-Length") or 0)
                    if declared > max_bytes:
                        raise CallError("too_large", f"the answer is larger than {max_bytes} bytes")
                    kept = bytearray()
                    read = 0
                    # read1: at most one receive per piece, so the checks run often.
                    while chunk := response.read1(1 << 16):
                        read += len(chunk)
                        if read > max_bytes:
                            raise CallError(
                                "too_large", f"the answer is larger than {max_bytes} bytes"
                            )
                        if watchdog.remaining() <= 0:
                            raise CallError("timeout", f"no full answer within {seconds:g} s")
                        if sink is not None:
                            sink(chunk)
                        else:
                            kept += chunk
                    return Answer(response.status, dict(response.headers), bytes(kept), current)
                finally:
                    response.release_conn()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if (
                    watchdog.fired
                    or isinstance(
                        exc, urllib3.exceptions.TimeoutError | urllib3.exceptions.ReadTimeoutError
                    )
                    and not isinstance(exc, urllib3.exceptions.NewConnectionError)
                ):
                    raise CallError("timeout", f"no full answer within {seconds:g} s") from None
                raise CallError(
                    "unreachable", f"could not be reached ({type(exc).__name__})"
                ) from None
            finally:
                connection_pool.close()
        raise refuse(url, f"more than {redirects} redirects")
    finally:
        watchdog.cancel()
