"""When each staff member last opened a page, so the page can show what is new to them since."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime

__all__ = ["PageVisit", "last_visit", "record_visit"]


class PageVisit(Base):
    """A staff member's last look at one page (e.g. the unanswered questions)."""

    __tablename__ = "staff_page_visits"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    page: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def last_visit(session: AsyncSession, *, staff_id: int, page: str) -> datetime | None:
    """When the staff member last opened `page` (None: never)."""
    row = await session.get(PageVisit, (staff_id, page))
    return row.seen_at if row is not None else None


async def record_visit(session: AsyncSession, *, staff_id: int, page: str, now: datetime) -> None:
    """Remember this look at `page` (in its own transaction: the caller's session is committed here)."""
    row = await session.get(PageVisit, (staff_id, page))
    if row is None:
        session.add(PageVisit(staff_id=staff_id, page=page, seen_at=now))
    elif row.seen_at < now:
        row.seen_at = now
    try:
        await session.commit()
    except IntegrityError:  # the same person's other tab recorded its look at this moment: that one stands
        await session.rollback()
