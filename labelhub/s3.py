"""The one place that builds boto3 clients for a storage row (S3 source storage in
importers, S3 target storage in exporters), so a rule about credentials or endpoints
applies to both. It sits in ``labelhub`` because importers and exporters may not import
each other.

``storage`` is any row with ``s3_endpoint``, ``region_name``, ``aws_access_key_id``,
``aws_secret_access_key`` and ``aws_session_token``.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from django.conf import settings

from labelhub.errors import ApiError

MISSING_KEYS = (
    "This storage has no AWS credentials: set aws_access_key_id and aws_secret_access_key. "
    "(The server's own credentials are used only when LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS "
    "is on.)"
)


def client_for(storage):
    """A boto3 client with the storage's own keys, for source and target storages alike.

    Without keys boto3 would fall back to the server's credentials (environment,
    ~/.aws, the instance role) and sign any bucket with them for any project admin, so
    that fallback needs ``LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS``; else a missing key is
    a 400 that says so.
    """
    if not (storage.aws_access_key_id and storage.aws_secret_access_key):
        if not settings.LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS:
            raise ApiError(
                MISSING_KEYS,
                [
                    {"field": name, "message": "required"}
                    for name in ("aws_access_key_id", "aws_secret_access_key")
                    if not getattr(storage, name)
                ],
            )
    return boto3.client(
        "s3",
        endpoint_url=storage.s3_endpoint or None,
        region_name=storage.region_name or None,
        aws_access_key_id=storage.aws_access_key_id or None,
        aws_secret_access_key=storage.aws_secret_access_key or None,
        aws_session_token=storage.aws_session_token or None,
        config=Config(
            signature_version="s3v4",
            retries={"max_attempts": 3},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def endpoint_check(endpoint: str, *, field: str = "s3_endpoint") -> None:
    """An endpoint must be http(s) to a public address (or a host/network listed in
    LABELHUB_SSRF_ALLOWED_HOSTS), the rule url= imports and S3 source storage follow
    (importers.ssrf, which exporters may not import)."""
    if not endpoint:
        return
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(
            f"{field} must be an http or https URL", [{"field": field, "message": "bad URL"}]
        )
    host = parts.hostname
    allowed = [
        entry.strip().lower() for entry in settings.LABELHUB_SSRF_ALLOWED_HOSTS if entry.strip()
    ]
    if host.lower().rstrip(".") in allowed:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ApiError(
            f"{field}: {host} does not resolve", [{"field": field, "message": str(exc)}]
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address.is_global and not address.is_multicast:
            continue
        if any(_in_network(address, entry) for entry in allowed):
            continue
        raise ApiError(
            f"{field}: {host} resolves to {address}, a non-public address; an admin can allow "
            "it in LABELHUB_SSRF_ALLOWED_HOSTS",
            [{"field": field, "message": "non-public address"}],
        )


def _in_network(address, entry: str) -> bool:
    try:
        return address in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
