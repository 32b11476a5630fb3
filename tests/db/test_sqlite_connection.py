"""The embedded SQLite connection: only a transaction's first write and its commit cross to SQLite's thread, a
connection waiting for the write lock never stops the event loop, and everything SQLAlchemy asks of it behaves as
with aiosqlite (rows, row counts for version checks, generated keys, RETURNING, executemany, streaming, errors,
rollback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm.exc import StaleDataError

from bot.state import ConversationState
from bot.users import User
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from db.sqlite_connection import OneTripConnection

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("body", String(50), unique=True))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'kcxf.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The calls handed to SQLite's thread, by name, while the test runs."""
    seen: list[str] = []
    hand_over = OneTripConnection._execute

    async def counted(self: OneTripConnection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await hand_over(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    yield seen


async def test_only_the_first_write_and_the_commit_cross(engine: AsyncEngine, trips: list[str]):
    async with engine.connect() as conn:  # connected before counting: connecting is not a statement
        await conn.execute(text("SELECT 1"))
        trips.clear()
        assert (await conn.execute(select(notes))).all() == []
        assert trips == []  # a read runs where it is asked
        await conn.execute(insert(notes).values(body="a"))
        assert trips == ["_run"]  # the first write takes the write lock, which may mean waiting
        await conn.execute(insert(notes).values(body="b"))
        await conn.execute(update(notes).values(body=notes.c.body + "!"))
        assert (await conn.execute(select(notes.c.body).order_by(notes.c.id))).scalars().all() == ["a!", "b!"]
        assert trips == ["_run"]  # the lock is held: nothing more can wait
        await conn.commit()
    assert trips == ["_run", "commit"]  # and no rollback crossing when the pool takes the connection back


async def test_waiting_for_the_write_lock_leaves_the_loop_running(engine: AsyncEngine):
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        async with engine.connect() as holder, engine.connect() as waiter, engine.connect() as reader:
            await holder.execute(insert(notes).values(body="held"))  # holds the write lock, uncommitted
            write = asyncio.create_task(waiter.execute(insert(notes).values(body="waited")))
            await asyncio.sleep(0.3)
            assert not write.done()  # waiting for the lock, on SQLite's thread
            assert ticks >= 20  # while the loop went on (60 ticks if nothing else ran)
            # A reader is not held up by the writer, and sees only what is committed.
            assert (await reader.execute(select(notes.c.body))).scalars().all() == []
            await holder.commit()
            await asyncio.wait_for(write, 5)
            await waiter.commit()
            assert (await waiter.execute(select(notes.c.body).order_by(notes.c.id))).scalars().all() == [
                "held", "waited"]
    finally:
        ticker.cancel()


async def test_rows_counts_and_keys_come_back(engine: AsyncEngine):
    async with engine.begin() as conn:
        result = await conn.execute(insert(notes).values(body="first"))
        assert result.inserted_primary_key == (1,)
        await conn.execute(insert(notes), [{"body": f"many {n}"} for n in range(5)])  # executemany
        returned = (await conn.execute(insert(notes).values(body="back").returning(notes.c.id))).scalar_one()
        assert returned == 7
        changed = await conn.execute(update(notes).where(notes.c.body.like("many %")).values(body=notes.c.body + "!"))
        assert changed.rowcount == 5
        assert (await conn.execute(update(notes).where(notes.c.id == 999).values(body="x"))).rowcount == 0
        streamed = [row.body async for row in await conn.stream(select(notes).order_by(notes.c.id))]
    assert streamed == ["first", *(f"many {n}!" for n in range(5)), "back"]


async def test_a_stale_version_is_still_caught(tmp_path: Path):
    """The ORM's optimistic lock reads the UPDATE's row count: a concurrent change must still conflict."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'kcxf.db'}")
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            user = User(channel="test", external_id="1")
            session.add(user)
            await session.flush()
            session.add(ConversationState(user_id=user.id, data={}))
            await session.commit()
        async with sessions() as first, sessions() as second:
            mine = await first.scalar(select(ConversationState))
            theirs = await second.scalar(select(ConversationState))
            assert mine is not None and theirs is not None
            theirs.step = "theirs"
            await second.commit()
            mine.step = "mine"
            with pytest.raises(StaleDataError):
                await first.commit()
    finally:
        await engine.dispose()


async def test_errors_and_rollback_behave(engine: AsyncEngine):
    async with engine.connect() as conn:
        await conn.execute(insert(notes).values(body="dup"))
        await conn.commit()
        with pytest.raises(IntegrityError):
            await conn.execute(insert(notes).values(body="dup"))
        await conn.rollback()
        await conn.execute(insert(notes).values(body="undone"))
        await conn.rollback()  # inside a transaction: this one crosses and undoes the insert
        assert (await conn.execute(select(notes.c.body))).scalars().all() == ["dup"]
