"""Issue 18 item 7: a transaction the database gave up on for a moment (locked, deadlocked) is run again after a
jittered wait, and the entrant gets the answer, not an error. Real locks: a second SQLite connection holding the
write lock, a real PostgreSQL deadlock."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import CommandIn, TextIn
from bot.texts import Texts
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from db.session import make_engine, make_sessionmaker

from .test_engine import ALICE, DemoFlow, DictAnswerer, only_text, stored_state, stored_user


def _engine(maker: async_sessionmaker[AsyncSession], *, texts: Texts, campaign: Campaign, clock: FixedClock,
            settings: Settings) -> Engine:
    return Engine(sessionmaker=maker, answerer=DictAnswerer({}), texts=texts, campaign=campaign, clock=clock,
                  settings=settings, flows=(DemoFlow(),))


async def test_a_sqlite_write_lock_held_past_the_busy_timeout_is_waited_out(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign,
    clock: FixedClock,
):
    if settings.database_url is not None:
        pytest.skip("SQLite's write lock; on PostgreSQL the deadlock test runs")
    # A busy timeout far below the lock's hold, so SQLite answers "database is locked" several times over.
    db = make_engine(settings.db_url, sqlite_busy_timeout_s=0.05)
    try:
        engine = _engine(make_sessionmaker(db), texts=texts, campaign=campaign, clock=clock, settings=settings)
        await engine.handle(ALICE, CommandIn("demo"))
        # Another connection (a long purge, `kcxf rekey`) takes the write lock and keeps it for a moment.
        locker = sqlite3.connect(make_url(settings.db_url).database or "", isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")
            answer = asyncio.create_task(engine.handle(ALICE, TextIn("Ada")))
            await asyncio.sleep(0.6)
            assert not answer.done()  # still trying, not answered with an error
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        reply = only_text(await answer)
        assert reply.text == "colour?"
        state = await stored_state(sessionmaker, ALICE)
        assert (state.step, state.data) == ("colour", {"name": "Ada"})
    finally:
        await db.dispose()


async def test_a_postgresql_deadlock_is_run_again(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], db_engine: AsyncEngine, texts: Texts,
    campaign: Campaign, clock: FixedClock,
):
    if settings.database_url is None:
        pytest.skip("a PostgreSQL deadlock; on SQLite the write-lock test runs")
    engine = _engine(sessionmaker, texts=texts, campaign=campaign, clock=clock, settings=settings)
    await engine.handle(ALICE, CommandIn("start"))
    user_id = (await stored_user(sessionmaker, ALICE)).id
    state_id = (await stored_state(sessionmaker, ALICE)).id
    async with db_engine.connect() as other:
        # The other transaction waits long before it looks for a deadlock, so PostgreSQL picks the engine's
        # transaction (whose check, after the default second, comes first) as the one to abort.
        await other.execute(text("SET LOCAL deadlock_timeout = '20s'"))
        await other.execute(text("UPDATE conversation_states SET updated_at = updated_at WHERE id = :id"),
                            {"id": state_id})
        # /lang en writes the user's row, then the state's, which the other transaction holds: it waits there.
        switched = asyncio.create_task(engine.handle(ALICE, CommandIn("lang", "en")))
        async with db_engine.connect() as probe:
            for _ in range(200):
                waiting = await probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"))
                await probe.rollback()  # the activity view is a snapshot taken once per transaction
                if waiting:
                    break
                await asyncio.sleep(0.02)
            assert waiting, "the engine never waited for the state row"
        # Now the other transaction wants the user's row, which the engine holds: a deadlock.
        await other.execute(text("UPDATE users SET updated_at = updated_at WHERE id = :id"), {"id": user_id})
        await other.rollback()
    reply = only_text(await switched)
    assert reply.text == texts.t("engine.lang.switched", "en")
    assert (await stored_user(sessionmaker, ALICE)).lang == "en"
