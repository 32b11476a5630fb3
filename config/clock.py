"""An injectable clock, so deadline logic can be tested and rehearsed at any instant."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

__all__ = ["Clock", "FixedClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as an aware datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real time, expressed in the campaign's zone."""

    def __init__(self, tz: tzinfo | str) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    def now(self) -> datetime:
        """The current instant in this clock's zone."""
        return datetime.now(self.tz)

    def __repr__(self) -> str:
        return f"SystemClock({self.tz!s})"


class FixedClock:
    """A clock that stands still until told otherwise; for tests and rehearsals."""

    def __init__(self, instant: datetime) -> None:
        self.set(instant)

    def now(self) -> datetime:
        """The instant this clock was set to."""
        return self._instant

    def set(self, instant: datetime) -> None:
        """Move the clock to `instant`, which must be timezone-aware."""
        # Refused here rather than at the comparison with the deadline, where the TypeError would be far away.
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self._instant = instant

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by `delta` and return the new instant."""
        self.set(self._instant + delta)
        return self._instant

    def __repr__(self) -> str:
        return f"FixedClock({self._instant.isoformat()})"
