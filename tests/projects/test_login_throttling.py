"""Issue #12, findings 7 and 9: sign-in lockout (django-axes), throttled token checks,
logout by POST only, HttpOnly CSRF cookie, Secure cookies behind TLS."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post("/user/login/", {"email": email, "password": password})


def test_repeated_wrong_passwords_lock_the_user_out_from_that_address(owner):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(attacker, owner.email, "wrong").status_code == 200
    assert _login(attacker, owner.email, "wrong").status_code == 429  # the limit reached
    locked = _login(attacker, owner.email, "pass-word-1")  # the right password, too late
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert attacker.get("/api/current-user/whoami").status_code in (401, 403)
    # The same user from their own address is not locked out by a stranger.
    own = Client(REMOTE_ADDR="198.51.100.2")
    assert _login(own, owner.email, "pass-word-1").status_code == 302


def test_lockout_counts_the_email_case_insensitively(owner):
    attacker = Client(REMOTE_ADDR="203.0.113.8")
    for index in range(settings.AXES_FAILURE_LIMIT):
        email = owner.email.upper() if index % 2 else owner.email
        _login(attacker, email, "wrong")
    assert _login(attacker, owner.email, "pass-word-1").status_code == 429


def test_wrong_tokens_are_throttled_per_address(client_for, owner):
    from rest_framework.authtoken.models import Token

    good = Token.objects.get_or_create(user=owner)[0].key
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [
        guesser.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {i:040d}").status_code
        for i in range(30)
    ]
    assert statuses[0] == 401 and statuses[-1] == 429
    # Issue #24 row 4: a valid token is never throttled by failures (the guesser's
    # address may be a NAT shared with the token's owner).
    assert guesser.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200
    other = Client(REMOTE_ADDR="198.51.100.3")
    assert other.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200


def test_spoofed_forwarded_for_does_not_reset_the_token_throttle(owner):
    statuses = [
        Client(REMOTE_ADDR="203.0.113.10")
        .get(
            "/api/projects/",
            HTTP_AUTHORIZATION=f"Token {i:040d}",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        )
        .status_code
        for i in range(30)
    ]
    assert statuses[-1] == 429


def test_logout_is_post_only(owner):
    """A GET shows a page with the button (not a bare 405) and signs nobody out."""
    client = Client()
    client.force_login(owner)
    page = client.get("/user/logout/")
    assert page.status_code == 200 and b'action="/user/logout/"' in page.content
    assert client.get("/api/current-user/whoami").status_code == 200
    assert client.post("/user/logout/").status_code == 302
    assert client.get("/api/current-user/whoami").status_code in (401, 403)


def test_csrf_cookie_is_httponly_and_pages_carry_the_token(owner):
    client = Client()
    page = client.get("/user/login/")
    assert client.cookies["csrftoken"]["httponly"]
    assert b'name="csrfmiddlewaretoken"' in page.content
    assert client.cookies["csrftoken"]["samesite"] == "Lax"


def _settings_with(env: dict) -> list[str]:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='labelhub.settings'; "
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split(None, 2)


def test_cookies_are_secure_when_labelhub_https_is_on():
    assert _settings_with({"LABELHUB_HTTPS": "true"})[:2] == ["True", "True"]
    assert _settings_with({"LABELHUB_HTTPS": "false"})[:2] == ["False", "False"]


def test_secure_cookies_are_sent_over_https(owner, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    response = _login(client, owner.email, "pass-word-1")
    assert response.status_code == 302
    assert client.cookies["sessionid"]["secure"] and client.cookies["csrftoken"]["secure"]
