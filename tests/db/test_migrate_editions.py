"""The editions revision moves a populated database into edition 2024 without losing a row, on SQLite and
PostgreSQL: drafts, records with their attachments and history, logged questions, the knowledge revision and the
console's audit log are all there afterwards, and the numbering goes on without reusing a reference."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.migrate import downgrade, upgrade
from db.session import make_sessionmaker
from intake.queue import Submission, get_submission, history_of, next_number
from tests.db.test_migrate import empty_engine, empty_url  # noqa: F401, F811 - the fixtures

BEFORE = "c41f0a7e5d2b"  # the head before editions
AT = datetime(2024, 10, 1, 2, 0, tzinfo=UTC)
UPLOAD = {"name": "路演材料.pdf", "path": "uploads/7/ab12.pdf", "size": 1024, "mime_type": "application/pdf",
          "sha256": "0" * 64}


async def _insert(conn: AsyncConnection, name: str, *rows: dict) -> None:
    table = await conn.run_sync(lambda sync: Table(name, MetaData(), autoload_with=sync))
    await conn.execute(table.insert(), list(rows))


async def _rows(conn: AsyncConnection, name: str) -> list[dict]:
    table = await conn.run_sync(lambda sync: Table(name, MetaData(), autoload_with=sync))
    return [dict(r._mapping) for r in (await conn.execute(select(table).order_by(*table.primary_key.columns)))]


async def _populate(engine: AsyncEngine) -> None:
    """What a 2024 deployment holds: two entrants, one submitted record (with an upload and a review step), one
    draft in progress with an upload, a declined question, a knowledge edit, and the console's log of it."""
    async with engine.begin() as conn:
        await _insert(conn, "users", *({"id": i, "channel": "telegram", "external_id": str(i), "display_name": "",
                                        "lang": "zh", "created_at": AT, "updated_at": AT} for i in (1, 2)))
        await _insert(conn, "drafts",
                      {"id": 1, "key": "k1", "user_id": 1, "award_id": "pioneer_product", "status": "submitted",
                       "answers": {"entrant_name": "灵眸 AI 质检相机", "attachments": [UPLOAD]},
                       "progress": {"history": []}, "version": 9, "created_at": AT, "updated_at": AT},
                      {"id": 2, "key": "k2", "user_id": 2, "award_id": "pioneer_person", "status": "open",
                       "answers": {"entrant_name": "王丽", "attachments": [UPLOAD]}, "progress": {"history": []},
                       "version": 3, "created_at": AT, "updated_at": AT})
        await _insert(conn, "submissions",
                      {"id": 17, "reference": "KCXF-2024-00017", "draft_key": "k1", "user_id": 1,
                       "award_id": "pioneer_product", "entrant_name": "灵眸 AI 质检相机",
                       "subject": "参选类别（年度科创先锋产品）+ 灵眸 AI 质检相机",
                       "answers": {"entrant_name": "灵眸 AI 质检相机"}, "attachments": [UPLOAD],
                       "status": "first_review", "created_at": AT, "updated_at": AT, "version": 2})
        await _insert(conn, "submission_history",
                      {"id": 1, "submission_id": 17, "from_status": None, "to_status": "submitted", "note": "",
                       "actor": "user:1", "created_at": AT},
                      {"id": 2, "submission_id": 17, "from_status": "submitted", "to_status": "first_review",
                       "note": "材料齐全", "actor": "staff:alice", "created_at": AT})
        await _insert(conn, "unanswered_questions", {"id": 1, "question": "停车方便吗", "lang": "zh",
                                                     "channel": "telegram", "created_at": AT, "kind": "declined"})
        await _insert(conn, "knowledge_revision", {"id": 1, "revision": 5, "reason": "faq.edit by alice",
                                                   "changed_at": AT})
        await _insert(conn, "audit_log", {"id": 1, "at": AT, "actor": "alice", "action": "status.change",
                                          "target": "KCXF-2024-00017", "before": {"status": "submitted"},
                                          "after": {"status": "first_review"}, "note": "材料齐全", "address": ""})


async def test_a_populated_database_moves_into_edition_2024_without_loss(empty_engine: AsyncEngine):  # noqa: F811
    await upgrade(empty_engine, BEFORE)
    await _populate(empty_engine)
    async with empty_engine.connect() as conn:
        before = {t: await _rows(conn, t) for t in ("users", "submission_history", "audit_log")}
    await upgrade(empty_engine)

    async with empty_engine.connect() as conn:
        assert {t: await _rows(conn, t) for t in before} == before
        drafts = await _rows(conn, "drafts")
        assert [(d["key"], d["edition"], d["answers"]["attachments"]) for d in drafts] == [
            ("k1", 2024, [UPLOAD]), ("k2", 2024, [UPLOAD])]
        [question] = await _rows(conn, "unanswered_questions")
        assert question["edition"] == 2024 and question["question"] == "停车方便吗"
        assert [(r["id"], r["revision"]) for r in await _rows(conn, "knowledge_revision")] == [(2024, 5)]
        assert await _rows(conn, "reference_counters") == [{"edition": 2024, "last_number": 17}]

    sessions = make_sessionmaker(empty_engine)
    async with sessions() as session, session.begin():
        record = await get_submission(session, "KCXF-2024-00017")
        assert isinstance(record, Submission) and record.edition == 2024 and record.attachments == [UPLOAD]
        assert [h.to_status for h in await history_of(session, record)] == ["submitted", "first_review"]
        # The numbering goes on after the highest 2024 reference, and a new edition starts at 1.
        assert await next_number(session, edition=2024) == 18
        assert await next_number(session, edition=2025) == 1

    await downgrade(empty_engine, BEFORE)
    async with empty_engine.connect() as conn:
        assert [(r["id"], r["revision"]) for r in await _rows(conn, "knowledge_revision")] == [(1, 5)]
        assert len(await _rows(conn, "drafts")) == 2 and len(await _rows(conn, "submissions")) == 1
