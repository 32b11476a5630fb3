"""The chores of a long-running bot process: forget old receipts and rate windows, retry unmailed entries, send
the maintainers' daily digest, the entrants' deadline reminders and the outbox's mail.

Every worker runs them; each chore is safe to run in several processes at once (deletes of old rows, mailings
and outbox rows claimed one at a time, the digest recorded once per day, each reminder once per draft and slot).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.digest import send_digest_if_due
from bot.rate_limit import sweep_windows
from bot.receipts import sweep_receipts
from bot.reminders import RemindersFlow
from db.base import utcnow
from intake.mailing import retry_unmailed
from intake.notify import deliver_mail
from knowledge.answer import KnowledgeBase

if TYPE_CHECKING:
    from bot.engine import Engine

__all__ = ["INTERVAL_S", "RECEIPTS_KEPT", "Chores", "keep_house", "keep_house_forever"]

log = logging.getLogger(__name__)

INTERVAL_S = 60.0
# Telegram keeps an update it could not deliver for 24 hours; a receipt must outlive any redelivery.
RECEIPTS_KEPT = timedelta(days=2)


@dataclass(frozen=True)
class Chores:
    """What one round did."""

    receipts_swept: int
    windows_swept: int
    mailed: int
    digest: bool = False
    mails: int = 0
    reminders: int = 0


async def keep_house(engine: Engine) -> Chores:
    """One round of every chore."""
    now = utcnow()
    async with engine.sessionmaker() as session, session.begin():
        receipts = await sweep_receipts(session, before=now - RECEIPTS_KEPT)
        windows = await sweep_windows(session, now=now)
    mailed = await retry_unmailed(engine.sessionmaker, settings=engine.settings, campaign=engine.campaign,
                                  clock=engine.clock)
    digest = await send_digest_if_due(engine.sessionmaker, settings=engine.settings, texts=engine.texts,
                                      campaign=engine.campaign, embedding=lambda: _embedding(engine), now=now)
    # Only where the bot offers the reminders' buttons (Runtime.flows), on the campaign clock.
    reminded = 0
    for flow in engine.flows:
        if isinstance(flow, RemindersFlow):
            reminded += len(await flow.send(engine.sessionmaker, campaign=engine.campaign, texts=engine.texts,
                                            clock=engine.clock))
    mails = await deliver_mail(engine.sessionmaker, settings=engine.settings, now=now)
    done = Chores(receipts_swept=receipts, windows_swept=windows, mailed=mailed, digest=digest is not None,
                  mails=mails, reminders=reminded)
    if receipts or windows or mailed or digest or mails or reminded:
        log.info("housekeeping: %s", done)
    return done


def _embedding(engine: Engine):  # type: ignore[no-untyped-def]
    """The embedding function the bot's index uses (the digest groups questions with it)."""
    if isinstance(engine.answerer, KnowledgeBase):
        return engine.answerer.retriever.index.embedding
    from knowledge.embeddings import make_embedding  # chromadb: loaded only when a digest is due

    settings = engine.settings
    return make_embedding(settings.embedding, base_url=settings.embedding_base_url,
                          api_key=settings.embedding_api_key)


async def keep_house_forever(engine: Engine, *, interval_s: float = INTERVAL_S) -> None:
    """keep_house every `interval_s` seconds until cancelled; a failed round is logged and tried again."""
    while True:
        try:
            await keep_house(engine)
        except Exception:  # the database may be away for a moment; the next round tries again
            log.exception("housekeeping failed; next round in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
