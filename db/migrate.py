"""Schema migrations: Alembic, run programmatically at start-up and by `kcxf db`, one process at a time.

The revisions live in db/migrations/versions/. Every command here runs on a connection that holds the
database's migration lock (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE) inside one transaction, so
two processes starting together on a fresh database migrate it once, and a failed migration leaves nothing
half done.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.session import make_engine

__all__ = ["MIGRATIONS_DIR", "MigrationError", "current", "downgrade", "heads", "revision", "upgrade"]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# Advisory locks are per database; this number only has to differ from other users of such locks there.
PG_LOCK_KEY = 0x6B637866_6D696772  # "kcxfmigr"

Target = AsyncEngine | str


class MigrationError(RuntimeError):
    """A migration left the database inconsistent (SQLite: a foreign key that no longer holds)."""


def alembic_config(script_location: Path = MIGRATIONS_DIR) -> Config:
    """Alembic's configuration for the packaged migrations (or a copy of them); no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # Dated file names list the revisions in the order they were written; `%%` escapes ConfigParser.
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def heads(*, config: Config | None = None) -> tuple[str, ...]:
    """The newest revision(s) of the migrations (default: the packaged ones)."""
    return tuple(ScriptDirectory.from_config(config or alembic_config()).get_heads())


async def upgrade(target: Target, revision: str = "head", *, config: Config | None = None) -> None:
    """Bring the database to `revision` (default: the newest); a database already there is left as it is."""
    await _run(target, lambda cfg: command.upgrade(cfg, revision), config=config)


async def downgrade(target: Target, revision: str, *, config: Config | None = None) -> None:
    """Take the database back to `revision` (`base`: no tables at all)."""
    await _run(target, lambda cfg: command.downgrade(cfg, revision), config=config)


async def current(target: Target) -> tuple[str, ...]:
    """The revision(s) the database is at; empty when it was never migrated."""
    async with _engine(target) as engine, engine.connect() as conn:
        return await conn.run_sync(lambda sync: tuple(MigrationContext.configure(sync).get_current_heads()))


async def revision(
    target: Target, *, message: str, metadata: MetaData | None, config: Config | None = None
) -> Path | None:
    """Write a new revision with what `metadata` has and the database (at head) lacks; None when nothing differs.

    Without metadata the revision is empty, for a data migration written by hand. Read and tidy a generated
    one before committing it: autogenerate cannot see renames, and data changes are yours to write.
    """
    written: list[Path] = []

    def generate(cfg: Config) -> None:
        scripts = command.revision(cfg, message=message, autogenerate=metadata is not None)
        for script in scripts if isinstance(scripts, list) else [scripts]:
            if script is not None:
                written.append(Path(script.path))

    await _run(target, generate, config=config, metadata=metadata)
    return written[0] if written else None


async def _run(
    target: Target, action: Callable[[Config], Any], *, config: Config | None, metadata: MetaData | None = None
) -> None:
    config = config or alembic_config()
    async with _engine(target) as engine, _locked(engine) as conn:
        await conn.run_sync(_with_connection, action, config, metadata)


def _with_connection(
    connection: Connection, action: Callable[[Config], Any], config: Config, metadata: MetaData | None
) -> None:
    # env.py takes this connection: it is already locked and inside the transaction the migrations run in.
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = metadata
    try:
        action(config)
    finally:
        config.attributes.pop("connection", None)


@asynccontextmanager
async def _engine(target: Target) -> AsyncIterator[AsyncEngine]:
    if isinstance(target, AsyncEngine):
        yield target
        return
    engine = make_engine(target)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def _locked(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that no other process can migrate beside."""
    if engine.dialect.name == "sqlite":
        async with _sqlite_locked(engine) as conn:
            yield conn
        return
    async with engine.connect() as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            # Released at commit or rollback; a second process waits here, then finds the schema at head.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        yield conn


@asynccontextmanager
async def _sqlite_locked(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as plain:
        # The driver must not open or commit transactions of its own: this one is ours, from BEGIN to COMMIT,
        # so that every DDL statement of the upgrade is in it (SQLite's DDL is transactional).
        conn = await plain.execution_options(isolation_level="AUTOCOMMIT")
        # A batch ALTER copies a table and drops the old one; with foreign keys on, that DROP would cascade
        # into every referencing table. The pragma is ignored inside a transaction, so it goes first.
        await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            # The write lock at once: a second process waits here (busy_timeout), then finds the schema at head.
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise MigrationError(f"foreign keys broken by the migration: {broken[:5]}")
            except BaseException:
                await conn.exec_driver_sql("ROLLBACK")
                raise
            await conn.exec_driver_sql("COMMIT")
        finally:
            await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
