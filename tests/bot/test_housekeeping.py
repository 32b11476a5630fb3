"""The bot process's chores: receipts and rate windows past their use are swept, fresh ones kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.housekeeping import RECEIPTS_KEPT, keep_house
from bot.rate_limit import RATE_WINDOW, RateWindow, admit
from bot.receipts import Receipt, record_once
from bot.texts import Texts
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from db.base import utcnow
from knowledge.answer import KnowledgeBase


async def test_a_round_sweeps_old_receipts_and_ended_windows_only(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings,
):
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        await record_once(session, ["tg:update:1"], now=now - RECEIPTS_KEPT - timedelta(minutes=1))
        await record_once(session, ["tg:update:2"], now=now - timedelta(hours=23))  # Telegram may still resend
        await admit(session, "tg:1", limit=30, now=now - RATE_WINDOW - timedelta(seconds=1))
        await admit(session, "tg:2", limit=30, now=now)
    engine = Engine(sessionmaker=sessionmaker, answerer=kb, texts=texts, campaign=campaign, clock=clock,
                    settings=settings)
    done = await keep_house(engine)
    assert (done.receipts_swept, done.windows_swept, done.mailed) == (1, 1, 0)  # no SMTP configured
    async with sessionmaker() as session:
        assert list(await session.scalars(select(Receipt.key))) == ["tg:update:2"]
        assert await session.scalar(select(func.count()).select_from(RateWindow)) == 1
