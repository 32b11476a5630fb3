"""One INSERT … ON CONFLICT for both databases (db.upsert), and no module building its own per dialect."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.receipts import Receipt
from db.base import utcnow
from db.upsert import upsert
from knowledge.revision import KnowledgeRevision

ROOT = Path(__file__).resolve().parents[2]


async def test_upsert_inserts_updates_or_leaves_the_row_on_both_databases(pools) -> None:  # type: ignore[no-untyped-def]
    sessions = pools[0]
    now = utcnow()
    async with sessions() as session, session.begin():
        new = {"key": "k", "created_at": now}
        assert await session.scalar(upsert(session, Receipt, new, key=["key"]).returning(Receipt.key)) == "k"
        # Without set_: the existing row stays and nothing comes back.
        assert await session.scalar(upsert(session, Receipt, new, key=["key"]).returning(Receipt.key)) is None
        values = {"id": 1, "revision": 1, "reason": "first", "changed_at": now}
        bump = {"revision": KnowledgeRevision.revision + 1, "reason": "again"}
        for expected in (1, 2, 3):
            statement = upsert(session, KnowledgeRevision, values, key=["id"],
                               set_=bump if expected > 1 else {"revision": KnowledgeRevision.revision})
            assert await session.scalar(statement.returning(KnowledgeRevision.revision)) == expected
        # A where that does not hold: the row stays as it is and nothing comes back.
        held = upsert(session, KnowledgeRevision, values, key=["id"], set_=bump,
                      where=KnowledgeRevision.revision > 10)
        assert await session.scalar(held.returning(KnowledgeRevision.revision)) is None
        assert await session.scalar(select(KnowledgeRevision.reason)) == "again"


def test_only_db_upsert_builds_dialect_inserts() -> None:
    dialect_insert = re.compile(r"from sqlalchemy\.dialects(\.\w+)? import .*\binsert\b|\b(postgresql|sqlite)\.insert\b")
    offenders = [
        path.relative_to(ROOT).as_posix()
        for package in ("bot", "console", "db", "intake", "knowledge", "config")
        for path in (ROOT / package).rglob("*.py")
        if dialect_insert.search(path.read_text(encoding="utf-8")) and path != ROOT / "db" / "upsert.py"
    ]
    assert offenders == []
