"""Questions the bot declined, kept so FAQ maintainers can answer them and grow the knowledge base."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, storable, utcnow

__all__ = [
    "KINDS",
    "LoggedQuestion",
    "UnansweredQuestion",
    "UnansweredResolution",
    "count_open",
    "list_logged",
    "list_unanswered",
    "log_unanswered",
    "resolve_many",
    "resolve_unanswered",
]

log = logging.getLogger(__name__)

# What a logged message is: a question the bot declined, an answer the asker disliked (👎), or a message that asked
# nothing (a greeting, a pasted profile; knowledge.statements), kept apart from the maintainers' inbox.
DECLINED = "declined"
DISLIKED = "disliked"
STATEMENT = "statement"
KINDS = (DECLINED, DISLIKED, STATEMENT)
# The inbox: what the bot failed to answer.
QUESTION_KINDS = (DECLINED, DISLIKED)


class UnansweredQuestion(Base):
    """A question the bot could not answer from its sources."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # The edition whose knowledge base was asked: its maintainers answer it, in that edition's FAQ.
    edition: Mapped[int] = mapped_column(Integer, index=True)
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16), default=DECLINED, server_default=DECLINED)
    # The answer the asker disliked (kind `disliked`); None for the others.
    answer: Mapped[str | None] = mapped_column(Text, default=None)

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
    kind: str = DECLINED
    answer: str | None = None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


async def log_unanswered(
    session: AsyncSession, *, edition: int, question: str, lang: str, channel: str, kind: str = DECLINED,
    answer: str | None = None,
) -> UnansweredQuestion:
    """Record a declined question (or a statement, a disliked answer with the `answer` given) in the caller's
    transaction; it is written when the caller commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of logged message {kind!r}")
    # Typed text may hold anything, NUL included (a pasted binary): logged without it, on every database.
    record = UnansweredQuestion(edition=edition, question=storable(question), lang=lang, channel=channel, kind=kind,
                                answer=None if answer is None else storable(answer))
    session.add(record)
    log.info("%s message logged (lang=%s, channel=%s)", kind, lang, channel)
    return record


async def list_unanswered(session: AsyncSession, *, edition: int, limit: int = 100) -> Sequence[UnansweredQuestion]:
    """The most recent declined questions of an edition, newest first."""
    result = await session.scalars(
        select(UnansweredQuestion)
        .where(UnansweredQuestion.edition == edition)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(limit)
    )
    return result.all()


async def list_logged(
    session: AsyncSession, *, limit: int = 100, include_resolved: bool = False,
    kinds: Sequence[str] = KINDS, ids: Sequence[int] | None = None, edition: int | None = None,
) -> list[LoggedQuestion]:
    """Logged messages of `kinds` newest first, each with its resolution; open ones only unless asked otherwise
    (or those of `ids`, whatever their state)."""
    stmt = (
        select(UnansweredQuestion, UnansweredResolution)
        .outerjoin(UnansweredResolution, UnansweredResolution.unanswered_id == UnansweredQuestion.id)
        .where(UnansweredQuestion.kind.in_(kinds))
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(limit)
    )
    if edition is not None:
        stmt = stmt.where(UnansweredQuestion.edition == edition)
    if ids is not None:
        stmt = stmt.where(UnansweredQuestion.id.in_(ids))
    elif not include_resolved:
        stmt = stmt.where(UnansweredResolution.unanswered_id.is_(None))
    rows = (await session.execute(stmt)).all()
    return [
        LoggedQuestion(id=q.id, question=q.question, lang=q.lang, channel=q.channel, created_at=q.created_at,
                       faq_id=r.faq_id if r else None, resolved_at=r.resolved_at if r else None, kind=q.kind,
                       answer=q.answer)
        for q, r in rows
    ]


async def count_open(session: AsyncSession, *, kinds: Sequence[str] = QUESTION_KINDS, edition: int | None = None) -> int:
    """How many logged messages of `kinds` (the inbox's, by default) are still waiting for an answer."""
    stmt = (
        select(func.count(UnansweredQuestion.id))
        .outerjoin(UnansweredResolution, UnansweredResolution.unanswered_id == UnansweredQuestion.id)
        .where(UnansweredResolution.unanswered_id.is_(None), UnansweredQuestion.kind.in_(kinds))
    )
    if edition is not None:
        stmt = stmt.where(UnansweredQuestion.edition == edition)
    return int(await session.scalar(stmt) or 0)


async def resolve_many(session: AsyncSession, ids: Sequence[int], *, faq_id: str | None, by: str) -> list[int]:
    """Mark the still-open messages among `ids` resolved by `faq_id` (dismissed when None); returns those ids.

    One resolved already keeps its first resolution: a group answered twice (two maintainers at once) does not
    flip between entries.
    """
    open_ids = sorted(set((await session.scalars(
        select(UnansweredQuestion.id)
        .outerjoin(UnansweredResolution, UnansweredResolution.unanswered_id == UnansweredQuestion.id)
        .where(UnansweredQuestion.id.in_(list(ids)), UnansweredResolution.unanswered_id.is_(None))
    )).all()))
    now = utcnow()
    session.add_all(UnansweredResolution(unanswered_id=qid, faq_id=faq_id, resolved_by=by[:120], resolved_at=now)
                    for qid in open_ids)
    await session.flush()
    log.info("resolved %d logged message(s) with FAQ %s", len(open_ids), faq_id)
    return open_ids


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
