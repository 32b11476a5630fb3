"""Receipts of handled events on SQLite and PostgreSQL: recorded once, seen by every session, swept when old."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.receipts import record_once, seen, sweep_receipts
from db.base import utcnow


@pytest.fixture
def sessions(pools: list[async_sessionmaker[AsyncSession]]) -> async_sessionmaker[AsyncSession]:
    return pools[0]


async def test_a_key_is_recorded_once_and_seen_after_commit(sessions: async_sessionmaker[AsyncSession]):
    now = utcnow()
    async with sessions() as session, session.begin():
        assert not await seen(session, ["tg:update:1"])
        assert await record_once(session, ["tg:update:1", "tg:keyboard:5:9"], now=now)
    async with sessions() as session, session.begin():
        assert await seen(session, ["tg:update:2", "tg:keyboard:5:9"])  # any one key is enough
        assert not await record_once(session, ["tg:update:2", "tg:keyboard:5:9"], now=now)
        await session.rollback()  # what the engine does with a repeat: the fresh key goes too
    async with sessions() as session:
        assert not await seen(session, ["tg:update:2"])
        assert not await seen(session, [])


async def test_a_rolled_back_event_leaves_no_receipt(sessions: async_sessionmaker[AsyncSession]):
    async with sessions() as session:
        assert await record_once(session, ["tg:update:3"], now=utcnow())
        await session.rollback()  # the event failed, or the worker died before the commit
    async with sessions() as session, session.begin():
        assert await record_once(session, ["tg:update:3"], now=utcnow())  # a redelivery is handled as new


async def test_old_receipts_are_swept(sessions: async_sessionmaker[AsyncSession]):
    now = utcnow()
    async with sessions() as session, session.begin():
        await record_once(session, ["old"], now=now - timedelta(days=3))
        await record_once(session, ["new"], now=now)
    async with sessions() as session, session.begin():
        assert await sweep_receipts(session, before=now - timedelta(days=2)) == 1
    async with sessions() as session:
        assert not await seen(session, ["old"]) and await seen(session, ["new"])


async def test_of_two_open_transactions_recording_one_key_exactly_one_wins(
    sessions: async_sessionmaker[AsyncSession],
):
    first = sessions()
    async with first:
        assert await record_once(first, ["tg:update:9"], now=utcnow())
        # The second insert waits for the first transaction (a row lock on PostgreSQL, the write lock on SQLite).
        second = asyncio.create_task(_record_in_own_session(sessions, "tg:update:9"))
        if first.get_bind().dialect.name == "postgresql":
            await _until_waiting_on_a_lock(first)
        await first.commit()
    assert await second is False


async def _record_in_own_session(sessions: async_sessionmaker[AsyncSession], key: str) -> bool:
    async with sessions() as session, session.begin():
        return await record_once(session, [key], now=utcnow())


async def _until_waiting_on_a_lock(session: AsyncSession) -> None:
    for _ in range(3000):
        # Inside a transaction PostgreSQL shows the activity view as it was at the first look, unless told.
        await session.execute(text("SELECT pg_stat_clear_snapshot()"))
        waiting = await session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the second insert never waited for the first transaction")
