"""Judging fixtures: a runtime on the test database (SQLite, or PostgreSQL with KCXF_TEST_DATABASE_URL), entries
seeded through the real queue, judges as console accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.runtime import Runtime
from config.settings import Settings
from console.staff import Staff, add_staff

# The console's fixtures, for the judging pages' tests.
from tests.console.conftest import (  # noqa: F401
    app,
    browser_page,
    chromium,
    client,
    console_clock,
    console_runtime,
    live_console,
    make_staff,
)

OPENED = datetime(2024, 10, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PASSWORD = "correct horse battery"


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime on this test's fresh database; closed afterwards."""
    runtime = Runtime.open(settings)
    yield runtime
    await runtime.close()


@pytest.fixture
async def sessions(runtime: Runtime) -> async_sessionmaker[AsyncSession]:
    """Sessions on the runtime's database (migrated)."""
    return await runtime.sessionmaker()


async def make_judges(sessions: async_sessionmaker[AsyncSession], *names: str, role: str = "judge") -> list[Staff]:
    """Accounts that may judge, with an e-mail address each."""
    async with sessions() as session, session.begin():
        return [await add_staff(session, name=n, password=PASSWORD, role=role, email=f"{n}@example.org")
                for n in names]
