"""The harness gives tests the database they were asked for, empty, and on PostgreSQL cleans up after itself."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.users import User
from db.migrate import current, heads
from db.session import make_engine, make_sessionmaker
from tests.databases import ENV, Databases, PostgresDatabases

ASKED = os.environ.get(ENV)
postgres_only = pytest.mark.skipif(not ASKED, reason=f"{ENV} is not set: this run is on SQLite")


async def test_tests_run_on_the_database_they_were_asked_for(db_engine: AsyncEngine):
    assert db_engine.dialect.name == (make_url(ASKED).get_backend_name() if ASKED else "sqlite")
    assert await current(db_engine) == heads()


async def _add_user(url: str, external_id: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            user = User(channel="t", external_id=external_id)
            session.add(user)
            await session.commit()
            return user.id
    finally:
        await engine.dispose()


async def _count_users(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(select(func.count()).select_from(User)) or 0
    finally:
        await engine.dispose()


@postgres_only
async def test_the_shared_database_is_emptied_and_its_ids_restart(databases: Databases, database_url: str):
    assert await _add_user(database_url, "1") == 1
    assert await _add_user(database_url, "2") == 2
    assert databases.for_test() == database_url
    assert await _count_users(database_url) == 0
    assert await _add_user(database_url, "3") == 1  # as in a fresh SQLite file


@postgres_only
def test_a_session_drops_the_databases_it_created_and_no_other(tmp_path: Path):
    assert ASKED is not None
    server = make_url(ASKED)

    async def names() -> set[str]:
        conn = await asyncpg.connect(host=server.host, port=server.port, user=server.username,
                                     password=server.password, database=server.database)
        try:
            return {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        finally:
            await conn.close()

    with PostgresDatabases(ASKED) as session:
        own = session.create(tmp_path, migrated=False)
        created = set(session.created)
        assert make_url(own).database in created and len(created) == 2  # the shared one, and this one
        assert created <= asyncio.run(names())
        assert all(name.startswith(f"{server.database}_kcxf_{os.getpid()}_") for name in created)
    left = asyncio.run(names())
    assert not created & left
    assert server.database in left
