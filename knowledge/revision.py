"""The knowledge revision: one counter in the database, bumped by every FAQ or document change.

Chroma holds the knowledge; every process that answers also keeps in-memory pieces built from it (BM25, the
FAQ tables). A running bot compares this counter with the one it built from (at most once every
`Settings.knowledge_check_s`) and rebuilds when it moved, so an edit made in the console or with `kcxf kb …`
reaches it without a restart. One short indexed read per check; the counter lives in the database because
every process of a deployment already shares it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow
from db.upsert import upsert

__all__ = ["DbRevisions", "KnowledgeRevision", "bump_revision", "read_revision"]

log = logging.getLogger(__name__)



class KnowledgeRevision(Base):
    """One row per edition counting its knowledge changes, with what the last one was."""

    __tablename__ = "knowledge_revision"

    # The edition's year: each edition has its own knowledge base, and an edit of one leaves the others be.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def read_revision(session: AsyncSession, *, edition: int) -> int:
    """The current revision of an edition's knowledge (0 before the first change)."""
    value = await session.scalar(select(KnowledgeRevision.revision).where(KnowledgeRevision.id == edition))
    return int(value or 0)


async def bump_revision(session: AsyncSession, *, edition: int, reason: str) -> int:
    """Count one change in the caller's transaction and return the new revision."""
    # One upsert (INSERT … ON CONFLICT DO UPDATE SET revision = revision + 1) is atomic on SQLite and
    # PostgreSQL alike: two editors in different processes never get the same number, and the first change
    # creates the row.
    values = {"id": edition, "revision": 1, "reason": reason[:200], "changed_at": utcnow()}
    stmt = upsert(session, KnowledgeRevision, values, key=["id"], set_={
        "revision": KnowledgeRevision.revision + 1, "reason": values["reason"], "changed_at": values["changed_at"],
    }).returning(KnowledgeRevision.revision)
    value = int((await session.execute(stmt)).scalar_one())
    log.info("knowledge revision %d: %s", value, reason)
    return value


class DbRevisions:
    """An edition's revision counter on the process's database, opened lazily (sessions are made in the loop)."""

    def __init__(self, sessions: Callable[[], Awaitable[async_sessionmaker[AsyncSession]]], *, edition: int) -> None:
        self._sessions = sessions
        self.edition = edition

    async def current(self) -> int:
        """The revision as the database has it now."""
        maker = await self._sessions()
        async with maker() as session:
            return await read_revision(session, edition=self.edition)

    async def bump(self, *, reason: str) -> int:
        """Count one change (committed before returning) and return the new revision."""
        maker = await self._sessions()
        async with maker() as session, session.begin():
            return await bump_revision(session, edition=self.edition, reason=reason)
