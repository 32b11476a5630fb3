"""An outbox of chat messages: any process writes a row in its own transaction, the running bot delivers it.

The CLI (and later the console) cannot reach a chat user directly; it leaves a Notification, and the bot process
takes the pending rows of its channel, sends them and marks them sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Index, String, Text, column, or_, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, storable, utcnow
from intake.mail import send_text
from intake.queue import NEEDS_MORE, Submission, status_label
from knowledge.answer import TextSource

if TYPE_CHECKING:
    from config.settings import Settings

__all__ = [
    "MAIL_CHANNEL",
    "MAIL_LEASE",
    "STAFF_CHANNEL",
    "Notification",
    "Recipient",
    "claim_pending",
    "deliver_mail",
    "mark_sent",
    "notify",
    "notify_staff",
    "notify_status",
    "notify_user",
    "recipient_of",
]

log = logging.getLogger(__name__)

# Staff are reached where the settings name them: Telegram ids.
STAFF_CHANNEL = "telegram"
# Mail through the outbox (e.g. the maintainers' digest to the committee mailbox): the address is the row's
# external_id, the first line of its text the subject. Any process holding SMTP settings delivers it.
MAIL_CHANNEL = "mail"
# A claimed mail not marked sent after this (SMTP down, the process gone) is tried again.
MAIL_LEASE = timedelta(minutes=10)
# The users table seen from below the bot package (as the queue's foreign key does): no import of its model.
_users = table("users", column("id"), column("channel"), column("external_id"), column("lang"))


class Notification(Base):
    """One message waiting for (or already given to) a chat user or staff chat."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "channel", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    # The chat or user to send to, as the channel names it.
    external_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set by the bot process that took the row to send it; another process leaves it alone until the claim is
    # older than the lease (the claimant crashed, or Telegram refused the message and it is tried again).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:
        return f"Notification(id={self.id}, to={self.channel}:{self.external_id}, sent_at={self.sent_at!r})"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where and in which language a chat user is reached."""

    channel: str
    external_id: str
    lang: str


async def recipient_of(session: AsyncSession, *, user_id: int) -> Recipient:
    """The user's channel, chat id and language; LookupError for an unknown user."""
    row = (await session.execute(
        select(_users.c.channel, _users.c.external_id, _users.c.lang).where(_users.c.id == user_id)
    )).first()
    if row is None:
        raise LookupError(f"no user {user_id}")
    return Recipient(channel=row.channel, external_id=row.external_id, lang=row.lang)


async def notify_user(session: AsyncSession, *, user_id: int, text: str) -> Notification:
    """Queue a message to a chat user, in the caller's transaction."""
    to = await recipient_of(session, user_id=user_id)
    return (await _add(session, [(to.channel, to.external_id)], text))[0]


async def notify_staff(session: AsyncSession, *, settings: Settings, text: str) -> list[Notification]:
    """Queue a message to every staff member and the staff chat the settings name (none configured: none)."""
    ids = [*settings.telegram_staff_ids]
    if settings.telegram_staff_chat_id is not None:
        ids.append(settings.telegram_staff_chat_id)
    unique = dict.fromkeys(str(i) for i in ids)
    return await _add(session, [(STAFF_CHANNEL, i) for i in unique], text)


async def notify(session: AsyncSession, *, channel: str, external_id: str, text: str) -> Notification:
    """Queue a message to one address of a channel (a chat id, or a mailbox on MAIL_CHANNEL), in the caller's
    transaction."""
    return (await _add(session, [(channel, external_id)], text))[0]


async def notify_status(
    session: AsyncSession, *, submission: Submission, note: str, texts: TextSource
) -> Notification:
    """Tell the entrant, in their language, that their entry changed status (and, if reopened, what to do)."""
    to = await recipient_of(session, user_id=submission.user_id)
    lang = to.lang
    note = storable(note).strip()
    text = texts.t(
        "intake.notify.status",
        lang,
        reference=submission.reference,
        status=status_label(submission.status).get(lang),
        note=texts.t("intake.notify.status_note", lang, note=note) if note else "",
    )
    if submission.status == NEEDS_MORE:
        text += "\n" + texts.t("intake.notify.reopened", lang)
    return (await _add(session, [(to.channel, to.external_id)], text))[0]


async def claim_pending(
    session: AsyncSession, *, channel: str, now: datetime, lease: timedelta, limit: int = 50
) -> list[Notification]:
    """Claim the oldest unsent messages of a channel not claimed within `lease`; commit, then send them.

    The claim is one UPDATE whose WHERE repeats the test, so of two processes claiming at once on SQLite or
    PostgreSQL each row goes to one of them; the caller commits it before sending, so no transaction stays open
    while the chat service answers.
    """
    free = (Notification.channel == channel, Notification.sent_at.is_(None),
            or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - lease))
    oldest = (
        select(Notification.id).where(*free)
        .order_by(Notification.created_at, Notification.id).limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.scalars(oldest)).all())
    if not ids:
        return []
    claimed = await session.scalars(
        update(Notification).where(Notification.id.in_(ids), *free).values(claimed_at=now)
        .returning(Notification)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.all(), key=lambda n: (n.created_at, n.id))


async def mark_sent(session: AsyncSession, ids: Iterable[int], *, now: datetime) -> None:
    """Record that these messages were delivered."""
    wanted = list(ids)
    if wanted:
        await session.execute(update(Notification).where(Notification.id.in_(wanted)).values(sent_at=now))


async def deliver_mail(sessions: async_sessionmaker[AsyncSession], *, settings: Settings,
                       now: datetime | None = None) -> int:
    """Send the queued mails (MAIL_CHANNEL) through the configured SMTP server; returns how many went out.

    Claimed first, like the chat outbox, so of several workers one sends each; one that fails stays claimed and is
    tried again after MAIL_LEASE.
    """
    if not settings.smtp_host:
        return 0
    now = now or utcnow()
    async with sessions() as session, session.begin():
        claimed = await claim_pending(session, channel=MAIL_CHANNEL, now=now, lease=MAIL_LEASE)
    sent = 0
    for note in claimed:
        subject, _, body = note.text.partition("\n")
        if not await asyncio.to_thread(send_text, settings=settings, to=note.external_id, subject=subject,
                                       body=body.lstrip("\n")):
            continue
        async with sessions() as session, session.begin():
            await mark_sent(session, [note.id], now=utcnow())
        sent += 1
    return sent


async def _add(session: AsyncSession, targets: Sequence[tuple[str, str]], text: str) -> list[Notification]:
    rows = [Notification(channel=channel, external_id=external_id, text=text, created_at=utcnow())
            for channel, external_id in targets]
    session.add_all(rows)
    await session.flush()
    for row in rows:
        log.info("notification %s queued for %s:%s", row.id, row.channel, row.external_id)
    return rows
