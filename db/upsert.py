"""INSERT … ON CONFLICT: both databases have it, but SQLAlchemy builds it per dialect; one place chooses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Insert, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

__all__ = ["upsert"]

_INSERTS = {"sqlite": sqlite_insert, "postgresql": pg_insert}


def upsert(
    bind: AsyncSession | AsyncConnection,
    model: Any,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    set_: Mapping[str, Any] | None = None,
    where: ColumnElement[bool] | None = None,
) -> Insert:
    """INSERT `values` into `model`; a row with the same `key` columns is updated with `set_` (where `where`
    holds), or, without `set_`, left as it is and nothing is inserted.

    Only SQLite and PostgreSQL are supported. On another dialect a statement without `set_` is a plain INSERT
    (a duplicate is then an IntegrityError, which the engine runs again as a conflict); one with `set_` cannot
    be written and raises NotImplementedError.
    """
    dialect = (bind if isinstance(bind, AsyncConnection) else bind.get_bind()).dialect.name
    make = _INSERTS.get(dialect)
    if make is None:
        if set_ is None:
            return insert(model).values(dict(values))
        raise NotImplementedError(f"an upsert into {model} needs SQLite or PostgreSQL, not {dialect}")
    statement = make(model).values(dict(values))
    if set_ is None:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    return statement.on_conflict_do_update(index_elements=list(key), set_=dict(set_), where=where)
