"""Claiming the notification outbox on SQLite and PostgreSQL: each pending notice goes to one worker at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.users import User
from db.base import utcnow
from intake.notify import Notification, claim_pending, mark_sent, notify_user

LEASE = timedelta(minutes=2)



async def _queue(sessions: async_sessionmaker[AsyncSession], n: int) -> list[int]:
    async with sessions() as session, session.begin():
        user = User(channel="telegram", external_id="42", lang="zh")
        session.add(user)
        await session.flush()
        return [(await notify_user(session, user_id=user.id, text=f"notice {i}")).id for i in range(n)]


async def _claim(sessions: async_sessionmaker[AsyncSession], *, now, limit: int = 50) -> list[Notification]:  # type: ignore[no-untyped-def]
    async with sessions() as session, session.begin():
        return await claim_pending(session, channel="telegram", now=now, lease=LEASE, limit=limit)


async def test_two_workers_claiming_at_once_share_the_notices_without_overlap(
    pools: list[async_sessionmaker[AsyncSession]],
):
    ids = await _queue(pools[0], 30)
    now = utcnow()
    taken: list[list[Notification]] = [[], []]

    async def worker(n: int) -> None:
        while batch := await _claim(pools[n], now=now, limit=4):
            taken[n] += batch
            await asyncio.sleep(0)

    await asyncio.gather(worker(0), worker(1))
    got = [[note.id for note in batch] for batch in taken]
    assert not set(got[0]) & set(got[1])
    assert sorted(got[0] + got[1]) == ids
    assert all(note.claimed_at is not None for batch in taken for note in batch)


async def test_a_claim_holds_for_its_lease_and_a_sent_notice_is_never_claimed(
    pools: list[async_sessionmaker[AsyncSession]],
):
    first, second = await _queue(pools[0], 2)
    now = utcnow()
    assert [n.id for n in await _claim(pools[0], now=now)] == [first, second]
    assert await _claim(pools[1], now=now + LEASE - timedelta(seconds=1)) == []  # the claimant is sending them
    async with pools[0]() as session, session.begin():
        await mark_sent(session, [first], now=now)
    # The claimant never marked the second one: it crashed, or Telegram refused it. After the lease it goes again.
    assert [n.id for n in await _claim(pools[1], now=now + LEASE + timedelta(seconds=1))] == [second]
