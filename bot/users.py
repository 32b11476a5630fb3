"""A person talking to the bot on one channel, and how adapters name them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.language import DEFAULT_LANG, Lang, is_lang
from db.base import Base, UTCDateTime, storable, utcnow

__all__ = ["ChatUser", "User", "UserRef", "hinted_lang"]


class User(Base):
    """A chat user; display_name is whatever the channel shows and never counts as a real name.

    After the user erases their data (/delete), erased_at is set and no display name is stored again.
    """

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        CheckConstraint("lang IN ('zh', 'en')", name="lang"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    lang: Mapped[str] = mapped_column(String(2), default=DEFAULT_LANG)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:
        return f"User(id={self.id}, channel={self.channel!r}, external_id={self.external_id!r})"


@dataclass(frozen=True, slots=True)
class UserRef:
    """Who sent an event, as the adapter knows them; lang_hint is the client's language, if it tells."""

    channel: str
    external_id: str
    display_name: str = ""
    lang_hint: str | None = None

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(slots=True)
class ChatUser:
    """The user an event comes from, as the engine read them; what a flow changes here is saved with the event."""

    id: int
    channel: str
    display_name: str
    lang: str
    erased_at: datetime | None

    def erase(self, now: datetime) -> None:
        """Forget the display name, now and on every later message."""
        self.display_name = ""
        self.erased_at = now

    def note_display_name(self, ref: UserRef) -> None:
        """Keep the name the channel shows now, unless the user has erased their data."""
        if ref.display_name and self.erased_at is None and storable(ref.display_name) != self.display_name:
            self.display_name = storable(ref.display_name)


def hinted_lang(ref: UserRef) -> Lang:
    """The language the user's client hints at, or Chinese: a new user's, and the one to apologise in."""
    hint = (ref.lang_hint or "").lower()[:2]
    return hint if is_lang(hint) else DEFAULT_LANG
