"""One JSON error shape for the whole API: ``{"detail": ..., "errors": [...]}``.

``errors`` is present when there is more than one thing wrong; each item names where
(``record``, ``field``, ``result_id``) and why (``message``).
"""

import sys
import uuid
from typing import Any

from django import db
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

# ApiError lives in labelhub.exceptions, which does not import rest_framework.views (the
# API's JSON parser raises it, and DRF's views import the parsers).
from labelhub.exceptions import MAX_ERRORS, ApiError

__all__ = [
    "MAX_ERRORS",
    "ApiError",
    "LabelStudioErrors",
    "label_studio_error",
    "exception_handler",
    "json_403",
    "json_404",
    "json_500",
    "wants_html",
]


def wants_html(request) -> bool:
    """A browser asking for a page: not under /api/, and HTML in its Accept header.
    Scripts (no Accept, or JSON) and every API path keep the JSON errors."""
    if request is None or request.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("Accept", "")


def _flatten(data: Any, prefix: str = "") -> list[dict]:
    """Turn DRF's nested ``{field: [msg]}`` into ``[{"field", "message"}]``."""
    out: list[dict] = []
    if isinstance(data, dict):
        for key, value in data.items():
            field = key if not prefix else f"{prefix}.{key}"
            if key == "non_field_errors":
                field = prefix
            out.extend(_flatten(value, field))
    elif isinstance(data, list):
        if all(not isinstance(item, (dict, list)) for item in data):
            out.extend({"field": prefix or None, "message": str(item)} for item in data)
        else:
            for index, item in enumerate(data):
                out.extend(_flatten(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
    else:
        out.append({"field": prefix or None, "message": str(data)})
    return out


def _describe(error: dict) -> str:
    return f"{error['field']}: {error['message']}" if error.get("field") else error["message"]


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        body: dict = {"detail": str(exc.detail)}
        if exc.errors:
            body["errors"] = exc.errors
        if exc.validation_errors:
            body["validation_errors"] = exc.validation_errors
    elif isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        body = {"detail": _describe(errors[0]) if len(errors) == 1 else "Invalid input."}
        if len(errors) > 1:
            body["errors"] = errors[:MAX_ERRORS]
        elif errors and errors[0].get("field"):
            body["errors"] = errors
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
        body = {"detail": str(detail)}
    response.data = body
    return response


def label_studio_error(body: dict, status_code: int) -> dict:
    """``body`` (our shape) in Label Studio's error shape (its ``custom_exception_handler``):
    ``id`` (one per answer), ``status_code``, ``detail``, ``exc_info`` (null) and, for a
    400, ``detail: "Validation error"`` with the reasons in ``validation_errors``
    (``{field: [message, ...]}``, ``non_field_errors`` for what names no field). Our
    ``errors`` list stays beside them, and so does the reason: in ``validation_errors``
    and ``errors``."""
    out = {"id": str(uuid.uuid4()), "status_code": status_code, **body, "exc_info": None}
    if status_code == 400:
        grouped: dict[str, list[str]] = {}
        for error in body.get("errors") or []:
            grouped.setdefault(error.get("field") or "non_field_errors", []).append(
                str(error.get("message", ""))
            )
        out["validation_errors"] = (
            body.get("validation_errors")
            or grouped
            or {"non_field_errors": [str(body.get("detail", ""))]}
        )
        out["detail"] = "Validation error"
    return out


class LabelStudioErrors:
    """A DRF view mixin: the view's error answers take Label Studio's shape
    (``label_studio_error``). Used by the storage and webhook APIs, whose clients (Label
    Studio's frontend, the SDK, its tavern files) read ``validation_errors``."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)  # type: ignore[misc]
        if response.status_code >= 400 and isinstance(response.data, dict):
            response.data = label_studio_error(response.data, response.status_code)
        return response


def json_403(request, exception=None):
    return JsonResponse({"detail": "You do not have permission to do this."}, status=403)


def json_404(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def json_500(request):
    """Django's handler500, called inside the ``except`` that caught the error. A lost
    database (PostgreSQL restarting, a dropped connection) is a 503 the client may retry:
    with ``CONN_HEALTH_CHECKS`` the next request opens a fresh connection."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (db.OperationalError, db.InterfaceError)):
        response = JsonResponse(
            {"detail": "The database is unavailable for a moment; try again."}, status=503
        )
        response["Retry-After"] = "2"
        return response
    return JsonResponse({"detail": "Server error."}, status=500)
