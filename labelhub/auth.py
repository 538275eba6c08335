"""Token authentication with a throttle on failures.

DRF runs its throttles after authentication, so a request with a wrong token is a 401
before any throttle sees it, and guessing tokens was limited only by speed. Here every
failed token check counts against the caller's address (the ``token_failure`` rate);
past the rate, token requests from that address answer 429 until the window moves on,
whether the token is right or not.
"""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import SimpleRateThrottle


class TokenFailureThrottle(SimpleRateThrottle):
    scope = "token_failure"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def over(self, request) -> bool:
        """Whether the address is past its failures, without counting this request."""
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) >= self.num_requests

    def record(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("token"):
            return None
        throttle = TokenFailureThrottle()
        if throttle.over(request):
            raise Throttled(wait=throttle.wait(), detail="Too many failed token checks.")
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record()
            raise


def axes_username(request, credentials: dict | None = None) -> str:
    """django-axes' key for a sign-in: the email as typed, trimmed and lower-cased (the
    sign-in itself is case-insensitive, so OWNER@x and owner@x share one count)."""
    source = credentials if credentials else getattr(request, "POST", {})
    login = source.get("email") or source.get("username") or ""
    return str(login).strip().lower()
