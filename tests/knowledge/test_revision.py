"""The knowledge revision counter on SQLite and PostgreSQL: concurrent bumps never share a number."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from knowledge.revision import DbRevisions, KnowledgeRevision, bump_revision, read_revision

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@pytest.fixture(params=["sqlite", "postgresql"])
async def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh database of each kind (PostgreSQL: a database of this test's own, dropped after)."""
    name = f"kblive_rev_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'kcxf.db'}"
    else:
        admin = await asyncpg.connect(database="postgres", **PG)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    engine = make_engine(url)
    await upgrade(engine)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
        if request.param == "postgresql":
            admin = await asyncpg.connect(database="postgres", **PG)
            await admin.execute(f'DROP DATABASE "{name}"')
            await admin.close()


async def test_revision_starts_at_zero_and_counts_each_change(sessions: async_sessionmaker[AsyncSession]):
    async with sessions() as session:
        assert await read_revision(session, edition=2024) == 0
    async with sessions() as session, session.begin():
        assert await bump_revision(session, edition=2024, reason="faq.add lunch by alice") == 1
        assert await bump_revision(session, edition=2024, reason="faq.delete lunch by bob") == 2
    async with sessions() as session:
        row = await session.get(KnowledgeRevision, 2024)
        assert row is not None and row.revision == 2 and row.reason == "faq.delete lunch by bob"
        assert row.changed_at.tzinfo is not None


async def test_concurrent_bumps_get_distinct_numbers(sessions: async_sessionmaker[AsyncSession]):
    async def factory() -> async_sessionmaker[AsyncSession]:
        return sessions

    revisions = DbRevisions(factory, edition=2024)
    got = await asyncio.gather(*(revisions.bump(reason=f"edit {n}") for n in range(12)))
    assert sorted(got) == list(range(1, 13))
    assert await revisions.current() == 12


async def test_a_rolled_back_change_is_not_counted(sessions: async_sessionmaker[AsyncSession]):
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await bump_revision(session, edition=2024, reason="doomed")
            raise RuntimeError("the edit failed")
    async with sessions() as session:
        assert await read_revision(session, edition=2024) == 0
