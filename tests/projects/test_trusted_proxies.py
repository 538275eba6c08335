"""Issue #24, row 4: behind the shipped proxy every client shares the proxy's address.
``LABELHUB_TRUSTED_PROXIES`` names the proxies whose ``X-Forwarded-For`` is believed;
django-axes and the token throttles key on the client address found through it, and a
valid token is never throttled by other callers' failures."""

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.LABELHUB_TRUSTED_PROXIES = ["172.16.0.0/12"]


def _via_proxy(client_ip: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_ip)


def _login(client, email, password):
    return client.post("/user/login/", {"email": email, "password": password})


def test_client_address_walks_forwarded_for_only_through_trusted_proxies(rf, settings):
    from labelhub.auth import client_address

    settings.LABELHUB_TRUSTED_PROXIES = []
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_address(request) == PROXY  # off by default: the header is ignored
    settings.LABELHUB_TRUSTED_PROXIES = ["172.16.0.0/12", "10.1.2.3"]
    assert client_address(request) == "203.0.113.1"
    # A client's own X-Forwarded-For entries come first; the rightmost untrusted one wins.
    spoofed = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.2, 10.1.2.3")
    assert client_address(spoofed) == "203.0.113.2"
    # A direct client (not a trusted proxy) cannot pick its address.
    direct = rf.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(direct) == "198.51.100.9"
    # Garbage in the header is skipped, never returned.
    junk = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.3, not-an-ip")
    assert client_address(junk) == "203.0.113.3"


def test_a_stranger_behind_the_proxy_cannot_lock_the_user_out(behind_proxy, owner):
    attacker = _via_proxy("203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, owner.email, "wrong")
    assert _login(attacker, owner.email, "pass-word-1").status_code == 429
    victim = _via_proxy("198.51.100.2")
    assert _login(victim, owner.email, "pass-word-1").status_code == 302


def test_bad_tokens_behind_the_proxy_do_not_throttle_a_valid_token(behind_proxy, owner):
    good = Token.objects.get_or_create(user=owner)[0].key
    guesser = _via_proxy("203.0.113.9")
    statuses = [
        guesser.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {i:040d}").status_code
        for i in range(45)
    ]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert (
        _via_proxy("198.51.100.3")
        .get("/api/projects/", HTTP_AUTHORIZATION=f"Token {good}")
        .status_code
        == 200
    )


def test_a_valid_token_is_never_throttled_by_failures_from_its_own_address(owner):
    """Behind a NAT (or a proxy nobody configured) strangers share the address: their
    failures answer 429 to bad tokens, never to a valid one."""
    good = Token.objects.get_or_create(user=owner)[0].key
    shared = Client(REMOTE_ADDR="203.0.113.11")
    for i in range(45):
        shared.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {i:040d}")
    bad = shared.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {99:040d}")
    assert bad.status_code == 429
    assert shared.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200


def test_a_valid_access_token_is_not_throttled_either(owner, client_for):
    from projects.tokens import ApiToken

    access = str(ApiToken.issue(user=owner, ttl_days=1).access_token)
    shared = Client(REMOTE_ADDR="203.0.113.12")
    for i in range(45):
        shared.get("/api/projects/", HTTP_AUTHORIZATION=f"Bearer x{i}.y.z")
    assert shared.get("/api/projects/", HTTP_AUTHORIZATION="Bearer a.b.c").status_code == 429
    assert shared.get("/api/projects/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200


def test_compose_trusts_its_proxy():
    from pathlib import Path

    compose = (Path(settings.BASE_DIR) / "docker-compose.yml").read_text()
    assert "LABELHUB_TRUSTED_PROXIES" in compose
