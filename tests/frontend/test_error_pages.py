"""Error pages: a browser asking for HTML gets a page with a way back; the API and
scripts keep their JSON errors (handler403/404/500 in labelhub/urls.py)."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.test import RequestFactory

from frontend.views import error_403, error_500

pytestmark = pytest.mark.django_db

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_unknown_page_is_an_html_404_for_a_browser(client, owner):
    client.force_login(owner)
    response = client.get("/no/such/page/", HTTP_ACCEPT=HTML)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Not found" in body and 'href="/projects/"' in body and owner.email in body


def test_the_api_and_scripts_keep_json(client):
    for path, accept in (("/api/no-such-thing/", HTML), ("/no/such/page/", "*/*")):
        response = client.get(path, HTTP_ACCEPT=accept)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def _raised(handler, exc, path, accept):
    request = RequestFactory().get(path, HTTP_ACCEPT=accept)
    try:
        raise exc
    except Exception:
        return handler(request) if handler is error_500 else handler(request, exc)


def test_403_and_500_pages():
    page = _raised(error_403, PermissionDenied(), "/projects/1/settings", HTML)
    assert page.status_code == 403 and b"Not for your role" in page.content
    assert b'href="/projects/"' in page.content
    api_403 = _raised(error_403, PermissionDenied(), "/api/projects/", HTML)
    assert api_403.status_code == 403 and json.loads(api_403.content)["detail"]

    page = _raised(error_500, ValueError("bug"), "/projects/", HTML)
    assert page.status_code == 500 and b"Server error" in page.content
    assert b'href="/projects/"' in page.content
    lost = _raised(error_500, OperationalError("gone"), "/projects/", HTML)
    assert lost.status_code == 503 and lost["Retry-After"] == "2"
    api_500 = _raised(error_500, ValueError("bug"), "/api/projects/", HTML)
    assert json.loads(api_500.content) == {"detail": "Server error."}
