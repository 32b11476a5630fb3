"""Was this helpful? Answers given in a chat, kept until their asker rates them (👍 / 👎) or the retention purge.

An answered question is kept with the answer given, so that a 👎 pressed later can put both in the maintainers'
inbox (knowledge.unanswered, kind `disliked`). A rating counts once: the vote is set only where none is, in one
statement, so a double tap or the other button pressed afterwards changes nothing. Once rated, a row keeps only
its vote (the texts are not needed any more: a 👎 has copied them into the inbox); those votes are the counts
maintainers see beside the inbox. Unrated rows go with the drafts' retention purge (intake.retention).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, storable
from knowledge.unanswered import DISLIKED, log_unanswered

__all__ = ["AnswerRating", "Rated", "Vote", "Votes", "count_votes", "keep_answer", "purge_unrated", "rate"]

log = logging.getLogger(__name__)


class Vote(StrEnum):
    """What the asker said of an answer."""

    HELPFUL = "helpful"
    UNHELPFUL = "unhelpful"


class Rated(StrEnum):
    """What a press did: counted, nothing (rated before), or nothing (no such answer of this user any more)."""

    COUNTED = "counted"
    ALREADY = "already"
    GONE = "gone"


class AnswerRating(Base):
    """An answer given to a chat user's question, and their vote on it once they give one."""

    __tablename__ = "answer_ratings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(2))
    # Emptied once rated.
    question: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    vote: Mapped[str | None] = mapped_column(String(16), default=None)
    voted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


@dataclass(frozen=True, slots=True)
class Votes:
    """How many answers were rated helpful and not helpful."""

    helpful: int
    unhelpful: int


async def keep_answer(
    session: AsyncSession, *, user_id: int, channel: str, question: str, answer: str, lang: str, now: datetime,
) -> int:
    """Keep an answer given, in the caller's transaction, until it is rated; returns its id (for the buttons).

    The caller redacts the texts, as for the unanswered log (bot.feedback)."""
    row = AnswerRating(user_id=user_id, channel=channel, lang=lang, question=storable(question),
                       answer=storable(answer), created_at=now)
    session.add(row)
    await session.flush()
    return row.id


async def rate(session: AsyncSession, rating_id: int, *, user_id: int, vote: Vote, now: datetime,
               edition: int) -> Rated:
    """Count `user_id`'s vote on an answer given to them, once; a 👎 logs the question and the answer in the inbox."""
    counted = (await session.execute(
        update(AnswerRating)
        .where(AnswerRating.id == rating_id, AnswerRating.user_id == user_id, AnswerRating.vote.is_(None))
        .values(vote=vote.value, voted_at=now)
        .returning(AnswerRating.question, AnswerRating.answer, AnswerRating.lang, AnswerRating.channel)
        .execution_options(synchronize_session=False)
    )).first()
    if counted is None:
        rated = await session.scalar(select(AnswerRating.vote).where(AnswerRating.id == rating_id,
                                                                     AnswerRating.user_id == user_id))
        return Rated.GONE if rated is None else Rated.ALREADY
    question, answer, lang, channel = counted
    if vote is Vote.UNHELPFUL:
        await log_unanswered(session, edition=edition, question=question, lang=lang, channel=channel, kind=DISLIKED,
                             answer=answer)
    await session.execute(update(AnswerRating).where(AnswerRating.id == rating_id).values(question="", answer="")
                          .execution_options(synchronize_session=False))
    log.info("answer %d rated %s", rating_id, vote.value)
    return Rated.COUNTED


async def count_votes(session: AsyncSession) -> Votes:
    """Every vote counted so far (those of purged, never rated answers were never votes)."""
    rows = await session.execute(
        select(AnswerRating.vote, func.count()).where(AnswerRating.vote.is_not(None)).group_by(AnswerRating.vote))
    counts: dict[str | None, int] = dict(rows.all())
    return Votes(helpful=counts.get(Vote.HELPFUL.value, 0), unhelpful=counts.get(Vote.UNHELPFUL.value, 0))


async def purge_unrated(session: AsyncSession, *, before: datetime, dry_run: bool = False) -> int:
    """Forget the answers given before `before` that nobody rated (their buttons then say so); returns how many."""
    where = (AnswerRating.vote.is_(None), AnswerRating.created_at < before)
    if dry_run:
        return int(await session.scalar(select(func.count(AnswerRating.id)).where(*where)) or 0)
    deleted = await session.execute(delete(AnswerRating).where(*where).execution_options(synchronize_session=False))
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]


async def forget_user(session: AsyncSession, user_id: int) -> int:
    """/delete: the answers kept for this user's rating go (rated ones hold only their vote, and stay counted)."""
    deleted = await session.execute(
        delete(AnswerRating).where(AnswerRating.user_id == user_id, AnswerRating.vote.is_(None))
        .execution_options(synchronize_session=False))
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]
