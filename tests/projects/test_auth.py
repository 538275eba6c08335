import pytest
from django.test import Client

from tests.factories import TEXT_CONFIG

pytestmark = pytest.mark.django_db


def test_login_with_email_and_logout(owner):
    client = Client()
    page = client.get("/user/login/")
    assert page.status_code == 200 and b'name="email"' in page.content
    bad = client.post("/user/login/", {"email": owner.email, "password": "wrong"})
    assert bad.status_code == 200 and b"Wrong email or password" in bad.content
    ok = client.post("/user/login/", {"email": owner.email.upper(), "password": "pass-word-1"})
    assert ok.status_code == 302 and ok["Location"] == "/projects/"
    assert client.get("/api/current-user/whoami").json()["email"] == owner.email
    client.post("/user/logout/")
    assert client.get("/api/current-user/whoami").status_code in (401, 403)


def test_login_does_not_redirect_off_site(owner):
    response = Client().post(
        "/user/login/?next=https://evil.example/", {"email": owner.email, "password": "pass-word-1"}
    )
    assert response["Location"] == "/projects/"


def test_session_requests_need_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.post(
        "/user/login/",
        {"email": owner.email, "password": "pass-word-1", "csrfmiddlewaretoken": _csrf(client)},
    )
    body = {"title": "x", "label_config": TEXT_CONFIG}
    refused = client.post("/api/projects/", body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/projects/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def _csrf(client) -> str:
    client.get("/user/login/")
    return client.cookies["csrftoken"].value


def test_token_requests_need_no_csrf(client_for, owner):
    response = client_for(owner).post(
        "/api/projects/", {"title": "t", "label_config": TEXT_CONFIG}, format="json"
    )
    assert response.status_code == 201


def test_bad_token_is_401(client):
    response = client.get("/api/projects/", HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401
