"""Questions the bot declined, kept so FAQ maintainers can answer them and grow the knowledge base."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, storable, utcnow

__all__ = [
    "LoggedQuestion",
    "UnansweredQuestion",
    "UnansweredResolution",
    "count_open",
    "list_logged",
    "list_unanswered",
    "log_unanswered",
    "resolve_unanswered",
]

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


class UnansweredResolution(Base):
    """How a logged question was dealt with: the FAQ entry that now answers it (kept even if that entry goes)."""

    __tablename__ = "unanswered_resolutions"

    # A table of its own rather than columns on unanswered_questions: existing databases gain it by
    # create_all, and the log itself stays append-only.
    unanswered_id: Mapped[int] = mapped_column(
        ForeignKey("unanswered_questions.id", ondelete="CASCADE"), primary_key=True
    )
    faq_id: Mapped[str | None] = mapped_column(String(64))
    resolved_by: Mapped[str] = mapped_column(String(120), default="")
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class LoggedQuestion:
    """A logged question with what became of it (faq_id None and resolved_at None: still open)."""

    id: int
    question: str
    lang: str
    channel: str
    created_at: datetime
    faq_id: str | None
    resolved_at: datetime | None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


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


async def list_logged(
    session: AsyncSession, *, limit: int = 100, include_resolved: bool = False
) -> list[LoggedQuestion]:
    """Logged questions newest first, each with its resolution; open ones only unless asked otherwise."""
    stmt = (
        select(UnansweredQuestion, UnansweredResolution)
        .outerjoin(UnansweredResolution, UnansweredResolution.unanswered_id == UnansweredQuestion.id)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(limit)
    )
    if not include_resolved:
        stmt = stmt.where(UnansweredResolution.unanswered_id.is_(None))
    rows = (await session.execute(stmt)).all()
    return [
        LoggedQuestion(id=q.id, question=q.question, lang=q.lang, channel=q.channel, created_at=q.created_at,
                       faq_id=r.faq_id if r else None, resolved_at=r.resolved_at if r else None)
        for q, r in rows
    ]


async def count_open(session: AsyncSession) -> int:
    """How many logged questions are still waiting for an answer."""
    stmt = (
        select(func.count(UnansweredQuestion.id))
        .outerjoin(UnansweredResolution, UnansweredResolution.unanswered_id == UnansweredQuestion.id)
        .where(UnansweredResolution.unanswered_id.is_(None))
    )
    return int(await session.scalar(stmt) or 0)


async def resolve_unanswered(
    session: AsyncSession, *, unanswered_id: int, faq_id: str | None, by: str
) -> list[int]:
    """Mark a logged question resolved (by an FAQ entry, or dismissed when faq_id is None), with every open
    question of the same wording and language; returns the ids resolved, [] when the question is unknown."""
    first = await session.get(UnansweredQuestion, unanswered_id)
    if first is None:
        return []
    same = await session.scalars(
        select(UnansweredQuestion.id)
        .outerjoin(UnansweredResolution, UnansweredResolution.unanswered_id == UnansweredQuestion.id)
        .where(UnansweredQuestion.question == first.question, UnansweredQuestion.lang == first.lang,
               UnansweredResolution.unanswered_id.is_(None))
    )
    ids = sorted(set(same.all()) | {unanswered_id})
    for qid in ids:
        await session.merge(UnansweredResolution(unanswered_id=qid, faq_id=faq_id, resolved_by=by[:120],
                                                 resolved_at=utcnow()))
    log.info("resolved %d logged question(s) with FAQ %s", len(ids), faq_id)
    return ids
