"""A destination's rate limit and circuit breaker, without a clock of their own to wait on."""

import pytest

from cdp.activation.dispatcher import Breaker, RateLimit


def test_the_rate_limit_spaces_sends_after_the_first():
    waits: list[float] = []
    limit = RateLimit(2.0)  # two a second
    for _ in range(5):
        limit.wait(waits.append)
    assert len(waits) == 4 and all(w == pytest.approx(0.5, abs=0.01) for w in waits)


def test_a_fast_limit_never_waits_within_its_burst():
    waits: list[float] = []
    limit = RateLimit(1000.0)
    limit.wait(waits.append)
    assert waits == []


def test_the_breaker_opens_after_failures_in_a_row_and_a_success_resets_the_count():
    breaker = Breaker(threshold=3, cooldown=60.0)
    breaker.failed(100.0)
    breaker.failed(101.0)
    breaker.succeeded()
    breaker.failed(102.0)
    breaker.failed(103.0)
    assert not breaker.is_open(103.0)
    breaker.failed(104.0)
    assert breaker.is_open(104.0) and breaker.is_open(163.9) and not breaker.is_open(164.0)
