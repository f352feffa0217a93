"""Token buckets: bursts, refill, retry_after and a bounded table."""

from __future__ import annotations

import pytest

from peerhub.security.ratelimit import TokenBuckets


class Ticker:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_burst_then_refuse_with_retry_after() -> None:
    clock = Ticker()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a").allowed for _ in range(3)] == [True, True, True]
    refused = buckets.take("a")
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.5)
    clock.t += 0.5
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed


def test_keys_are_independent_and_refill_caps_at_burst() -> None:
    clock = Ticker()
    buckets = TokenBuckets(rate=1.0, burst=2, clock=clock)
    assert buckets.take("a").allowed and buckets.take("a").allowed
    assert buckets.take("b").allowed
    clock.t += 3600
    assert [buckets.take("a").allowed for _ in range(3)] == [True, True, False]


def test_table_is_bounded() -> None:
    buckets = TokenBuckets(rate=1.0, burst=1, clock=Ticker(), max_keys=100)
    for i in range(1000):
        buckets.take(f"key{i}")
    assert len(buckets) == 100


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBuckets(rate=0, burst=1, clock=Ticker())
