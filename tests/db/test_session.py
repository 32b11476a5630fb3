"""The database: the embedded SQLite file (folder created, WAL and foreign keys on), and on either database
named constraints, enforced foreign keys, aware timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.state import ConversationState
from bot.users import User
from config.settings import Settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from knowledge.unanswered import UnansweredQuestion


async def test_missing_data_folder_is_created(tmp_path: Path):
    folder = tmp_path / "a" / "b"
    settings = Settings(_env_file=None, data_dir=folder, database_url=None)  # type: ignore[call-arg]
    engine = make_engine(settings.db_url)
    try:
        await upgrade(engine)
        assert (tmp_path / "a" / "b" / "kcxf.db").is_file()
    finally:
        await engine.dispose()


async def test_wal_and_foreign_keys_are_on(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'kcxf.db'}")
    try:
        await upgrade(engine)  # the migration turns foreign keys off while it runs, and back on after
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_schema_has_named_constraints(db_engine: AsyncEngine):
    async with db_engine.connect() as conn:
        tables, uniques = await conn.run_sync(
            lambda sync: (set(inspect(sync).get_table_names()), inspect(sync).get_unique_constraints("users"))
        )
    assert {"users", "conversation_states", "unanswered_questions"} <= tables
    assert [u["name"] for u in uniques] == ["uq_users_channel_external_id"]


async def test_foreign_key_is_enforced(sessionmaker: async_sessionmaker[AsyncSession]):
    async with sessionmaker() as session:
        session.add(ConversationState(user_id=999, data={}))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_datetimes_come_back_aware_in_utc(sessionmaker: async_sessionmaker[AsyncSession]):
    shanghai = timezone(timedelta(hours=8))
    async with sessionmaker() as session:
        session.add(UnansweredQuestion(edition=2024, question="q", lang="zh", channel="t",
                                       created_at=datetime(2024, 10, 21, 0, 0, tzinfo=shanghai)))
        await session.commit()
    async with sessionmaker() as session:
        stored = await session.get(UnansweredQuestion, 1)
        assert stored is not None
        assert stored.created_at == datetime(2024, 10, 20, 16, 0, tzinfo=UTC)
        assert stored.created_at.tzinfo is UTC


async def test_naive_datetimes_are_refused(sessionmaker: async_sessionmaker[AsyncSession]):
    async with sessionmaker() as session:
        session.add(User(channel="t", external_id="1", created_at=datetime(2024, 1, 1)))  # noqa: DTZ001
        with pytest.raises(Exception, match="naive"):
            await session.commit()


async def test_in_memory_url_works():
    engine = make_engine("sqlite+aiosqlite://")
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            session.add(User(channel="t", external_id="1"))
            await session.commit()
    finally:
        await engine.dispose()


async def test_json_is_stored_as_utf8_and_read_back_whatever_the_text(db_engine: AsyncEngine):
    # Chinese as UTF-8, not \uXXXX escapes (a draft is written at every step); a lone surrogate, which cannot be
    # UTF-8, keeps its escape and still round-trips.
    data = {"项目": "智能制造", "odd": "a\ud800b"}
    async with db_engine.begin() as conn:
        user_id = await conn.scalar(insert(User).values(channel="t", external_id="json", display_name="",
                                                        lang="zh").returning(User.id))
        await conn.execute(insert(ConversationState).values(user_id=user_id, data={"项目": "智能制造"}, version=1))
        stored = await conn.scalar(text("SELECT CAST(data AS TEXT) FROM conversation_states"))
        assert stored is not None and "智能制造" in stored and "\\u" not in stored
        await conn.execute(update(ConversationState).values(data=data))
        assert await conn.scalar(select(ConversationState.data)) == data
