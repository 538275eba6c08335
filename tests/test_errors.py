"""A lost database is a 503 the client may retry, not a 500 (issue #12, faults)."""

from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from labelhub.errors import json_500


def _answer(exc: Exception):
    try:
        raise exc
    except Exception:
        return json_500(RequestFactory().get("/api/projects/"))


def test_lost_database_is_a_503_with_retry_after():
    for exc in (OperationalError("server closed the connection"), InterfaceError("closed")):
        response = _answer(exc)
        assert response.status_code == 503 and response["Retry-After"] == "2"


def test_other_errors_stay_500():
    assert _answer(ValueError("bug")).status_code == 500
