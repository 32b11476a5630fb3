"""A judge's Excel sheet, written and read back with openpyxl: validation on the score cells, a filled sheet
imported (complete rows submitted, partial ones drafts, a conflict declared), and a wrong one refused line by line
with nothing changed."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from judging import rounds
from judging.models import CONFLICT, DRAFT, PENDING, SUBMITTED, Assignment
from judging.sheets import FIRST_ROW, KEY_ROW, SCORES, SheetRefused, import_sheet, write_sheet
from tests.console.factories import seed
from tests.judging.conftest import OPENED, make_judges

AWARD = "pioneer_product"


def fill(data: bytes, rows: dict[int, dict[str, object]]) -> bytes:
    """Type values into the sheet by column key, as a judge does in Excel (row offsets from the first entry)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[SCORES]
    keys = {c.value: c.column for c in sheet[KEY_ROW] if c.value}
    for offset, values in rows.items():
        for key, value in values.items():
            sheet.cell(FIRST_ROW + offset, keys[key], value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def states(sessions, round_id: int) -> list[tuple[str, str, dict]]:
    async with sessions() as session:
        rows = await session.scalars(select(Assignment).where(Assignment.round_id == round_id).order_by(Assignment.id))
        return [(a.state, a.conflict, dict(a.scores)) for a in rows]


async def test_a_sheet_round_trip(runtime: Runtime, sessions):
    entries = await seed(runtime, 3, awards=(AWARD,), overseas_every=0)
    judge, = await make_judges(sessions, "sun.judge")
    other, = await make_judges(sessions, "qian.judge")
    scorecards = runtime.scorecards
    card = scorecards.for_award(AWARD)
    async with sessions() as session, session.begin():
        round_ = await rounds.open_round(session, scorecards=scorecards, texts=runtime.texts, award_id=AWARD,
                                         stage_id="first", judges=[judge, other], actor="chair", now=OPENED)
        data = await write_sheet(session, round_, judge, scorecards=scorecards)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[SCORES]
    assert [sheet.cell(FIRST_ROW + n, 1).value for n in range(3)] == [e.reference for e in entries]
    keys = [c.value for c in sheet[KEY_ROW]]
    assert sheet.row_dimensions[KEY_ROW].hidden and book["meta"].sheet_state == "hidden"
    whole = [v for v in sheet.data_validations.dataValidation if v.type == "whole"]
    assert len(whole) == len(card.dimensions)
    assert {(v.formula1, v.formula2) for v in whole} == {("1", "10")}
    first_score = openpyxl.utils.get_column_letter(keys.index(f"score:{card.dimensions[0].id}") + 1)
    assert f"{first_score}{FIRST_ROW}:{first_score}{FIRST_ROW + 2}" in str(whole[0].sqref)

    complete = {"conflict": "none", **{f"score:{d.id}": 7 for d in card.dimensions},
                **{f"risk:{r.id}": "none" for r in scorecards.risks}, "recommendation": "yes", "overall": "稳健"}
    partial = {"conflict": "none", f"score:{card.dimensions[0].id}": 9}
    conflict = {"conflict": "conflict", "conflict_note": "家属在该企业任职"}

    # Out of scale, a concern without a note, an entry assigned to nobody here, no declaration: each its own line.
    bad = fill(data, {0: {**complete, f"score:{card.dimensions[1].id}": 12},
                      1: {f"score:{card.dimensions[0].id}": 5},
                      2: {**complete, f"risk:{scorecards.risks[0].id}": "concern"},
                      3: {"reference": "KCXF-2024-09999", **complete}})
    before = await states(sessions, round_.id)
    async with sessions() as session, session.begin():
        with pytest.raises(SheetRefused) as refused:
            await import_sheet(session, bad, scorecards=scorecards, now=OPENED)
    lines = [line.zh for line in refused.value.lines]
    assert lines[0].startswith(f"第 {FIRST_ROW} 行") and "“12”不在评分范围 1–10 内" in lines[0]
    assert lines[1].startswith(f"第 {FIRST_ROW + 1} 行") and "利益冲突" in lines[1]
    assert "有疑虑时请写明原因" in lines[2] and "KCXF-2024-09999 不是分配给评委 sun.judge 的申报" in lines[3]
    assert await states(sessions, round_.id) == before  # nothing changed

    # Another judge uploading this sheet in the console is refused.
    async with sessions() as session, session.begin():
        with pytest.raises(SheetRefused, match="sun.judge"):
            await import_sheet(session, fill(data, {0: complete}), scorecards=scorecards, now=OPENED,
                               only_judge=other)

    good = fill(data, {0: complete, 1: partial, 2: conflict})
    async with sessions() as session, session.begin():
        done = await import_sheet(session, good, scorecards=scorecards, now=OPENED)
    assert (done.submitted, done.drafts, done.conflicts) == (1, 1, 1)
    mine = list(await states(sessions, round_.id))[0::2]  # assignments alternate judges per entry
    assert [(s, c) for s, c, _ in mine] == [(SUBMITTED, "none"), (DRAFT, "none"), (PENDING, CONFLICT)]
    assert mine[0][2] == {d.id: 7 for d in card.dimensions}

    # Sending the same sheet again: the submitted row is refused, so nothing else is taken either.
    async with sessions() as session, session.begin():
        with pytest.raises(SheetRefused, match="已提交"):
            await import_sheet(session, good, scorecards=scorecards, now=OPENED)
    # A closed round takes no sheet.
    async with sessions() as session, session.begin():
        await rounds.close_round(session, await rounds.get_round(session, round_.id), actor="chair", now=OPENED)
    async with sessions() as session, session.begin():
        with pytest.raises(SheetRefused, match="已关闭"):
            await import_sheet(session, fill(data, {1: complete}), scorecards=scorecards, now=OPENED)
