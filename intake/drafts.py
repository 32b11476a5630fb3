"""Applications in progress: one row per draft, answers and navigation committed with every step.

The chat reads and writes a draft at nearly every message, so it does that in SQLAlchemy Core with an
`OpenDraft` and checks the version itself (the ORM's unit of work cost more than the commit; see bot.state).
The ORM class `Draft` maps the same table for everything else: listings, /delete, retention, the console.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    Row,
    String,
    and_,
    bindparam,
    exists,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from bot.flows import Preload
from bot.state import ConversationState
from bot.users import User
from db.base import Base, UTCDateTime, utcnow
from intake.sealing import SealedAnswers, installed

__all__ = ["Draft", "OpenDraft", "draft_position", "draft_preload", "drafts_of", "get_draft", "new_draft", "open_draft", "save_draft"]

OPEN, SUBMITTED, WITHDRAWN = "open", "submitted", "withdrawn"


class Draft(Base):
    """One entrant's application for one award; a person may keep several (同一单位可提交多个项目)."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # Stable across retries: the queue uses it to make submission idempotent.
    key: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The edition whose form it fills: a draft of a closed edition is never submitted into the next one.
    edition: Mapped[int] = mapped_column(Integer, index=True)
    award_id: Mapped[str] = mapped_column(String(40))
    # Identity numbers and phones are encrypted in the row and plain here (intake.sealing).
    answers: Mapped[dict[str, Any]] = mapped_column(SealedAnswers, default=dict)
    # Navigation, kept apart from the answers so the snapshot holds only what the entrant said:
    # {"history": [positions answered, newest last], "closed": [groups the entrant said are complete],
    #  "position": the question last asked}
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


@dataclass(slots=True, eq=False)
class OpenDraft:
    """A draft as one chat event read it; the flow changes it and saves it with `save_draft`."""

    id: int
    key: str
    user_id: int
    award_id: str
    answers: dict[str, Any]
    progress: dict[str, Any]
    status: str
    version: int
    updated_at: datetime
    # The answers as the row holds them (sealed): saving keeps the envelopes of values that did not change.
    stored: dict[str, Any]
    edition: int

    def touch(self, now: datetime) -> None:
        """Record activity at `now` (the injectable clock), which the retention period counts from."""
        self.updated_at = now

    def row(self) -> tuple[Any, ...]:
        """The draft as a row of its columns (as `open_draft` takes it), answers sealed as stored."""
        return (self.id, self.key, self.user_id, self.award_id, self.stored, self.progress, self.status,
                self.version, self.updated_at, self.edition)


_DRAFTS = Draft.__table__
# The answers as stored, still sealed: open_draft opens them and keeps the envelopes for save_draft.
_COLUMNS = (_DRAFTS.c.id, _DRAFTS.c.key, _DRAFTS.c.user_id, _DRAFTS.c.award_id,
            type_coerce(_DRAFTS.c.answers, JSON).label("stored_answers"), _DRAFTS.c.progress, _DRAFTS.c.status,
            _DRAFTS.c.version, _DRAFTS.c.updated_at, _DRAFTS.c.edition)
# Built once: the flow reads and writes the draft at every step.
_READ = select(*_COLUMNS).where(_DRAFTS.c.id == bindparam("draft_id"), _DRAFTS.c.user_id == bindparam("user_id"))
_STATES = ConversationState.__table__
# Saved only while the conversation is where the event read it: a step of the same entrant on another worker
# that moved it (/cancel, another draft, even without touching this one) makes this one conflict and run again.
_UPDATE = (
    update(_DRAFTS).where(_DRAFTS.c.id == bindparam("draft_id"), _DRAFTS.c.version == bindparam("version"),
                          exists().where(_STATES.c.id == bindparam("state_id"),
                                         _STATES.c.version == bindparam("state_version")))
    .values(answers=bindparam("b_answers"), progress=bindparam("b_progress"), status=bindparam("b_status"),
            version=bindparam("new_version"), updated_at=bindparam("b_updated_at"))
)


