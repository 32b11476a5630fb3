"""The outbox seen from the bot: chat replies queued when they could not be sent at once, and the delivery of
every queued message (status changes, staff notices, those replies) through whichever channel the process runs.

The rows are intake.notify's Notifications, shared by every process on the database; a reply that fails to reach
the chat after its event committed is queued here rather than reported as an error, which would have the entrant
send again an answer that was already taken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.replies import Choice, DocumentOut, Reply, TextOut
from db.base import utcnow
from db.retry import attempts
from intake.notify import Notification, claim_pending, mark_sent, notify_chat

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["INTERVAL_S", "LEASE", "Send", "deliver", "deliver_forever", "queue_replies"]

log = logging.getLogger(__name__)

# How often queued messages are looked for.
INTERVAL_S = 3.0
# A message one worker claimed but did not mark sent (it crashed, or the channel refused it) is tried again after
# this long, by whichever worker claims it then.
LEASE = timedelta(minutes=2)

Send = Callable[[str, Reply], Awaitable[None]]
"""How a channel sends one reply to a chat it names by `external_id`; raises when it could not."""


async def queue_replies(
    sessions: async_sessionmaker[AsyncSession], *, channel: str, external_id: str, replies: Sequence[Reply],
) -> None:
    """Queue `replies` to the chat `external_id` of `channel`, in order, in a transaction of their own."""
    async for attempt in attempts():
        with attempt:
            async with sessions() as session, session.begin():
                for reply in replies:
                    text, extra = _stored(reply)
                    await notify_chat(session, channel=channel, external_id=external_id, text=text, extra=extra)


async def deliver(sessions: async_sessionmaker[AsyncSession], *, channel: str, send: Send) -> int:
    """Send the queued messages of `channel`; returns how many went out.

    Rows are claimed in a transaction of their own first, so two workers never send the same one, and each is
    marked sent as soon as the channel took it: a crash in between sends at most that one again.
    """
    async with sessions() as session, session.begin():
        notes = await claim_pending(session, channel=channel, now=utcnow(), lease=LEASE)
    sent = 0
    for note in notes:
        try:
            await send(note.external_id, _reply(note))
        except Exception as exc:  # the channel's own errors: the row stays claimed and is tried after the lease
            log.warning("message %s to %s:%s not delivered, tried again in %s: %s",
                        note.id, channel, note.external_id, LEASE, exc)
            continue
        async with sessions() as session, session.begin():
            await mark_sent(session, [note.id], now=utcnow())
        sent += 1
    return sent


async def deliver_forever(
    sessions: async_sessionmaker[AsyncSession], *, channel: str, send: Send, interval_s: float = INTERVAL_S,
) -> None:
    """deliver every `interval_s` seconds until cancelled; a failed round is logged and tried again."""
    while True:
        try:
            await deliver(sessions, channel=channel, send=send)
        except Exception:  # a database hiccup: the rows stay unsent and are tried again
            log.exception("delivering queued messages failed")
        await asyncio.sleep(interval_s)


def _stored(reply: Reply) -> tuple[str, dict[str, Any] | None]:
    match reply:
        case TextOut(text=text, choices=choices):
            # A toggle keeps its mark; an EditOut is delivered later as a new message (the pressed one is long gone).
            return text, ({"choices": [[c.label, c.value] if c.chosen is None else [c.label, c.value, c.chosen]
                                       for c in choices]} if choices else None)
        case DocumentOut(path=path, file_name=file_name, caption=caption):
            return caption, {"document": {"path": str(path), "file_name": file_name}}
    raise TypeError(f"unsupported reply {reply!r}")


def _reply(note: Notification) -> Reply:
    extra = note.extra or {}
    if "document" in extra:
        document = extra["document"]
        return DocumentOut(path=Path(document["path"]), file_name=document["file_name"], caption=note.text)
    return TextOut(note.text, tuple(Choice(*choice) for choice in extra.get("choices", [])))
