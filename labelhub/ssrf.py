"""The SSRF guard shared by every outbound call the server makes on a user's behalf
(``url=`` imports, S3 endpoints, ML backends).

The host name is resolved here, every address it resolves to must be public (not
loopback, private, shared, link-local - the cloud metadata address among them -,
multicast, reserved or unspecified, IPv4-mapped forms included), and the connection is
then made to that vetted address, with the original name used for the ``Host`` header
and for TLS (SNI and certificate check). A second lookup never happens, so DNS
rebinding cannot swap the address between the check and the connect.

Each caller passes its own allow-list (host names, addresses or CIDR networks an admin
allows even when they are not public) and its own way to word a refusal.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterable

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
