"""A PostgreSQL database of a test's own on the local server (127.0.0.1:5432, user postgres), dropped after it."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


async def admin(sql: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(prefix: str = "kcxf_test") -> AsyncIterator[str]:
    """Create a uniquely named database and yield its SQLAlchemy URL; skip the test when the server is away."""
    import asyncpg

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        await admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT} unavailable: {exc}")
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def any_database(kind: str, *, sqlite_url: str) -> AsyncIterator[str]:
    """The URL of a fresh database of `kind` ("sqlite": the given file URL; "postgresql": a scratch database)."""
    if kind == "sqlite":
        yield sqlite_url
        return
    async with scratch_database() as url:
        yield url
