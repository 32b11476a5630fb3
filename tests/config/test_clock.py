"""The injectable clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config import Clock, FixedClock, SystemClock


def test_system_clock_is_aware_in_its_zone():
    clock = SystemClock("Asia/Shanghai")
    now = clock.now()
    assert isinstance(clock, Clock)
    assert now.utcoffset() == timedelta(hours=8)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    assert SystemClock(ZoneInfo("UTC")).now().utcoffset() == timedelta(0)


def test_fixed_clock_set_and_advance():
    start = datetime(2024, 10, 20, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    clock = FixedClock(start)
    assert isinstance(clock, Clock)
    assert clock.now() == start
    assert clock.advance(timedelta(hours=1)) == datetime(2024, 10, 20, 16, 0, tzinfo=UTC)
    clock.set(start)
    assert clock.now() == start


def test_fixed_clock_refuses_naive_instants():
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2024, 10, 20))  # noqa: DTZ001 - the point of the test
