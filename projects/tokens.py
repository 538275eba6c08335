"""Personal access tokens (Label Studio 1.23's JWT API tokens) and the API's token checks.

A personal access token is a JWT *refresh* token (djangorestframework-simplejwt, HS256
signed with SECRET_KEY) that a user creates at ``POST /api/token/``. A script (the SDK
does this on its own) trades it at ``/api/token/refresh/`` for a 5-minute *access* token
and sends that as ``Authorization: Bearer <access>``.

- The server keeps each token's header and payload (``OutstandingToken.token``), never its
  signature, so the database alone cannot be used to sign in (as Label Studio).
- An access token names the refresh token it came from (the ``rjti`` claim); the check
  on every request refuses it as soon as that refresh token is blacklisted, rotated or
  its user deleted, not only when it expires.
- ``Organization.api_tokens_enabled`` and ``legacy_api_tokens_enabled`` switch each kind
  of token off for everyone. Legacy keys stay on by default (see docs/compat.md).
- Failed checks of either kind count against the caller's address (labelhub.auth).
"""

import base64
import binascii
import json
from datetime import timedelta

from django.db.models import Subquery
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from labelhub.auth import ThrottledTokenAuthentication, throttled_check
from labelhub.prepared import Prepared
from projects.models import Organization

REFRESH_JTI = "rjti"
MAX_TOKEN_LENGTH = 4096


class ApiToken(RefreshToken):
    """A personal access token: a refresh token whose lifetime is the organization's
    ``api_token_ttl_days`` (Label Studio's "eternity" of 200 years by default)."""

    lifetime = timedelta(days=200 * 365)

    @classmethod
    def issue(cls, *, user, ttl_days: int) -> "ApiToken":
        token = cls()
        token.set_exp(lifetime=timedelta(days=ttl_days))
        token["user_id"] = user.pk
        OutstandingToken.objects.create(
            user=user,
            jti=token["jti"],
            token=token.truncated(),
            created_at=token.current_time,
            expires_at=datetime_from_epoch(token["exp"]),
        )
        return token

    @classmethod
    def parse(cls, raw: str) -> "ApiToken":
        """Check a token given by a caller (signature, expiry, type, blacklist); raises
        simplejwt's TokenError. (simplejwt types its argument as a Token; it is text.)"""
        return cls(raw)  # type: ignore[arg-type]

    def truncated(self) -> str:
        """Header and payload without the signature: what is stored and listed."""
        return ".".join(str(self).split(".")[:2])

    @property
    def access_token(self):
        access = super().access_token
        access[REFRESH_JTI] = self["jti"]
        return access


def unverified_jti(raw: str) -> str | None:
    """The ``jti`` of a token given with or without its signature, unchecked: only for
    looking up a token of the caller's own (the lookup is what authorizes)."""
    parts = raw.split(".")
    if len(parts) not in (2, 3) or len(raw) > MAX_TOKEN_LENGTH:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    jti = claims.get("jti") if isinstance(claims, dict) else None
    return jti if isinstance(jti, str) else None


def _flag(name: str) -> Subquery:
    """The organization's switch ``name``, as a subquery: read in the same query as the
    token itself, so the check costs no query of its own (NULL before the row exists:
    the default, on)."""
    return Subquery(Organization.objects.order_by("pk").values(name)[:1])


# The token with its user and the organization's switch, compiled once
# (labelhub.prepared): every API request with a legacy key asks it.
_LEGACY_TOKEN = Prepared(
    lambda m: (
        Token.objects.select_related("user")
        .annotate(enabled=_flag("legacy_api_tokens_enabled"))
        .filter(key=m.str("key"))
    )
)


class LegacyTokenAuthentication(ThrottledTokenAuthentication):
    """``Authorization: Token <key>``, unless the organization switched legacy keys off."""

    def authenticate_credentials(self, key):
        token = _LEGACY_TOKEN.first(key=key) if isinstance(key, str) else None
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        # ``select_related`` cached the token on its user too (``user.auth_token``): a
        # reference cycle, left for the garbage collector at every request. The user
        # reads its token again if asked.
        token.user._state.fields_cache.pop("auth_token", None)
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if token.enabled is False:
            raise AuthenticationFailed(
                "Authentication token no longer valid: legacy token authentication has "
                "been disabled for this organization"
            )
        return (token.user, token)


class JwtAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access token>`` from a personal access token."""

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None or not header.lower().startswith(b"bearer"):
            return None
        return throttled_check(request, lambda: self._checked(request))

    def _checked(self, request):
        result = super().authenticate(request)
        if result is None:
            raise AuthenticationFailed("Invalid Authorization header.")
        user, access = result
        live = (
            OutstandingToken.objects.filter(
                jti=str(access.get(REFRESH_JTI, "")),
                user_id=user.pk,
                blacklistedtoken__isnull=True,
            )
            .annotate(enabled=_flag("api_tokens_enabled"))
            .values_list("pk", "enabled")
            .first()
        )
        if live is None:
            raise InvalidToken("Token is blacklisted or was not issued here.")
        if live[1] is False:
            raise AuthenticationFailed(
                "API token authentication has been disabled for this organization"
            )
        return result
