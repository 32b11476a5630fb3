"""The async database engine and sessions: a SQLite file by default (WAL, foreign keys, SQLite's thread only
where a statement can wait), or any async URL."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from db import sqlite_connection

__all__ = ["make_engine", "make_sessionmaker"]

SQLITE_BUSY_TIMEOUT_S = 15.0


def make_engine(url: str, *, echo: bool = False, sqlite_busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> AsyncEngine:
    """An async engine for `url`; for a SQLite file, its folder is created and WAL + foreign keys turned on.

    `sqlite_busy_timeout_s`: how long a SQLite write waits for another connection's write lock before the
    database answers "database is locked" (which the engine then retries, see db.retry).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True, json_serializer=to_json)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # SQLAlchemy's own arguments for sqlite3.connect (path, uri, check_same_thread), read once the engine exists.
    engine = create_async_engine(url, echo=echo, json_serializer=to_json,
                                 async_creator=lambda: sqlite_connection.connect(*args, **kwargs))
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    event.listen(engine.sync_engine, "connect", partial(_sqlite_pragmas, busy_timeout_s=sqlite_busy_timeout_s))
    return engine


def to_json(value: Any) -> str:
    """JSON for the JSON columns, with Chinese text as UTF-8 rather than \\uXXXX escapes.

    A draft's answers are written at every step, and escaped they are half as long again. Text that cannot be
    UTF-8 (a lone surrogate, which no validator lets into an answer) keeps the escapes.
    """
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


def _sqlite_pragmas(dbapi_connection: Any, _record: object, *, busy_timeout_s: float) -> None:
    # WAL lets readers run beside the one writer; SQLite leaves foreign keys off unless asked per connection.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout_s * 1000):d}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # Two processes switching a fresh file at the same moment: SQLite answers one of them "database is locked"
    # at once, without waiting, as both hold the read lock and want the write lock. Once the other is done the
    # file is in WAL already and asking again costs nothing. (Seen with four processes migrating at start-up.)
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError; aiosqlite's adapter has its own class
            if "database is locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # blocks, but only at connect and only while another process switches the file


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit, so replies can be built without lazy loads."""
    return async_sessionmaker(engine, expire_on_commit=False)
