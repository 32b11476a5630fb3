"""The audit log: every staff action — who, what, on which record, when, and the state before and after."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow

__all__ = ["AuditEntry", "entries_for", "recent", "record"]

log = logging.getLogger(__name__)


class AuditEntry(Base):
    """One staff action. `action` is a dotted id (status.change, export.xlsx, login, faq.edit, …)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The staff account's name (kept as text: the log outlives a removed account).
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    # What was acted on: a record's reference, a FAQ id, an account name; "" for the console as a whole.
    target: Mapped[str] = mapped_column(String(128), default="", index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")

    def __repr__(self) -> str:
        return f"AuditEntry({self.actor!r} {self.action} {self.target!r})"


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    address: str | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Write one audit entry in the caller's transaction, so it commits (or not) with the action itself."""
    entry = AuditEntry(at=now or utcnow(), actor=actor, action=action, target=target, before=before, after=after,
                       note=note, address=address or "")
    session.add(entry)
    await session.flush()
    log.info("audit: %s %s %s", actor, action, target)
    return entry


async def entries_for(session: AsyncSession, target: str) -> list[AuditEntry]:
    """What staff did to one target, oldest first."""
    query = select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.at, AuditEntry.id)
    return list((await session.scalars(query)).all())


async def recent(session: AsyncSession, *, limit: int = 50, action_prefix: str | None = None) -> list[AuditEntry]:
    """The latest entries, newest first, optionally only actions starting with a prefix (e.g. 'export.')."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    return list((await session.scalars(query)).all())
