"""Applications in progress: one row per draft, answers and navigation committed with every step."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from intake.sealing import SealedAnswers

__all__ = ["Draft", "drafts_of", "get_draft", "new_draft"]

OPEN, SUBMITTED, WITHDRAWN = "open", "submitted", "withdrawn"


class Draft(Base):
    """One entrant's application for one award; a person may keep several (同一单位可提交多个项目)."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # Stable across retries: the queue uses it to make submission idempotent.
    key: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    award_id: Mapped[str] = mapped_column(String(40))
    # Identity numbers and phones are encrypted in the row and plain here (intake.sealing).
    answers: Mapped[dict[str, Any]] = mapped_column(SealedAnswers, default=dict)
    # Navigation, kept apart from the answers so the snapshot holds only what the entrant said:
    # {"history": [positions answered, newest last], "closed": [groups the entrant said are complete]}
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the entrant (or the committee reopening it) last worked on it, on the campaign clock: set by touch()
    # only, never by the database's wall clock, so a rehearsal's or a test's clock governs retention too.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook

    def set_answers(self, answers: dict[str, Any]) -> None:
        """Replace the answers (a new object, so SQLAlchemy sees the JSON change)."""
        self.answers = dict(answers)

    def set_progress(self, progress: dict[str, Any]) -> None:
        self.progress = dict(progress)

    def touch(self, now: datetime) -> None:
        """Record activity at `now` (the injectable clock), which the retention period counts from."""
        self.updated_at = now


async def new_draft(session: AsyncSession, *, user_id: int, award_id: str, now: datetime | None = None) -> Draft:
    """Create a draft in the caller's transaction, dated `now` (the campaign clock) when given."""
    draft = Draft(user_id=user_id, award_id=award_id, answers={}, progress={"history": [], "closed": []})
    if now is not None:
        draft.created_at = draft.updated_at = now
    session.add(draft)
    await session.flush()
    return draft


# Built once: the flow reads the draft at every step.
_DRAFT = select(Draft).where(Draft.id == bindparam("draft_id"), Draft.user_id == bindparam("user_id"))


async def get_draft(session: AsyncSession, *, draft_id: int, user_id: int) -> Draft | None:
    """The user's draft with this id (never another user's)."""
    return await session.scalar(_DRAFT, {"draft_id": draft_id, "user_id": user_id})


async def drafts_of(session: AsyncSession, *, user_id: int, status: str = OPEN) -> Sequence[Draft]:
    """The user's drafts in a status, most recently touched first."""
    result = await session.scalars(
        select(Draft)
        .where(Draft.user_id == user_id, Draft.status == status)
        .order_by(Draft.updated_at.desc(), Draft.id.desc())  # two drafts touched in one instant: newest first
    )
    return result.all()
