"""Personal access tokens (Label Studio 1.23's JWT API tokens) and the token settings."""

import base64
import json

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from projects.models import Organization


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _access(refresh: str) -> str:
    response = APIClient().post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["access"]


@pytest.fixture
def pat(api):
    response = api.post("/api/token/")
    assert response.status_code == 201, response.content
    return response.json()["token"]


def test_create_refresh_and_use(api, pat, owner):
    claims = jwt.decode(pat, settings.SECRET_KEY, algorithms=["HS256"])
    assert claims["token_type"] == "refresh" and claims["user_id"] == owner.pk
    access = _access(pat)
    whoami = _bearer(access).get("/api/current-user/whoami")
    assert whoami.status_code == 200 and whoami.json()["email"] == owner.email
    # The refresh token itself is not an access token.
    assert _bearer(pat).get("/api/current-user/whoami").status_code == 401


def test_one_live_token_at_a_time_and_list_hides_signature(api, pat):
    again = api.post("/api/token/")
    assert again.status_code == 409
    listed = api.get("/api/token/").json()
    assert len(listed) == 1
    assert listed[0]["token"] == ".".join(pat.split(".")[:2])
    assert listed[0]["expires_at"] and listed[0]["created_at"]


def test_token_signed_with_another_key_is_refused(pat):
    claims = jwt.decode(pat, settings.SECRET_KEY, algorithms=["HS256"])
    forged = jwt.encode(claims, "not-the-secret", algorithm="HS256")
    assert APIClient().post("/api/token/refresh/", {"refresh": forged}).status_code == 401
    access = jwt.decode(_access(pat), settings.SECRET_KEY, algorithms=["HS256"])
    access["user_id"] = access["user_id"] + 1
    assert (
        _bearer(jwt.encode(access, "x" * 50, algorithm="HS256"))
        .get("/api/current-user/whoami")
        .status_code
        == 401
    )


def test_blacklist_stops_refresh_and_live_access_tokens(api, pat):
    access = _access(pat)
    truncated = api.get("/api/token/").json()[0]["token"]
    response = api.post("/api/token/blacklist/", {"refresh": truncated}, format="json")
    assert response.status_code == 204
    assert api.post("/api/token/blacklist/", {"refresh": truncated}).status_code == 404
    assert APIClient().post("/api/token/refresh/", {"refresh": pat}).status_code == 401
    # An access token made before the blacklisting stops working at once.
    assert _bearer(access).get("/api/current-user/whoami").status_code == 401
    assert api.get("/api/token/").json() == []
    assert api.post("/api/token/").status_code == 201  # a new one may now be made


def test_blacklist_of_someone_elses_token(api, pat, client_for, annotator):
    truncated = ".".join(pat.split(".")[:2])
    other = client_for(annotator)
    assert other.post("/api/token/blacklist/", {"refresh": truncated}).status_code == 404
    assert other.post("/api/token/blacklist/", {"refresh": pat}).status_code == 404
    # Anonymous: only the whole signed token counts as proof.
    assert APIClient().post("/api/token/blacklist/", {"refresh": truncated}).status_code == 404
    assert _bearer(_access(pat)).get("/api/current-user/whoami").status_code == 200
    assert APIClient().post("/api/token/blacklist/", {"refresh": pat}).status_code == 204
    assert APIClient().post("/api/token/refresh/", {"refresh": pat}).status_code == 401


def test_rotate(api, pat, client_for, annotator):
    other = client_for(annotator)
    assert other.post("/api/token/rotate/", {"refresh": pat}).status_code == 400
    response = api.post("/api/token/rotate/", {"refresh": pat}, format="json")
    assert response.status_code == 200
    new = response.json()["refresh"]
    assert new != pat
    assert APIClient().post("/api/token/refresh/", {"refresh": pat}).status_code == 401
    assert _bearer(_access(new)).get("/api/projects/").status_code == 200
    again = api.post("/api/token/rotate/", {"refresh": pat}, format="json")
    assert again.status_code == 400  # as Label Studio: the blacklisted token is invalid
    assert again.json()["detail"] == "refresh: Invalid refresh token"


def test_refresh_needs_a_token(db):
    response = APIClient().post("/api/token/refresh/", {}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "refresh"
    assert APIClient().post("/api/token/refresh/", {"refresh": "x.y.z"}).status_code == 401


def test_forged_truncated_payload_cannot_blacklist(api, pat, client_for, annotator):
    """The jti in an unsigned payload only finds the caller's own tokens."""
    payload = jwt.decode(pat, options={"verify_signature": False})
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    forged = f"{pat.split('.')[0]}.{body}"
    assert (
        client_for(annotator).post("/api/token/blacklist/", {"refresh": forged}).status_code == 404
    )


def test_jwt_settings(api, client_for, staff, pat):
    assert api.get("/api/jwt/settings").json() == {
        "api_tokens_enabled": True,
        "legacy_api_tokens_enabled": True,
        "api_token_ttl_days": 73000,
    }
    assert api.post("/api/jwt/settings", {"api_tokens_enabled": False}).status_code == 403
    admin = client_for(staff)
    bad = admin.post("/api/jwt/settings", {"api_token_ttl_days": 0}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "api_token_ttl_days"
    access = _access(pat)
    response = admin.post("/api/jwt/settings", {"api_tokens_enabled": False}, format="json")
    assert response.status_code == 200 and response.json()["api_tokens_enabled"] is False
    assert _bearer(access).get("/api/current-user/whoami").status_code == 401
    admin.post("/api/jwt/settings", {"api_tokens_enabled": True}, format="json")
    assert _bearer(access).get("/api/current-user/whoami").status_code == 200


def test_legacy_tokens_can_be_switched_off(api, client_for, staff, pat):
    admin = client_for(staff)
    response = admin.post("/api/jwt/settings", {"legacy_api_tokens_enabled": False}, format="json")
    assert response.status_code == 200
    refused = api.get("/api/current-user/whoami")
    assert refused.status_code == 401 and "legacy" in refused.json()["detail"]
    assert _bearer(_access(pat)).get("/api/current-user/whoami").status_code == 200
    Organization.objects.update(legacy_api_tokens_enabled=True)
    assert api.get("/api/current-user/whoami").status_code == 200


def test_ttl_days_sets_the_expiry(client_for, staff, api):
    client_for(staff).post("/api/jwt/settings", {"api_token_ttl_days": 30}, format="json")
    token = api.post("/api/token/").json()["token"]
    claims = jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])
    assert 29 * 86400 < claims["exp"] - claims["iat"] <= 30 * 86400


def test_legacy_token_costs_no_extra_query(api, django_assert_num_queries):
    api.get("/api/current-user/whoami")
    # The token with its switch in one query, the profile, the two permission reads.
    with django_assert_num_queries(4):
        assert api.get("/api/current-user/whoami").status_code == 200


def test_deleted_users_tokens_stop(api, pat, client_for, staff, owner):
    access = _access(pat)
    assert client_for(staff).delete(f"/api/users/{owner.pk}/").status_code == 204
    assert _bearer(access).get("/api/current-user/whoami").status_code == 401
    assert APIClient().post("/api/token/refresh/", {"refresh": pat}).status_code == 401
    assert api.get("/api/current-user/whoami").status_code == 401
