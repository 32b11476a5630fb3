"""How many updates one user may send in a minute, counted in the database so every worker shares the count.

Each user has one row: when their current window began and how many updates arrived in it. One upsert counts an
update and says whether it is within the limit, so two workers counting the same user at once cannot both let
the last allowed one through.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Integer, String, case, delete, literal
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime
from db.upsert import upsert

__all__ = ["RATE_WINDOW", "RateWindow", "Verdict", "admit", "sweep_windows"]

# A window opens with a user's first update and lasts a minute; the next update after it opens a new one.
RATE_WINDOW = timedelta(seconds=60)


class Verdict(Enum):
    """What to do with one update."""

    ADMIT = "admit"
    WARN = "warn"  # the first update over the limit in a window: the user is told once
    DROP = "drop"


class RateWindow(Base):
    """The current window of one user: when it began and how many updates came in it (refused ones too)."""

    __tablename__ = "rate_windows"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    hits: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"RateWindow({self.key!r}, hits={self.hits})"


async def admit(
    session: AsyncSession, key: str, *, limit: int, now: datetime, window: timedelta = RATE_WINDOW
) -> Verdict:
    """Count one update of `key` (e.g. "telegram:42") in the caller's transaction and judge it."""
    expired = RateWindow.started_at <= literal(now - window, UTCDateTime)
    hits = await session.scalar(
        upsert(session, RateWindow, {"key": key, "started_at": now, "hits": 1}, key=["key"], set_={
            "hits": case((expired, 1), else_=RateWindow.hits + 1),
            "started_at": case((expired, literal(now, UTCDateTime)), else_=RateWindow.started_at),
        }).returning(RateWindow.hits)
    )
    if hits is None or hits <= limit:
        return Verdict.ADMIT
    return Verdict.WARN if hits == limit + 1 else Verdict.DROP


async def sweep_windows(session: AsyncSession, *, now: datetime, window: timedelta = RATE_WINDOW) -> int:
    """Forget users whose window has ended (their next update opens a new one anyway); returns how many."""
    result = await session.execute(delete(RateWindow).where(RateWindow.started_at <= now - window))
    return int(getattr(result, "rowcount", 0) or 0)

