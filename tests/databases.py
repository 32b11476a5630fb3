"""The databases tests run on: SQLite files, or PostgreSQL when KCXF_TEST_DATABASE_URL names a server.

On PostgreSQL, the session creates its own databases beside the one the URL names (which it only connects
to), migrates them, and drops them at its end. Tests that take the `settings` fixture share one of them,
emptied before each test (a DELETE per table costs a few milliseconds where TRUNCATE or a new database costs
around a hundred); a fixture that outlives one test (module or session scope) gets a database of its own.
"""

from __future__ import annotations

import asyncio
import graphlib
import os
import secrets
import shutil
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

from config.settings import Settings
from db.migrate import upgrade

__all__ = ["ENV", "Databases", "PostgresDatabases", "SqliteDatabases", "kcxf_env"]

ENV = "KCXF_TEST_DATABASE_URL"
T = TypeVar("T")


class Databases(Protocol):
    """Where a test's database comes from."""

    def for_test(self) -> str | None:
        """The URL for one test's settings (None: the SQLite file in its data folder), empty and at head."""

    def create(self, folder: Path, *, migrated: bool = True) -> str:
        """A database of its own (SQLite: in `folder`), at head or never migrated."""

    def ready(self, url: str) -> None:
        """Make sure the database at `url` is migrated, as cheaply as this kind of database allows."""


def kcxf_env(settings: Settings) -> dict[str, str]:
    """The environment a `kcxf` subprocess needs to work on the same data folder and database as `settings`."""
    env = {"KCXF_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["KCXF_DATABASE_URL"] = settings.database_url
    return env


class SqliteDatabases:
    """A fresh file per test, copied from one migrated at the start of the session (a copy is cheaper)."""

    def __init__(self, folder: Path) -> None:
        self._template = folder / "template.db"
        _in_thread(upgrade(_sqlite_url(self._template)))

    def for_test(self) -> str | None:
        return None

    def create(self, folder: Path, *, migrated: bool = True) -> str:
        path = folder / "kcxf.db"
        if migrated:
            self._copy(path)
        return _sqlite_url(path)

    def ready(self, url: str) -> None:
        path = Path(make_url(url).database or "")
        if not path.exists():
            self._copy(path)

    def _copy(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._template, path)


class PostgresDatabases:
    """Databases on the server of `url`, named after its database, this process and a random suffix."""

    def __init__(self, url: str) -> None:
        self._server = make_url(url)
        if self._server.get_backend_name() != "postgresql":
            raise ValueError(f"{ENV} must be a postgresql+asyncpg:// URL, not {url!r}")
        # Unique among concurrent sessions on a shared server, and well under PostgreSQL's 63-character limit.
        self._prefix = f"{self._server.database or 'postgres'}"[:30] + f"_kcxf_{os.getpid()}_{secrets.token_hex(3)}"
        self._created: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-postgres", daemon=True)
        self._admin: asyncpg.Connection | None = None
        self._shared: asyncpg.Connection | None = None
        self._shared_url = ""
        self._empty_all = ""

    def __enter__(self) -> PostgresDatabases:
        self._thread.start()
        try:
            self._run(self._start())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    @property
    def created(self) -> tuple[str, ...]:
        """The databases this session created, which it drops at its end (and no others)."""
        return tuple(self._created)

    def for_test(self) -> str:
        self._run(self._empty_shared())
        return self._shared_url

    def create(self, folder: Path, *, migrated: bool = True) -> str:
        return self._run(self._create(migrated=migrated))

    def ready(self, url: str) -> None:
        return None  # every database handed out is migrated, or was asked for unmigrated

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        # Fixtures are called both inside and outside the tests' event loops; this one is always beside them.
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def _url(self, database: str) -> str:
        return self._server.set(database=database).render_as_string(hide_password=False)

    async def _connect(self, url: URL | str, **settings: str) -> asyncpg.Connection:
        parsed = make_url(url)
        return await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                     password=parsed.password, database=parsed.database, timeout=10,
                                     server_settings=settings)

    async def _start(self) -> None:
        self._admin = await self._connect(self._server)
        self._shared_url = await self._create(migrated=True)
        # A test that leaks a transaction holding locks makes the next one fail with a lock timeout, not hang.
        self._shared = await self._connect(self._shared_url, lock_timeout="10s")
        self._empty_all = await _emptying_script(self._shared)

    async def _create(self, *, migrated: bool) -> str:
        assert self._admin is not None
        name = f"{self._prefix}_{len(self._created)}"
        await self._admin.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        url = self._url(name)
        if migrated:
            await upgrade(url)
        return url

    async def _empty_shared(self) -> None:
        assert self._shared is not None
        await self._shared.execute(self._empty_all)

    async def _stop(self) -> None:
        if self._shared is not None:
            await self._shared.close()
        if self._admin is not None:
            # FORCE: a subprocess a failed test left behind must not keep its database alive.
            for name in reversed(self._created):
                await self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await self._admin.close()


async def _emptying_script(conn: asyncpg.Connection) -> str:
    """DELETE every row, referencing tables first, and restart every sequence: a fresh database's state."""
    tables = [r["tablename"] for r in await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'")]
    references = await conn.fetch(
        "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace")
    order = graphlib.TopologicalSorter({table: set() for table in tables})
    for ref in references:
        if ref["child"] != ref["parent"]:
            order.add(ref["parent"], ref["child"])  # the parent waits until its children are emptied
    sequences = [r["sequencename"] for r in await conn.fetch(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")]
    statements = [f'DELETE FROM "{table}"' for table in order.static_order()]
    if sequences:
        statements.append("SELECT " + ", ".join(f"setval('\"{s}\"', 1, false)" for s in sequences))
    return "; ".join(statements)


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def _in_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from synchronous code, whether or not an event loop runs in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()
