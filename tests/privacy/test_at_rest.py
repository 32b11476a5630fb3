"""A full intake and submission: no identity number or phone in clear in the database files or in any log line,
while the entrant's summary, the generated 申报表 and the committee's mail carry the real values."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest
from docx import Document as Docx
from sqlalchemy import select

from bot.replies import DocumentOut, TextOut
from config import Settings
from intake.forms import Form
from intake.queue import Submission
from knowledge.unanswered import UnansweredQuestion
from tests.intake.factories import ID_NUMBER
from tests.intake.test_flow import Entrant, _declare_and_submit, _engine, _text, forms  # noqa: F401
from tests.intake.test_mail import serve, smtp_settings

PASSPORT = "E12345678"
# As typed in tests/intake/factories.py: the contact's mobile and the nominating expert's ("139 1234 5678").
CONTACT, EXPERT = "13812345678", "13912345678"
# Every form in which the values could sit in a file: typed, stored (E.164), shown grouped (+86 138 1234 5678).
NEEDLES = (ID_NUMBER, ID_NUMBER.lower(), PASSPORT, CONTACT, EXPERT, "138 1234 5678", "139 1234 5678")


def docx_text(path: Path) -> str:
    document = Docx(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def database_cells(database: Path) -> list[tuple[str, str, str]]:
    """(table, column, text) of every cell of every table, read with the sqlite3 module."""
    found = []
    with sqlite3.connect(database) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from sqlite_master
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                        found.append((table, column, text))
    return found


async def test_a_full_intake_leaves_no_identifier_in_clear_at_rest_or_in_the_logs(
    sessionmaker, kb, texts, campaign, clock, settings: Settings, forms: dict[str, Form],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy holds its loggers at WARNING unless told: INFO shows every statement with the parameters that
    # go into the database. (Its DEBUG also shows rows as the model reads them, opened: test_masking.py shows
    # the log filter masking those.)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    for collector, port in serve():
        engine = _engine(sessionmaker, kb, texts, campaign, clock, smtp_settings(settings, port), forms)
        form = forms["pioneer_person"]
        # An expert-nominated person with a PRC identity card: identity number and two mobiles.
        resident = Entrant(engine, form, user_id="resident")
        await resident.to_form()
        # A question typed with the number in it is answered, but neither the answerer nor the log keeps it.
        await resident.say(f"我的身份证号是 {ID_NUMBER}，可以报名吗？")
        await resident.fill(typed={"nomination": "专家推荐"})
        summary = _text(resident.log[-1:])
        assert ID_NUMBER in summary and "+86 138 1234 5678" in summary and "+86 139 1234 5678" in summary
        replies = await _declare_and_submit(resident)
        [document] = [r for r in replies if isinstance(r, DocumentOut)]
        on_form = await asyncio.to_thread(docx_text, Path(document.path))
        assert ID_NUMBER in on_form and "138 1234 5678" in on_form and "139 1234 5678" in on_form
        # A passport holder.
        traveller = Entrant(engine, form, user_id="traveller")
        await traveller.to_form()
        await traveller.fill(typed={"id_type": "护照"})
        assert PASSPORT in _text(traveller.log[-1:])
        replies = await _declare_and_submit(traveller)
        [document] = [r for r in replies if isinstance(r, DocumentOut)]
        assert PASSPORT in await asyncio.to_thread(docx_text, Path(document.path))
        # The committee's mail: the contact's number in the body, the real values on the attached form.
        assert len(collector.messages) == 2
        message = collector.messages[0].message
        body = message.get_body(preferencelist=("plain",))
        assert body is not None and "+86" + CONTACT in body.get_content()
        [attached] = [p for p in message.iter_attachments() if p.get_filename().endswith(".docx")]
        sent_form = Path(settings.data_dir) / "mailed.docx"
        sent_form.write_bytes(attached.get_payload(decode=True))
        assert ID_NUMBER in await asyncio.to_thread(docx_text, sent_form)

    async with sessionmaker() as session:
        records = list(await session.scalars(select(Submission).order_by(Submission.id)))
        # Through the model the committee reads the real values (the accessor the console uses).
        assert records[0].answers["id_number"] == ID_NUMBER and records[1].answers["passport_number"] == PASSPORT
        assert records[0].answers["contact_mobile"] == "+86" + CONTACT
        [question] = list(await session.scalars(select(UnansweredQuestion)))
        assert "身份证号" in question.question and ID_NUMBER[-4:] in question.question

    database = settings.data_dir / "kcxf.db"
    cells = database_cells(database)
    assert {table for table, _, _ in cells} >= {"drafts", "submissions", "users", "conversation_states",
                                                "submission_history", "unanswered_questions"}
    leaks = [(table, column) for table, column, text in cells for needle in NEEDLES if needle in text]
    assert leaks == []
    # Nor in the files themselves (free pages, the write-ahead log): nothing was ever written in clear.
    for path in database.parent.glob("kcxf.db*"):
        raw = path.read_bytes()
        assert not [n for n in NEEDLES if n.encode() in raw], path.name

    sql = [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy.engine")]
    # The statements that carry the answers were logged with their parameters, and rows as they were read.
    assert any("INSERT INTO submissions" in m for m in sql) and any("$sealed" in m for m in sql)
    logged = [r for r in caplog.records for n in NEEDLES if n in r.getMessage() or n in (r.exc_text or "")]
    assert logged == [], [(r.name, r.getMessage()[:200]) for r in logged]
    assert not [r for r in replies if isinstance(r, TextOut) and "出错" in r.text]
