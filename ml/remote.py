"""A client for Label Studio ML backends (the label-studio-ml-backend protocol).

``GET /health``, ``POST /setup``, ``POST /predict`` and ``POST /webhook``, each with
the shapes label-studio-ml speaks. Every call goes through the SSRF guard
(``labelhub.ssrf.call``): the backend's host must resolve to public addresses unless it is on
``LABELHUB_ML_ALLOWED_HOSTS`` (most backends run beside the server, on localhost or a
private network). The connection is pinned to the vetted address. Optional basic auth,
a per-backend timeout that bounds the whole call (a backend that drips its answer a
byte a second is cut off at it), at most ``LABELHUB_ML_MAX_RESPONSE_BYTES`` of an
answer read, and ``extra_params`` sent along with setup and predict.

Errors are ``BackendError`` with the HTTP status an API answers with: 400 for a URL
that is refused, 502 for a backend that is unreachable or answers an error or garbage,
504 for one that does not answer in time.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

import orjson
from django.conf import settings

from labelhub import ssrf

# The Label Studio version this server speaks for, as backends may check it.
USER_AGENT = "LabelHub-ML"


class BackendError(Exception):
    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


def _refuse(url: str, why: str) -> BackendError:
    return BackendError(f"The ML backend URL {url} is refused: {why}", 400)


def check_url(url: str) -> str:
    """The URL, cleaned, or BackendError(400) naming what is wrong with it."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendError(f"The ML backend URL {url!r} must be an http or https URL", 400)
    if parts.username or parts.password:
        raise BackendError(
            "Put basic auth in basic_auth_user and basic_auth_pass, not the URL", 400
        )
    return url


def request(
    backend,
    method: str,
    path: str,
    payload: dict | None = None,
    *,
    timeout: float | None = None,
):
    """One call to ``backend.url + path``; the decoded JSON answer."""
    url = check_url(backend.url)
    seconds = float(timeout if timeout is not None else backend.timeout)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if backend.auth_method == "BASIC_AUTH":
        token = f"{backend.basic_auth_user}:{backend.basic_auth_pass}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
    body = None
    if payload is not None:
        body = orjson.dumps(payload)
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    try:
        answer = ssrf.call(
            url + path,
            method=method,
            body=body,
            headers=headers,
            allowed=settings.LABELHUB_ML_ALLOWED_HOSTS,
            refuse=lambda _url, why: _refuse(url, why),
            allow_setting="LABELHUB_ML_ALLOWED_HOSTS",
            seconds=seconds,
            max_bytes=settings.LABELHUB_ML_MAX_RESPONSE_BYTES,
        )
    except ssrf.CallError as exc:
        if exc.kind == "timeout":
            raise BackendError(
                f"The ML backend at {url} did not answer {path} within {seconds:g} s", 504
            ) from None
        if exc.kind == "too_large":
            raise BackendError(
                f"The ML backend at {url} answered {path} with more than "
                f"{settings.LABELHUB_ML_MAX_RESPONSE_BYTES} bytes "
                "(LABELHUB_ML_MAX_RESPONSE_BYTES)",
                502,
            ) from None
        reason = "refused" if "NewConnectionError" in str(exc) else str(exc).split("(", 1)[-1]
        raise BackendError(
            f"The ML backend at {url} could not be reached ({reason.rstrip(')')})", 502
        ) from None
    if answer.status >= 400:
        text = answer.body[:300].decode("utf-8", "replace")
        raise BackendError(
            f"The ML backend at {url} answered {path} with HTTP {answer.status}: {text}", 502
        )
    try:
        return orjson.loads(answer.body or b"null")
    except orjson.JSONDecodeError:
        raise BackendError(
            f"The ML backend at {url} answered {path} with something that is not JSON "
            f"(after {time.monotonic() - started:.1f} s)",
            502,
        ) from None


def ls_project_id(project) -> str:
    """Label Studio's project key for backends: ``{id}.{created_at timestamp}``."""
    return f"{project.pk}.{int(project.created_at.timestamp())}"


def health(backend, *, timeout: float = 5.0) -> dict:
    answer = request(backend, "GET", "/health", timeout=timeout)
    if not isinstance(answer, dict) or str(answer.get("status", "")).upper() != "UP":
        raise BackendError(
            f"The ML backend at {backend.url} answered /health without status UP: "
            f"{str(answer)[:200]}",
            502,
        )
    return answer


def setup(backend, project, *, timeout: float = 10.0) -> dict:
    """``POST /setup``; returns the answer (``model_version`` among it)."""
    payload = {
        "project": ls_project_id(project),
        "schema": project.label_config,
        "hostname": settings.LABELHUB_HOSTNAME,
        "access_token": "",
        "model_version": backend.model_version or None,
        "extra_params": backend.extra_params or {},
        **(backend.extra_params or {}),
    }
    answer = request(backend, "POST", "/setup", payload, timeout=timeout)
    if not isinstance(answer, dict):
        raise BackendError(f"The ML backend at {backend.url} answered /setup with {answer!r}")
    return answer


def predict(backend, project, tasks: list[dict], *, timeout: float | None = None) -> list[dict]:
    """``POST /predict`` for task dicts; one prediction dict (or None) per task.

    Takes either answer shape: ``{"results": [...]}`` (label-studio-ml 1.x and 2.x) or a
    bare list. A prediction may be ``{"result": [...], "score", "model_version"}`` or a
    bare result list.
    """
    payload = {
        "tasks": tasks,
        "project": ls_project_id(project),
        "label_config": project.label_config,
        "model_version": backend.model_version or None,
        "params": {
            "login": None,
            "password": None,
            "context": None,
            **(backend.extra_params or {}),
        },
    }
    answer = request(backend, "POST", "/predict", payload, timeout=timeout)
    results = answer.get("results") if isinstance(answer, dict) else answer
    if not isinstance(results, list):
        raise BackendError(
            f"The ML backend at {backend.url} answered /predict without a list of results"
        )
    version = answer.get("model_version") if isinstance(answer, dict) else None
    out: list[dict | None] = []
    for item in results[: len(tasks)]:
        if isinstance(item, list):
            item = {"result": item}
        if not isinstance(item, dict) or not isinstance(item.get("result"), list):
            out.append(None)
            continue
        item.setdefault("model_version", version or backend.model_version)
        out.append(item)
    out.extend([None] * (len(tasks) - len(out)))
    return out


def webhook(backend, action: str, payload: dict, *, timeout: float | None = None):
    """``POST /webhook`` with ``{"action": ACTION, ...payload}``."""
    return request(backend, "POST", "/webhook", {"action": action, **payload}, timeout=timeout)
