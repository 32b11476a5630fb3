"""aiosqlite connections that cross to SQLite's thread only for what can wait on another connection.

aiosqlite keeps a SQLite connection in a thread of its own so that waiting for SQLite's write lock (up to the
busy timeout) never stops the event loop; SQLAlchemy's adapter hands it four calls per query (open a cursor,
execute, fetch the rows, close the cursor) and three per write. Each call is a trip to that thread and back, and
when the loop is busy the thread waits for the GIL on every one of them: for the small statements of a
conversation step the trips cost many times SQLite's own work.

Here only two kinds of statement make the trip, as one call each (executed, fetched and closed there):
- the first write of a transaction, which takes the write lock and may have to wait for another connection;
- COMMIT, which may checkpoint the write-ahead log to disk.
Reads run on the caller's thread: in WAL mode a reader never waits for a writer. So do the further writes of a
transaction that holds the write lock: nothing can make them wait. Either way nothing else runs on the
connection meanwhile (its owner awaits each call), so the thread and the caller never use it at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

__all__ = ["OneTripConnection", "connect"]

# aiosqlite's own default, kept for the chunked iteration nothing here uses.
ITER_CHUNK_SIZE = 64


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """Like aiosqlite.connect (same arguments as sqlite3.connect)."""
    # Used from two threads, never at once (see above); SQLAlchemy asks for the check on in-memory databases.
    kwargs["check_same_thread"] = False
    connection = OneTripConnection(partial(sqlite3.connect, database, **kwargs), ITER_CHUNK_SIZE)
    # As SQLAlchemy does for aiosqlite: a connection nobody closed must not keep the interpreter from exiting.
    connection._thread.daemon = True
    return connection


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs reads, and writes under a held write lock, without leaving the caller."""

    # True from the first write of a transaction (made on the thread, so the write lock is held) to its end.
    _writing = False

    def cursor(self) -> _OneTripCursor:  # type: ignore[override]
        return _OneTripCursor(self)

    async def statement(self, sql: str, call: Callable[[sqlite3.Cursor], object]) -> _Outcome:
        """Run one statement where it cannot stall the event loop, and return what it left."""
        connection = self._conn
        if self._writing and not connection.in_transaction:
            self._writing = False  # ended by a statement, not by commit() or rollback()
        if self._writing or _is_read(sql):
            return _run(connection, call)
        outcome: _Outcome = await self._execute(_run, connection, call)
        # A change made inside a transaction (sqlite3 opens one before it) leaves the write lock held to its end;
        # a plain BEGIN or a SAVEPOINT opens one without taking the lock.
        self._writing = connection.in_transaction and sql.lstrip()[:15].upper().startswith(_WRITES)
        return outcome

    async def commit(self) -> None:
        self._writing = False
        await super().commit()

    async def rollback(self) -> None:
        # The pool rolls back every connection it gets back, nearly always after a commit: with no transaction
        # open there is nothing to undo and no reason to cross to the thread.
        self._writing = False
        if self._conn.in_transaction:
            await super().rollback()


# Statements that take the write lock: data changes, schema changes and an eager BEGIN.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


def _is_read(sql: str) -> bool:
    # A plain SELECT; anything else (a write, DDL, PRAGMA, BEGIN, WITH … INSERT) goes to the thread.
    return sql.lstrip()[:6].upper() == "SELECT"


class _Outcome:
    """What a finished statement left on its cursor."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.description = cursor.description
        self.rows = cursor.fetchall() if cursor.description else []
        # rowcount after the rows are fetched, so a RETURNING statement reports the rows it changed.
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _run(connection: sqlite3.Connection, call: Callable[[sqlite3.Cursor], object]) -> _Outcome:
    cursor = connection.cursor()
    try:
        call(cursor)
        return _Outcome(cursor)
    finally:
        cursor.close()


class _OneTripCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy's adapter uses; rows are fetched when the statement runs."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> _OneTripCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self, sql: str, call: Callable[[sqlite3.Cursor], object]) -> _OneTripCursor:
        outcome = await self._connection.statement(sql, call)
        self.description, self.rowcount, self.lastrowid = outcome.description, outcome.rowcount, outcome.lastrowid
        self._rows = outcome.rows
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _OneTripCursor:
        return await self._run(sql, lambda cursor: cursor.execute(sql, () if parameters is None else parameters))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _OneTripCursor:
        return await self._run(sql, lambda cursor: cursor.executemany(sql, parameters))

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        size = self.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []
