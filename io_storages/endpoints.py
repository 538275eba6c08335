"""The SSRF rule for storage endpoints (an S3 endpoint URL, a Redis host).

The rule is the core one (``labelhub.ssrf``: every address the name resolves to must be
public, with the IPv4 inside IPv4-mapped, 6to4, Teredo and NAT64 forms vetted as IPv4, so
``http://[64:ff9b::a9fe:a9fe]/`` is the metadata address and ``http://[2002:7f00:1::1]/``
is loopback). It runs when a storage is saved or validated, and again each time a
backend is built for a sync, a target write or a presign, so an endpoint whose name
later resolves to a private address is refused at its next use.

Hosts that are not public (an emulator on loopback, a MinIO on the LAN) are allowed by
``LABELHUB_STORAGE_ALLOWED_HOSTS`` (names, addresses or CIDR networks). The older
``LABELHUB_SSRF_ALLOWED_HOSTS``, which S3 storages followed before, is honoured too, so
a deployment that listed its MinIO there keeps working.
"""

from urllib.parse import urlsplit

from django.conf import settings

from io_storages.backend import StorageError
from labelhub import ssrf

SETTING = "LABELHUB_STORAGE_ALLOWED_HOSTS"


class EndpointRefused(StorageError):
    pass


def allowed_hosts() -> list[str]:
    return [*settings.LABELHUB_STORAGE_ALLOWED_HOSTS, *settings.LABELHUB_SSRF_ALLOWED_HOSTS]


def host_vet(host: str, port: int, *, field: str) -> str:
    """The vetted address to connect to for ``host``, or EndpointRefused naming ``field``."""

    def refuse(_url: str, why: str) -> Exception:
        return EndpointRefused(f"{field}: {why}", field)

    return ssrf.vet(
        f"{host}:{port}",
        host,
        port,
        allowed=allowed_hosts(),
        refuse=refuse,
        allow_setting=SETTING,
    )


def url_vet(url: str, *, field: str) -> None:
    """An endpoint URL must be http(s) to a host the rule allows."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise EndpointRefused(f"{field}: the port is not a number", field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused(f"{field} must be an http or https URL", field)
    if parts.username or parts.password:
        raise EndpointRefused(f"{field}: a URL with a user name or password is refused", field)
    host_vet(parts.hostname, port or (443 if parts.scheme == "https" else 80), field=field)
