"""The per-user rate limit on SQLite and PostgreSQL: one shared count, whichever worker (session) counts."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.rate_limit import RATE_WINDOW, Verdict, admit, sweep_windows
from db.base import utcnow


async def _admit(sessions: async_sessionmaker[AsyncSession], key: str, *, now, limit: int = 3) -> Verdict:  # type: ignore[no-untyped-def]
    async with sessions() as session, session.begin():
        return await admit(session, key, limit=limit, now=now)


async def test_the_limit_admits_warns_once_then_drops_and_a_new_window_admits(
    pools: list[async_sessionmaker[AsyncSession]],
):
    start = utcnow()
    verdicts = [await _admit(pools[n % 2], "tg:1", now=start + timedelta(seconds=n)) for n in range(6)]
    assert verdicts == [Verdict.ADMIT] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert await _admit(pools[0], "tg:2", now=start + timedelta(seconds=5)) is Verdict.ADMIT  # others unaffected
    later = start + RATE_WINDOW + timedelta(seconds=1)
    assert await _admit(pools[1], "tg:1", now=later) is Verdict.ADMIT


async def test_updates_counted_at_once_by_two_workers_let_exactly_the_limit_through(
    pools: list[async_sessionmaker[AsyncSession]],
):
    now = utcnow()
    verdicts = await asyncio.gather(*(_admit(pools[n % 2], "tg:3", now=now, limit=4) for n in range(10)))
    assert Counter(verdicts) == {Verdict.ADMIT: 4, Verdict.WARN: 1, Verdict.DROP: 5}


async def test_ended_windows_are_swept(pools: list[async_sessionmaker[AsyncSession]]):
    now = utcnow()
    await _admit(pools[0], "tg:old", now=now - 2 * RATE_WINDOW)
    await _admit(pools[0], "tg:new", now=now)
    async with pools[1]() as session, session.begin():
        assert await sweep_windows(session, now=now) == 1
