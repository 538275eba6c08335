"""``labelhub.auth``'s rate throttles count as DRF's do (the same answers and waits),
without DRF's cache round trip."""

from types import SimpleNamespace

import pytest
from rest_framework.throttling import UserRateThrottle

from labelhub import auth


class Clock:
    def __init__(self):
        self.now = 1_000.0

    def __call__(self):
        return self.now


def _pair(clock, rate):
    class Ours(auth.UserThrottle):
        timer = clock
        THROTTLE_RATES = {"user": rate}

    class Drfs(UserRateThrottle):
        timer = clock
        THROTTLE_RATES = {"user": rate}

    return Ours, Drfs


@pytest.mark.parametrize("rate", ["3/min", "5/sec", "1/hour"])
def test_same_answers_and_waits_as_drf(rate):
    from django.core.cache import cache

    cache.clear()
    auth.throttle_windows_clear()
    clock = Clock()
    ours, drfs = _pair(clock, rate)
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=7), META={})
    steps = [0, 0.1, 0.1, 0.2, 5, 20, 30, 59.9, 60.05, 60.2, 61, 200, 200, 200, 200, 200]
    for step in steps:
        clock.now += step
        a, b = ours(), drfs()
        assert a.allow_request(request, None) == b.allow_request(request, None), (step, clock.now)
        assert a.wait() == pytest.approx(b.wait()), (step, clock.now)


def test_anonymous_callers_count_per_address_and_idle_windows_go():
    auth.throttle_windows_clear()
    clock = Clock()

    class Anon(auth.AnonThrottle):
        timer = clock
        THROTTLE_RATES = {"anon": "2/min"}

    def request(address):
        return SimpleNamespace(user=None, META={"REMOTE_ADDR": address})

    assert [Anon().allow_request(request("10.0.0.1"), None) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert Anon().allow_request(request("10.0.0.2"), None)
    clock.now += 61
    auth._windows_sweep(clock.now)
    assert auth._WINDOWS == {}
    assert Anon().allow_request(request("10.0.0.1"), None)


def test_the_windows_stay_bounded(monkeypatch):
    auth.throttle_windows_clear()
    monkeypatch.setattr(auth, "MAX_WINDOWS", 30)
    clock = Clock()

    class Anon(auth.AnonThrottle):
        timer = clock
        THROTTLE_RATES = {"anon": "5/min"}

    for i in range(100):
        Anon().allow_request(SimpleNamespace(user=None, META={"REMOTE_ADDR": f"10.1.0.{i}"}), None)
        assert len(auth._WINDOWS) <= 30
