"""CSV and XLSX exports of the filtered queue: every field, masked per role, formulas defused, audited."""

from __future__ import annotations

import csv
import io

import openpyxl
from sqlalchemy import select

from bot.runtime import Runtime
from console.audit import AuditEntry
from intake import queue
from intake.sensitive import mask
from tests.console.factories import seed
from tests.intake.factories import ID_NUMBER


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would garble the Chinese"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def read_xlsx(content: bytes) -> tuple[list[str], list[dict[str, object]], openpyxl.worksheet.worksheet.Worksheet]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(c) for c in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]], sheet


async def test_csv_holds_the_filtered_entries_with_every_field_masked_for_a_reviewer(client, login, console_runtime):
    entries = await seed(console_runtime, 14)
    await login("reviewer", "li.ming")
    done = await client.get("/queue/export.csv?award=pioneer_person")
    assert done.status_code == 200
    assert done.headers["content-type"] == "text/csv; charset=utf-8"
    assert done.headers["content-disposition"] == 'attachment; filename="kcxf-queue-2024-20241022-0930.csv"'
    rows = read_csv(done.content)
    assert [r["reference"] for r in rows] == [s.reference for s in entries if s.award_id == "pioneer_person"]
    person = next(r for r in rows if r["answers.id_type"] == "resident_id")
    assert person["answers.id_number"] == mask(ID_NUMBER)
    assert person["answers.contact_mobile"] == mask("+8613812345678")
    # Names are not masked: they are what is reviewed.
    assert person["answers.person_name"] == person["entrant_name"] and person["entrant_name"].startswith("张")
    assert person["answers.projects.1.project_name"] == "AI 质检相机研发及产业化"
    assert person["status_label"] == "已提交" and person["award_name"] == "年度科创先锋人物"
    assert ID_NUMBER not in done.content.decode("utf-8-sig")
    sessions = await console_runtime.sessionmaker()
    async with sessions() as session:
        [entry] = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "export.csv"))).all()
    assert entry.actor == "li.ming"
    assert entry.after == {"count": len(rows), "filters": {"award": "pioneer_person"}, "masked": True}


async def test_an_administrator_exports_unmasked(client, login, console_runtime):
    await seed(console_runtime, 7, overseas_every=0)
    await login("admin")
    rows = read_csv((await client.get("/queue/export.csv?award=pioneer_person")).content)
    assert rows[0]["answers.id_number"] == ID_NUMBER and rows[0]["answers.contact_mobile"] == "'+8613812345678"
    header, xrows, _ = read_xlsx((await client.get("/queue/export.xlsx?award=pioneer_person")).content)
    assert xrows[0]["answers.id_number"] == ID_NUMBER


async def test_xlsx_has_the_same_columns_and_masking(client, login, console_runtime):
    entries = await seed(console_runtime, 10)
    await login("reviewer")
    csv_rows = read_csv((await client.get("/queue/export.csv")).content)
    done = await client.get("/queue/export.xlsx")
    assert done.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    header, rows, sheet = read_xlsx(done.content)
    assert header == list(csv_rows[0].keys())
    assert [r["reference"] for r in rows] == [s.reference for s in entries]
    person = next(r for r in rows if r["award_id"] == "pioneer_person")  # from abroad: a passport
    assert person["answers.passport_number"] == mask("E12345678")
    assert person["answers.contact_mobile"] == mask("+447700900123")
    assert sheet.freeze_panes == "B2"


async def test_formulas_typed_by_an_entrant_stay_text(client, login, console_runtime):
    formula = "=1+2 与复旦大学共建机器视觉联合实验室，合作期 2022 年至 2025 年。"  # accepted by the intake as Chinese
    await seed(console_runtime, 1, answers_override={"risk_tech_cooperation": formula})
    await login("reviewer")
    [row] = read_csv((await client.get("/queue/export.csv")).content)
    assert row["answers.risk_tech_cooperation"] == "'" + formula
    header, [xrow], sheet = read_xlsx((await client.get("/queue/export.xlsx")).content)
    column = header.index("answers.risk_tech_cooperation") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.data_type == "s" and cell.value == formula  # text, exactly as typed, not a formula


async def test_export_of_nothing_is_a_header_only_file(client, login, console_runtime: Runtime):
    await seed(console_runtime, 2)
    await login("reviewer")
    content = (await client.get("/queue/export.csv?status=finalist")).content
    assert read_csv(content) == [] and content.decode("utf-8-sig").startswith("reference,award_id,")
    header, xrows, _ = read_xlsx((await client.get("/queue/export.xlsx?status=finalist")).content)
    assert xrows == [] and header[:2] == ["reference", "award_id"]


async def test_a_reviewers_export_of_a_record_whose_award_has_no_form_is_masked(client, login, console_runtime):
    [entry] = await seed(console_runtime, 1, awards=["pioneer_person"], overseas_every=0)
    sessions = await console_runtime.sessionmaker()
    async with sessions() as session, session.begin():
        record = await queue.get_submission(session, entry.reference)
        assert record is not None
        record.award_id = "retired_award"  # an award the current configuration no longer has
    await login("reviewer")
    done = await client.get("/queue/export.csv")
    [row] = read_csv(done.content)
    assert row["award_id"] == "retired_award"
    assert row["answers.id_number"] == mask(ID_NUMBER)
    text = done.content.decode("utf-8-sig")
    assert ID_NUMBER not in text and "13812345678" not in text
