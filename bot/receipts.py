"""Receipts of handled events: a key an adapter gives an event is recorded once, so a repeat is dropped.

A channel delivers an event again when it missed the answer to the first delivery (Telegram redelivers an
update a crashed worker fetched but never confirmed, or posts it to a second webhook worker), and a user may
press the same button twice. The engine records the event's keys in the transaction that applies the event:
the state changes and the receipt commit together, so a repeat after the commit is dropped and a repeat after
a crash that lost the transaction is handled as new. The table is shared by every process on the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime
from db.upsert import upsert

__all__ = ["Receipt", "record_once", "seen", "sweep_receipts"]

log = logging.getLogger(__name__)


class Receipt(Base):
    """One handled event key, e.g. "telegram:update:123456" or "telegram:keyboard:42:1007"."""

    __tablename__ = "event_receipts"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"Receipt({self.key!r})"


async def seen(session: AsyncSession | AsyncConnection, keys: Sequence[str]) -> bool:
    """Whether any of `keys` was recorded by a committed transaction (a cheap check before any work)."""
    if not keys:
        return False
    found = await session.scalar(select(Receipt.key).where(Receipt.key.in_(list(keys))).limit(1))
    return found is not None


async def record_once(session: AsyncSession | AsyncConnection, keys: Sequence[str], *, now: datetime) -> bool:
    """Record `keys` in the caller's transaction; False when one was recorded before (the caller rolls back).

    On PostgreSQL an insert of a key another open transaction has just inserted waits for that transaction, so
    of two workers handling one event at once, exactly one sees True.
    """
    fresh = True
    for key in dict.fromkeys(keys):
        inserted = await session.scalar(upsert(session, Receipt, {"key": key, "created_at": now}, key=["key"])
                                        .returning(Receipt.key))
        fresh = fresh and inserted is not None
    return fresh


async def sweep_receipts(session: AsyncSession, *, before: datetime) -> int:
    """Forget receipts older than `before` (no channel redelivers that late); returns how many went."""
    result = await session.execute(delete(Receipt).where(Receipt.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)

