"""Where a user is in a conversation: the active flow, its step and the answers so far, stored per user.

Every event reads its user and their state with one query (or continues from the engine's copy of what its
last event committed, see `Conversation.fork`) and writes back only what changed, checking the state's version
itself. This is the path every message takes, and on it the ORM's identity map and unit of work
cost several times what the database took to commit (bench/intake.py compares a step with a bare commit), so the
conversation is handled in SQLAlchemy Core; the ORM class below defines the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Select, String, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from bot.users import ChatUser, User, UserRef, hinted_lang
from db.base import Base, UTCDateTime, storable, utcnow

if TYPE_CHECKING:
    from bot.flows import Preload

__all__ = ["Conversation", "ConversationState", "State", "conversation_query", "open_conversation"]


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
    # The channel's sequence number of the last event applied (Telegram's update id, which grows with every
    # update): behind a webhook two workers may take a user's quick messages in swapped order, and an event
    # numbered below this one arrived late and is refused rather than applied to a later question.
    last_update: Mapped[int | None] = mapped_column(BigInteger, default=None)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"ConversationState(user_id={self.user_id}, flow={self.flow!r}, step={self.step!r})"


@dataclass(slots=True)
class State:
    """The active flow, its step and its data; a flow changes these and the engine saves them with the event."""

    flow: str | None = None
    step: str | None = None
    # Replaced, not mutated in place, by convention: flows assign a new dict.
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Conversation:
    """A user and their state as one event read them, and how to write back what the event changed."""

    user: ChatUser
    state: State
    state_id: int
    version: int
    # The sequence number of the last event applied (ConversationState.last_update); set to the event's own by
    # the engine, which then saves the state.
    last_update: int | None
    # As read, to tell what changed.
    user_was: tuple[str, str, datetime | None]
    state_was: tuple[str | None, str | None, dict[str, Any]]
    # The flows' preloaded rows (bot.flows.Preload), by flow name; None where no row matched.
    preloaded: dict[str, tuple[Any, ...] | None] = field(default_factory=dict)
    last_update_was: int | None = None

    @property
    def state_at(self) -> tuple[int, int]:
        """The state row's id and the version this event read: a flow's guarded write checks it (bot.flows)."""
        return self.state_id, self.version

    def fork(self, ref: UserRef) -> Conversation:
        """The conversation for the user's next event, from this one as it was committed.

        Good only while nobody else has saved the state since: every event on a fork checks the state's version
        in a write (the state's own, or a flow's guarded write), so a stale fork ends in a StaleDataError and
        the engine runs the event again on a fresh read. A change to the user also saves the state, so its
        version covers the user's row too.
        """
        display_name, lang, erased_at = self.user_was
        user = ChatUser(id=self.user.id, channel=self.user.channel, display_name=display_name, lang=lang,
                        erased_at=erased_at)
        user.note_display_name(ref)
        flow, step, data = self.state_was
        # A row the flow put back as written; "no row" is left out, as it was said of the data then read.
        preloaded = {name: row for name, row in self.preloaded.items() if row is not None}
        return Conversation(user=user, state=State(flow, step, dict(data)), state_id=self.state_id,
                            version=self.version, last_update=self.last_update, user_was=self.user_was,
                            state_was=self.state_was, preloaded=preloaded, last_update_was=self.last_update)

    async def save(self, conn: AsyncConnection, *, now: datetime, guarded: bool = False) -> None:
        """Write what changed; StaleDataError when another event of this user saved the state meanwhile.

        A state read inside a flow is written even when the step changed nothing (a refused answer, a
        question): a concurrent step of the same user on another worker then meets a newer version and runs
        again, so no reply is for a question already answered. Unless the event is `guarded`: the flow wrote a
        row of its own under a version check of that row and of the state, where such a step conflicts already.
        """
        user, state = self.user, self.state
        user_now = (user.display_name, user.lang, user.erased_at)
        user_changed = user_now != self.user_was
        if user_changed:
            await conn.execute(_UPDATE_USER, {"user_id": user.id, "b_display_name": user.display_name,
                                              "b_lang": user.lang, "b_erased_at": user.erased_at, "now": now})
        state_now = (state.flow, state.step, state.data)
        if not user_changed and state_now == self.state_was and (self.state_was[0] is None or guarded) \
                and self.last_update == self.last_update_was:
            return
        result = await conn.execute(_UPDATE_STATE, {
            "state_id": self.state_id, "version": self.version, "new_version": self.version + 1,
            "b_flow": state.flow, "b_step": state.step, "b_data": state.data, "b_last_update": self.last_update,
            "now": now,
        })
        if result.rowcount != 1:
            raise StaleDataError(f"conversation state {self.state_id} of user {user.id} was saved meanwhile "
                                 f"(read at version {self.version})")
        # As committed, once the engine commits: what a fork starts from.
        self.version += 1
        self.user_was, self.state_was, self.last_update_was = user_now, state_now, self.last_update


_USERS, _STATES = User.__table__, ConversationState.__table__

_CONVERSATION_COLUMNS = (_USERS.c.id, _USERS.c.display_name, _USERS.c.lang, _USERS.c.erased_at,
                         _STATES.c.id, _STATES.c.flow, _STATES.c.step, _STATES.c.data, _STATES.c.version,
                         _STATES.c.last_update)


def conversation_query(preloads: Mapping[str, Preload] = {}) -> Select[Any]:  # noqa: B006 - never mutated
    """The query that reads a user, their state and the flows' preloaded rows; build it once and reuse it.

    Building a statement costs more than SQLite takes to answer it, and every event runs this one.
    """
    joined = _USERS.outerjoin(_STATES, _STATES.c.user_id == _USERS.c.id)
    columns = list(_CONVERSATION_COLUMNS)
    for preload in preloads.values():
        joined = joined.outerjoin(preload.table, preload.onclause)
        columns += preload.columns
    return (select(*columns).select_from(joined)
            .where(_USERS.c.channel == bindparam("channel"), _USERS.c.external_id == bindparam("external_id")))


# Built once: every event runs them.
_UPDATE_USER = (
    update(_USERS).where(_USERS.c.id == bindparam("user_id"))
    .values(display_name=bindparam("b_display_name"), lang=bindparam("b_lang"),
            erased_at=bindparam("b_erased_at"), updated_at=bindparam("now"))
)
_UPDATE_STATE = (
    update(_STATES).where(_STATES.c.id == bindparam("state_id"), _STATES.c.version == bindparam("version"))
    .values(flow=bindparam("b_flow"), step=bindparam("b_step"), data=bindparam("b_data"),
            last_update=bindparam("b_last_update"), version=bindparam("new_version"), updated_at=bindparam("now"))
)


async def open_conversation(
    conn: AsyncConnection, ref: UserRef, *, now: datetime, query: Select[Any], preloads: Mapping[str, Preload],
) -> Conversation:
    """The user `ref` names, their state and preloaded rows, in one query (`query`, built by conversation_query
    from the same `preloads`); a new user and their empty state are inserted.

    The insert is in the event's transaction, so an event that fails leaves nothing behind. A twin event
    inserting the same user at the same moment makes one insert fail with an IntegrityError: the engine runs
    that event again, and then the user is found.
    """
    params = {"channel": ref.channel, "external_id": ref.external_id}
    row = (await conn.execute(query, params)).first()
    if row is None or row[4] is None:
        user_id = row[0] if row is not None else await conn.scalar(
            insert(_USERS).values(channel=ref.channel, external_id=ref.external_id,
                                  display_name=storable(ref.display_name), lang=hinted_lang(ref),
                                  created_at=now, updated_at=now).returning(_USERS.c.id))
        await conn.execute(insert(_STATES).values(user_id=user_id, data={}, version=1, updated_at=now))
        row = (await conn.execute(query, params)).one()
    user_id, display_name, lang, erased_at, state_id, flow, step, data, version, last_update = \
        row[:len(_CONVERSATION_COLUMNS)]
    user = ChatUser(id=user_id, channel=ref.channel, display_name=display_name, lang=lang, erased_at=erased_at)
    user_was = (display_name, lang, erased_at)
    user.note_display_name(ref)
    data = data or {}
    preloaded: dict[str, tuple[Any, ...] | None] = {}
    start = len(_CONVERSATION_COLUMNS)
    for name, preload in preloads.items():
        values = tuple(row[start:start + len(preload.columns)])
        preloaded[name] = None if all(v is None for v in values) else values
        start += len(preload.columns)
    return Conversation(user=user, state=State(flow, step, dict(data)), state_id=state_id, version=version,
                        last_update=last_update, user_was=user_was, state_was=(flow, step, data),
                        preloaded=preloaded, last_update_was=last_update)
