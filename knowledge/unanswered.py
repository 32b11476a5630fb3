"""Questions the bot declined, kept so FAQ maintainers can answer them and grow the knowledge base."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, storable, utcnow

__all__ = ["UnansweredQuestion", "list_unanswered", "log_unanswered"]

log = logging.getLogger(__name__)


class UnansweredQuestion(Base):
    """A question the bot could not answer from its sources."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"UnansweredQuestion(id={self.id}, lang={self.lang!r}, question={self.question[:40]!r})"


async def log_unanswered(
    session: AsyncSession, *, question: str, lang: str, channel: str
) -> UnansweredQuestion:
    """Record a declined question in the caller's transaction; it is written when the caller commits."""
    # Typed text may hold anything, NUL included (a pasted binary): logged without it, on every database.
    record = UnansweredQuestion(question=storable(question), lang=lang, channel=channel)
    session.add(record)
    log.info("unanswered question logged (lang=%s, channel=%s)", lang, channel)
    return record


async def list_unanswered(session: AsyncSession, *, limit: int = 100) -> Sequence[UnansweredQuestion]:
    """The most recent declined questions, newest first."""
    result = await session.scalars(
        select(UnansweredQuestion)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(limit)
    )
    return result.all()
