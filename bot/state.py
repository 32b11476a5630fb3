"""Where a user is in a conversation: the active flow, its step and the answers so far, stored per user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.users import User, UserRef, new_user, note_display_name
from db.base import Base, UTCDateTime, utcnow

__all__ = ["ConversationState", "open_conversation"]


class ConversationState(Base):
    """One row per user; `version` is an optimistic lock, so two concurrent events cannot both write it."""

    __tablename__ = "conversation_states"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    flow: Mapped[str | None] = mapped_column(String(64), default=None)
    step: Mapped[str | None] = mapped_column(String(64), default=None)
    # Top-level assignments (data["x"] = ...) are tracked; replace nested values rather than mutating them.
    data: Mapped[dict[str, Any]] = mapped_column(MutableDict.as_mutable(JSON()), default=dict)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Only assigned (a new user and its state go in one flush), never loaded: async code cannot lazy-load.
    user: Mapped[User] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"ConversationState(user_id={self.user_id}, flow={self.flow!r}, step={self.step!r})"


# Built once: every event runs it, and building a statement costs more than SQLite takes to answer it.
_CONVERSATION = (
    select(User, ConversationState)
    .outerjoin(ConversationState, ConversationState.user_id == User.id)
    .where(User.channel == bindparam("channel"), User.external_id == bindparam("external_id"))
)


async def open_conversation(session: AsyncSession, ref: UserRef) -> tuple[User, ConversationState]:
    """The user `ref` names and their conversation state, read in one query; new ones (added, not flushed) if none."""
    row = (await session.execute(_CONVERSATION, {"channel": ref.channel, "external_id": ref.external_id})).first()
    user, state = row if row is not None else (None, None)
    if user is None:
        user = new_user(ref)
        session.add(user)
    else:
        note_display_name(user, ref)
    if state is None:
        state = ConversationState(user=user, flow=None, step=None, data={})
        session.add(state)
    return user, state
