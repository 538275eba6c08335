"""One webhook call: a signed JSON POST through the SSRF guard (``labelhub.ssrf``).

The receiver's host is vetted at each call (not only when the hook was saved: a name
can start resolving to an internal address later), and the connection goes to the
vetted address. Loopback and private receivers need ``LABELHUB_WEBHOOK_ALLOWED_HOSTS``.
Redirects are not followed. The whole call (connect, send, answer) has one wall-clock
limit, ``LABELHUB_WEBHOOK_TIMEOUT``, and at most ``LABELHUB_WEBHOOK_MAX_RESPONSE_BYTES`` of
the answer are read (it is only looked at for its status), so a slow or chatty receiver
holds a worker for a bounded time.

The signature (beyond Label Studio): ``X-LabelHub-Signature: t=<unix time>,v1=<hex>``
where ``hex`` is HMAC-SHA256 of ``"<t>." + body`` with the hook's secret. A receiver
recomputes it over the raw body and compares in constant time, and may refuse an old
``t`` to stop replays. ``X-LabelHub-Delivery`` is the same for each retry of one
delivery, so a receiver can drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from labelhub import ssrf

USER_AGENT = "LabelHub-Webhook"
SIGNATURE_HEADER = "X-LabelHub-Signature"
# Headers a hook's own ``headers`` may not set: the transport's and our signature's.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"}
)
RESERVED_PREFIX = "x-labelhub-"


class DeliveryError(Exception):
    """A failed call; ``retry`` says whether trying again later may help."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict
    secret: str


def _refuse(url: str, why: str) -> DeliveryError:
    return DeliveryError(f"The webhook URL {url} is refused: {why}", retry=False)


def url_vet(url: str) -> tuple[str, str, int]:
    """``(address, host, port)`` to connect to, or DeliveryError(retry=False) saying why
    the URL is refused (not http(s), credentials in it, a non-public host)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(url, "it must be an http or https URL")
    if parts.username or parts.password:
        raise _refuse(url, "put credentials in headers, not in the URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refuse(url, "the port is not a number from 1 to 65535") from None
    address = ssrf.vet(
        url,
        parts.hostname,
        port,
        allowed=settings.LABELHUB_WEBHOOK_ALLOWED_HOSTS,
        refuse=_refuse,
        allow_setting="LABELHUB_WEBHOOK_ALLOWED_HOSTS",
    )
    return address, parts.hostname, port


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def post(target: Target, body: bytes, *, action: str, delivery_id: str) -> int:
    """POST ``body`` to the hook; the HTTP status of a 2xx answer, else DeliveryError."""
    url = target.url
    address, host, port = url_vet(url)
    parts = urlsplit(url)
    limit = float(settings.LABELHUB_WEBHOOK_TIMEOUT)
    max_bytes = int(settings.LABELHUB_WEBHOOK_MAX_RESPONSE_BYTES)
    deadline = time.monotonic() + limit
    # ``total`` caps connect plus the wait for the answer's head; the loop below caps
    # the body; the Celery task's hard time limit (webhooks.tasks) is the backstop.
    pool = ssrf.pool(parts.scheme, address, port, host, urllib3.Timeout(total=limit))
    headers = {str(k): str(v) for k, v in (target.headers or {}).items()}
    headers.update(
        {
            "Host": ssrf.host_header(host, parts.port),
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "X-LabelHub-Event": action,
            "X-LabelHub-Delivery": delivery_id,
            SIGNATURE_HEADER: signature(target.secret, body, int(time.time())),
        }
    )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        response = pool.urlopen(
            "POST", path, body=body, headers=headers, redirect=False, preload_content=False
        )
        try:
            # Read (and drop) the answer in small pieces, against the one deadline and
            # the size limit: a receiver that drips bytes cannot hold the worker.
            # read1: at most one receive per piece, so a byte a second still meets the
            # deadline check.
            read = 0
            while chunk := response.read1(4096):
                read += len(chunk)
                if read > max_bytes:
                    break
                if time.monotonic() > deadline:
                    raise DeliveryError(
                        f"The webhook at {url} did not finish answering within {limit:g} s",
                        retry=True,
                    )
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError:
        raise DeliveryError(f"The webhook at {url} could not be reached", retry=True) from None
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError):
        raise DeliveryError(
            f"The webhook at {url} did not answer within {limit:g} s", retry=True
        ) from None
    except urllib3.exceptions.HTTPError as exc:
        raise DeliveryError(
            f"The webhook at {url} failed ({type(exc).__name__})", retry=True
        ) from None
    finally:
        pool.close()
    status = response.status
    if 200 <= status < 300:
        return status
    # 408, 429 and server errors may pass; any other answer will not change by itself.
    raise DeliveryError(
        f"The webhook at {url} answered HTTP {status}",
        retry=status in (408, 425, 429) or status >= 500,
    )