def draft_preload() -> Preload:
    """The draft a conversation's state points at (data["draft"]), read by the engine with the conversation."""
    users = User.__table__
    # The state's data only ever holds an int there (the flow writes it); a row of another user never matches.
    onclause = and_(_DRAFTS.c.id == _STATES.c.data["draft"].as_integer(), _DRAFTS.c.user_id == users.c.id)
    return Preload(table=_DRAFTS, onclause=onclause, columns=_COLUMNS)


def draft_position(row: Row[Any] | tuple[Any, ...]) -> str:
    """The draft id and version of a row of the draft columns: which step of which draft it was written at."""
    return f"{row[0]}.{row[7]}"


async def new_draft(conn: AsyncConnection, *, user_id: int, edition: int, award_id: str, now: datetime) -> OpenDraft:
    """Create a draft of an edition's form in the caller's transaction, dated `now` (the campaign clock)."""
    values = {"key": uuid.uuid4().hex, "user_id": user_id, "edition": edition, "award_id": award_id, "answers": {},
              "progress": {"history": [], "closed": []}, "status": OPEN, "version": 1,
              "created_at": now, "updated_at": now}
    draft_id = await conn.scalar(insert(_DRAFTS).values(values).returning(_DRAFTS.c.id))
    return OpenDraft(id=draft_id, key=values["key"], user_id=user_id, award_id=award_id, answers={},
                     progress=values["progress"], status=OPEN, version=1, updated_at=now, stored={},
                     edition=edition)


async def get_draft(conn: AsyncConnection, *, draft_id: int, user_id: int) -> OpenDraft | None:
    """The user's draft with this id (never another user's)."""
    row = (await conn.execute(_READ, {"draft_id": draft_id, "user_id": user_id})).first()
    return None if row is None else open_draft(row)


def open_draft(row: Row[Any] | tuple[Any, ...]) -> OpenDraft:
    """The draft in a row of the draft columns (get_draft's, or the preload's), its answers opened."""
    draft_id, key, user_id, award_id, stored, progress, status, version, updated_at, edition = row
    stored = stored or {}
    return OpenDraft(id=draft_id, key=key, user_id=user_id, award_id=award_id, answers=installed().open(stored),
                     progress=progress, status=status, version=version, updated_at=updated_at, stored=stored,
                     edition=edition)


async def save_draft(conn: AsyncConnection, draft: OpenDraft, *, state_at: tuple[int, int]) -> None:
    """Write the draft back; StaleDataError when it was saved meanwhile (another event, /delete, the console) or
    when the conversation state is no longer at `state_at` (its id and the version the event read)."""
    stored = installed().seal(draft.answers, draft.stored)  # the column type leaves these envelopes as they are
    state_id, state_version = state_at
    result = await conn.execute(_UPDATE, {
        "draft_id": draft.id, "version": draft.version, "new_version": draft.version + 1,
        "state_id": state_id, "state_version": state_version,
        "b_answers": stored, "b_progress": draft.progress, "b_status": draft.status,
        "b_updated_at": draft.updated_at,
    })
    if result.rowcount != 1:
        raise StaleDataError(f"draft {draft.id} or its conversation was saved meanwhile "
                             f"(read at version {draft.version}, state at {state_at})")
    draft.version += 1
    draft.stored = stored


async def drafts_of(
    session: AsyncSession, *, user_id: int, status: str = OPEN, edition: int | None = None,
) -> Sequence[Draft]:
    """The user's drafts in a status (of one edition, or of all), most recently touched first."""
    stmt = (
        select(Draft)
        .where(Draft.user_id == user_id, Draft.status == status)
        .order_by(Draft.updated_at.desc(), Draft.id.desc())  # two drafts touched in one instant: newest first
    )
    if edition is not None:
        stmt = stmt.where(Draft.edition == edition)
    return (await session.scalars(stmt)).all()
