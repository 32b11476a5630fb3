"""The maintainers' daily digest: the questions most asked since the last one, to the staff chat and the mailbox.

Every bot worker's housekeeping looks whether the day's digest is due (KCXF_INBOX_DIGEST_AT, local time). The
one that is first records the day in inbox_digests, in the same transaction as the messages it queues in the
outbox; any other worker's insert of that day then fails, so the digest goes out once however many workers run.
The outbox delivers it: Telegram by the bot, mail through SMTP (intake.notify), each claimed by one worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from intake.notify import MAIL_CHANNEL, STAFF_CHANNEL, notify
from knowledge.grouping import MAX_MESSAGES, QuestionGroup, Similarity, group_messages, rank
from knowledge.unanswered import QUESTION_KINDS, list_logged

if TYPE_CHECKING:
    from config.campaign import Campaign
    from config.settings import Settings
    from knowledge.answer import TextSource

__all__ = ["INBOX_PATH", "Digest", "InboxDigest", "compose", "send_digest_if_due"]

log = logging.getLogger(__name__)

INBOX_PATH = "/knowledge/unanswered"


class InboxDigest(Base):
    """One day's digest, recorded by the worker that sent it (the day is the key: a second worker cannot)."""

    __tablename__ = "inbox_digests"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD in the campaign's time zone
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    groups: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Digest:
    """What a day's digest said and where it went (no targets: nothing new, recorded and not sent)."""

    day: str
    groups: int
    messages: int
    targets: list[tuple[str, str]]
    text: str


async def send_digest_if_due(
    sessions: async_sessionmaker[AsyncSession], *, settings: Settings, texts: TextSource, campaign: Campaign,
    embedding: Callable[[], Callable[[list[str]], Sequence[Any]]], now: datetime | None = None,
) -> Digest | None:
    """Queue today's digest when its time has come and no worker has sent it; None when not (or nothing to send).

    `embedding` gives the index's embedding function; it is asked for only when a digest is due.
    """
    targets = _targets(settings, campaign)
    if settings.inbox_digest_at is None or not targets:
        return None
    now = now or utcnow()
    local = now.astimezone(settings.tz)
    if local.time() < settings.inbox_digest_at:
        return None
    day = local.date().isoformat()
    async with sessions() as session:
        if await session.get(InboxDigest, day) is not None:
            return None
        previous = await session.scalar(select(func.max(InboxDigest.sent_at)))
        messages = await list_logged(session, limit=MAX_MESSAGES, kinds=QUESTION_KINDS, edition=campaign.edition)
    since = previous or now - timedelta(days=1)
    similarity = Similarity(embedding(), threshold=settings.inbox_similarity)
    groups = await asyncio.to_thread(group_messages, [m for m in messages if m.created_at <= now], similarity)
    fresh = [g for g in rank(groups, now=now) if g.new_since(since)]
    fresh.sort(key=lambda g: -g.new_since(since))  # stable: equally many new ones keep the ranking's order
    new_messages = sum(g.new_since(since) for g in fresh)
    text = compose(fresh, since=since, day=local.date(), settings=settings, texts=texts, campaign=campaign)
    sent_to = targets if fresh else []
    try:
        async with sessions() as session, session.begin():
            session.add(InboxDigest(day=day, sent_at=now, groups=len(fresh), messages=new_messages))
            await session.flush()
            for channel, address in sent_to:
                await notify(session, channel=channel, external_id=address, text=text)
    except IntegrityError:
        log.info("the digest of %s was sent by another worker", day)
        return None
    log.info("digest of %s: %d new message(s) in %d group(s), to %s", day, new_messages, len(fresh),
             ", ".join(f"{c}:{a}" for c, a in sent_to) or "nobody (nothing new)")
    return Digest(day=day, groups=len(fresh), messages=new_messages, targets=sent_to, text=text)


def compose(groups: Sequence[QuestionGroup], *, since: datetime, day: date, settings: Settings, texts: TextSource,
            campaign: Campaign) -> str:
    """The digest's text: a subject line, then the top groups and the link to the inbox."""
    lang = settings.inbox_digest_lang
    top = groups[: settings.inbox_digest_top]
    lines = [
        texts.t("kb.digest.subject", lang, campaign=campaign.name.get(lang), day=day.isoformat()),
        "",
        texts.t("kb.digest.heading", lang, messages=sum(g.new_since(since) for g in groups), groups=len(groups)),
        "",
    ]
    for n, group in enumerate(top, start=1):
        langs = "、".join(texts.t(f"kb.lang.{x}", lang) if x in ("zh", "en") else x for x in group.langs)
        lines.append(texts.t("kb.digest.item", lang, n=n, question=_short(group.question), new=group.new_since(since),
                             count=group.count, langs=langs))
    if len(groups) > len(top):
        lines.append(texts.t("kb.digest.more", lang, count=len(groups) - len(top)))
    lines += ["", texts.t("kb.digest.link", lang, url=settings.console_url + INBOX_PATH)]
    return "\n".join(lines)


def _targets(settings: Settings, campaign: Campaign) -> list[tuple[str, str]]:
    """Where the digest can go: the staff chat (a Telegram chat id) and the committee mailbox (with SMTP)."""
    out = []
    if "staff_chat" in settings.inbox_digest_to and settings.telegram_staff_chat_id is not None:
        out.append((STAFF_CHANNEL, str(settings.telegram_staff_chat_id)))
    if "mail" in settings.inbox_digest_to and settings.smtp_host:
        out.append((MAIL_CHANNEL, campaign.committee.mailbox))
    return out


def _short(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
