"""Who is calling: the client's address behind trusted proxies, token checks with a
throttle on failures, and django-axes' keys.

**The client's address.** Behind a reverse proxy every request comes from the proxy's
address, so a per-address count (django-axes' sign-in lockout, the token-failure
throttle, DRF's rate throttles) lumps every client together: ten wrong passwords from
one stranger locked everyone out. ``LABELHUB_TRUSTED_PROXIES`` (addresses or CIDR
networks; empty by default) names the proxies whose ``X-Forwarded-For`` is believed.
``client_address`` starts from ``REMOTE_ADDR`` and, while that address is a trusted
proxy, steps one entry left in ``X-Forwarded-For``; the first address that is not a
trusted proxy is the client. Entries further left were written by the client itself and
are never read, so no one picks their own address. With the setting empty the header is
ignored.

**Token checks.** DRF runs its throttles after authentication, so a request with a
wrong token is a 401 before any throttle sees it. Here every failed token check counts
against the caller's address (the ``token_failure`` rate); past the rate, a wrong token
answers 429 instead of 401 until the window moves on. A valid token is always accepted:
others behind the same NAT or unconfigured proxy must not be able to lock a script out,
and a token (160 random bits for a legacy key, a signature for a JWT) cannot be guessed
at any rate the throttle would allow anyway; the throttle bounds the work and the noise
of guessing, it is not what keeps tokens secret.
"""

import ipaddress
import threading
from collections import deque
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def client_address(request) -> str:
    """The caller's address: ``REMOTE_ADDR``, or behind trusted proxies the address the
    nearest trusted proxy saw (see the module docstring)."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(getattr(settings, "LABELHUB_TRUSTED_PROXIES", ()) or ()))
    if not networks:
        return remote
    current = _address(remote)

    def trusted(address) -> bool:
        return address is not None and any(address in network for network in networks)

    if not trusted(current):
        return remote
    hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            continue  # garbage from somewhere: never an identity
        if not trusted(address):
            return str(address)
        current = address
    return str(current) if current is not None else remote


class ClientAddressMixin:
    def get_ident(self, request):
        return client_address(request)


# The rate throttles' windows: for each key, its window's length and the times of the
# requests still in it, oldest first. Kept in this process as DRF's default cache did
# (each process counts its own), but not in a cache: DRF's throttle read the whole list
# from the cache and wrote it back at every request, and the local-memory cache pickles
# both ways. At 1,100 requests in the minute (a script posting annotations) that was
# 41 us a request, and 6,000 (the signed-in rate) would be over 0.2 ms.
_WINDOWS: dict[str, tuple[float, deque]] = {}
_WINDOWS_LOCK = threading.Lock()
MAX_WINDOWS = 10_000  # keys kept; past it the idle are dropped, then the oldest third
_SWEEP_EVERY = 1_000
_calls = 0


def throttle_windows_clear() -> None:
    with _WINDOWS_LOCK:
        _WINDOWS.clear()


def _windows_sweep(now: float) -> None:
    """Drop the windows with no request left in them; past ``MAX_WINDOWS`` keys, also
    the oldest third (as Django's local-memory cache culls), which only forgets counts.
    Called with the lock held."""
    for key in [
        k for k, (duration, log) in _WINDOWS.items() if not log or log[-1] <= now - duration
    ]:
        del _WINDOWS[key]
    if len(_WINDOWS) > MAX_WINDOWS:
        for key in list(_WINDOWS)[: len(_WINDOWS) // 3]:
            del _WINDOWS[key]


class WindowThrottleMixin:
    """DRF's rate throttle (a sliding window of the last ``duration`` seconds holding at
    most ``num_requests`` requests, per cache key), counted in ``_WINDOWS``: the same
    answers and the same ``Retry-After`` as DRF's, without a cache round trip."""

    def allow_request(self, request, view):
        global _calls
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = now = self.timer()
        with _WINDOWS_LOCK:
            entry = _WINDOWS.get(self.key)
            if entry is None:
                entry = _WINDOWS[self.key] = (self.duration, deque())
            log = entry[1]
            while log and log[0] <= now - self.duration:
                log.popleft()
            allowed = len(log) < self.num_requests
            if allowed:
                log.append(now)
            # What DRF's wait() reads: the window after this request.
            self.held, self.oldest = len(log), (log[0] if log else None)
            _calls += 1
            if _calls % _SWEEP_EVERY == 0 or len(_WINDOWS) > MAX_WINDOWS:
                _windows_sweep(now)
        return allowed

    def wait(self):
        """DRF's answer: the time until the oldest request leaves the window, spread
        over the requests that will then be allowed."""
        remaining = self.duration - (self.now - self.oldest) if self.held else self.duration
        available = self.num_requests - self.held + 1
        if available <= 0:
            return None
        return remaining / float(available)


class AnonThrottle(ClientAddressMixin, WindowThrottleMixin, AnonRateThrottle):
    pass


class UserThrottle(ClientAddressMixin, WindowThrottleMixin, UserRateThrottle):
    pass


class TokenFailureThrottle(ClientAddressMixin, SimpleRateThrottle):
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


def throttled_check(request, check: Callable[[], object]):
    """Run one token ``check``; a failure counts against the caller's address and, past
    the ``token_failure`` rate, answers 429 instead of 401. A valid token always passes."""
    throttle = TokenFailureThrottle()
    try:
        return check()
    except AuthenticationFailed:
        over = throttle.over(request)
        throttle.record()
        if over:
            raise Throttled(wait=throttle.wait(), detail="Too many failed token checks.") from None
        raise


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("token"):
            return None
        return throttled_check(
            request, lambda: super(ThrottledTokenAuthentication, self).authenticate(request)
        )


def axes_client_ip(request) -> str:
    """django-axes' address for a sign-in (``AXES_CLIENT_IP_CALLABLE``)."""
    return client_address(request)


def axes_username(request, credentials: dict | None = None) -> str:
    """django-axes' key for a sign-in: the email as typed, trimmed and lower-cased (the
    sign-in itself is case-insensitive, so OWNER@x and owner@x share one count)."""
    source = credentials if credentials else getattr(request, "POST", {})
    login = source.get("email") or source.get("username") or ""
    return str(login).strip().lower()
