"""Excel for judges who score there: a judge's sheet (their entries, the dimensions, the scale, data validation on
every score cell), read back with a line-by-line refusal of anything wrong and no change at all in that case;
and the finalists list as a workbook.

The machine-readable column keys sit in a hidden row and the round and judge in a hidden sheet, so a judge may
retitle, colour or resize anything they see without breaking the import.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config import Localized
from console.staff import Staff, get_staff
from intake import queue
from judging.decide import COLUMNS, Finalist
from judging.models import CONFLICT, NO_CONFLICT, OPEN, SUBMITTED, UNDECLARED, Assignment, Round
from judging.score import CONCERN, NONE, CardInput, check_card, declare, save_card
from judging.scorecards import Scorecards

__all__ = ["Imported", "SheetRefused", "finalists_xlsx", "import_sheet", "write_sheet"]

log = logging.getLogger(__name__)

SCORES, GUIDE, META = "评分 Scores", "说明 Guide", "meta"
KEY_ROW, HEADER_ROW, FIRST_ROW = 3, 4, 5
_EXCEL_MAX = 32_767


def _text(value: Any) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))[:_EXCEL_MAX]


async def write_sheet(session: AsyncSession, round_: Round, judge: Staff, *, scorecards: Scorecards) -> bytes:
    """The judge's scoring sheet for a round: one row per entry still to score (conflicts and submitted left out)."""
    campaign = scorecards.campaign
    scorecard = scorecards.for_award(round_.award_id)
    rows = (await session.execute(
        select(Assignment, queue.Submission.reference, queue.Submission.entrant_name)
        .join(queue.Submission, queue.Submission.id == Assignment.submission_id)
        .where(Assignment.round_id == round_.id, Assignment.judge_id == judge.id,
               Assignment.conflict != CONFLICT, Assignment.state != SUBMITTED)
        .order_by(queue.Submission.id)
    )).all()
    book = Workbook()
    sheet = book.active
    sheet.title = SCORES
    award, stage = campaign.award(round_.award_id).name, scorecards.stage(round_.stage).name
    sheet["A1"] = _text(f"{campaign.name.zh} · {award.zh} · {stage.zh} · 评委 {judge.name} · 第 {round_.id} 轮")
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = ("每行一份申报：先在“利益冲突”选 none（无）或 conflict（有，并写明原因），再为每个维度打分（整数），"
                   "风险诊断选 none 或 concern（有疑虑须写明），选择总体推荐。填完整的行会提交，未填完的行存为草稿。"
                   " / One row per entry: declare a conflict (none or conflict, with a note), score every dimension "
                   "(whole numbers), answer each risk item (none or concern, with a note), choose a recommendation. "
                   "Complete rows are submitted; incomplete ones are kept as drafts.")
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[2].height = 48
    columns: list[tuple[str, str]] = [("reference", "编号 Reference")]
    if not round_.blind:
        columns.append(("entrant", "参选者 Entrant"))
    columns += [("conflict", "利益冲突 Conflict"), ("conflict_note", "冲突说明 Conflict note")]
    columns += [(f"score:{d.id}", f"{d.name.zh} {d.name.en} ({d.scale})") for d in scorecard.dimensions]
    columns += [(f"risk:{r.id}", f"风险 {r.name.zh} {r.name.en}") for r in scorecards.risks]
    columns += [(f"risk_note:{r.id}", f"说明 {r.name.zh} note") for r in scorecards.risks]
    columns += [("recommendation", "总体推荐 Recommendation"), ("overall", "总体评语 Overall comment")]
    columns += [(f"comment:{d.id}", f"评语 {d.name.zh} comment") for d in scorecard.dimensions]
    bold, head = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    for n, (key, title) in enumerate(columns, start=1):
        sheet.cell(KEY_ROW, n, key)
        cell = sheet.cell(HEADER_ROW, n, title)
        cell.font, cell.fill = bold, head
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(n)].width = 18 if key.startswith("score:") else 24
    sheet.row_dimensions[KEY_ROW].hidden = True
    sheet.freeze_panes = sheet.cell(FIRST_ROW, 3 if not round_.blind else 2)
    for offset, (assignment, reference, entrant) in enumerate(rows):
        r = FIRST_ROW + offset
        values: dict[str, Any] = {"reference": reference, "entrant": entrant,
                                  "conflict": "" if assignment.conflict == UNDECLARED else assignment.conflict,
                                  "recommendation": assignment.recommendation or "", "overall": assignment.overall}
        values |= {f"score:{k}": v for k, v in assignment.scores.items()}
        values |= {f"comment:{k}": v for k, v in assignment.comments.items()}
        values |= {f"risk:{k}": v.get("level", "") for k, v in assignment.risks.items()}
        values |= {f"risk_note:{k}": v.get("note", "") for k, v in assignment.risks.items()}
        for n, (key, _) in enumerate(columns, start=1):
            value = values.get(key, "")
            cell = sheet.cell(r, n, value if isinstance(value, int) else _text(value) or None)
            if isinstance(value, str):
                cell.data_type = "s"  # an entrant's name starting with "=" stays text
    last = FIRST_ROW + max(len(rows), 1) - 1

    def validate(key_prefix: str, validation: DataValidation) -> None:
        for n, (key, _) in enumerate(columns, start=1):
            if key.startswith(key_prefix):
                letter = get_column_letter(n)
                validation.add(f"{letter}{FIRST_ROW}:{letter}{last}")
        sheet.add_data_validation(validation)

    for d in scorecard.dimensions:
        validate(f"score:{d.id}", DataValidation(
            type="whole", operator="between", formula1=str(d.scale.min), formula2=str(d.scale.max),
            showErrorMessage=True, errorTitle="评分范围 Scale",
            error=f"{d.name.zh}：请填 {d.scale} 的整数 / {d.name.en}: a whole number from {d.scale}"))
    validate("risk:", DataValidation(type="list", formula1=f'"{NONE},{CONCERN}"', showErrorMessage=True))
    validate("conflict", DataValidation(type="list", formula1=f'"{NO_CONFLICT},{CONFLICT}"', showErrorMessage=True))
    validate("recommendation", DataValidation(
        type="list", formula1='"' + ",".join(r.id for r in scorecards.recommendations) + '"', showErrorMessage=True))
    _guide(book.create_sheet(GUIDE), scorecards, round_)
    meta = book.create_sheet(META)
    meta.append(["round", round_.id])
    meta.append(["judge", judge.name])
    meta.append(["award", round_.award_id])
    meta.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _guide(sheet: Any, scorecards: Scorecards, round_: Round) -> None:
    scorecard = scorecards.for_award(round_.award_id)
    sheet.append(["维度 Dimension", "看什么 What to look at", "评分 Scale", "权重 Weight"])
    for d in scorecard.dimensions:
        sheet.append([f"{d.name.zh} {d.name.en}", f"{d.guidance.zh}\n{d.guidance.en}", str(d.scale), d.weight])
    sheet.append([])
    sheet.append(["风险诊断 Risk item", "看什么 What to look at", "none / concern"])
    for r in scorecards.risks:
        sheet.append([f"{r.name.zh} {r.name.en}", f"{r.guidance.zh}\n{r.guidance.en}"])
    sheet.append([])
    sheet.append(["总体推荐 Recommendation", "填写 Enter"])
    for rec in scorecards.recommendations:
        sheet.append([f"{rec.name.zh} {rec.name.en}", rec.id])
    for letter, width in (("A", 30), ("B", 60), ("C", 14), ("D", 10)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


class SheetRefused(ValueError):
    """The sheet cannot be imported; `lines` says why, one line per problem, and nothing was changed."""

    def __init__(self, lines: Sequence[Localized]) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(f"{line.zh} / {line.en}" for line in self.lines))


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import did."""

    round_id: int
    judge: str
    submitted: int
    drafts: int
    conflicts: int


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


async def import_sheet(session: AsyncSession, data: bytes, *, scorecards: Scorecards, now: datetime,
                       only_judge: Staff | None = None, address: str | None = None) -> Imported:
    """Check every row, then store them all (complete rows submitted, others drafts), or refuse and store nothing.

    `only_judge`: the sheet must be this judge's (a judge uploading in the console); the CLI passes None.
    """

    def line(zh: str, en: str) -> Localized:
        return Localized(zh=zh, en=en)

    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
        sheet, meta = book[SCORES], book[META]
    except Exception as exc:  # openpyxl raises many kinds for a file that is not its workbook
        log.info("not a scoring sheet: %s", exc)
        raise SheetRefused([line("这不是评分表（请使用导出的 .xlsx 文件）",
                                 "This is not a scoring sheet (use the .xlsx file that was written for you)")]) from None
    info = {str(row[0]): row[1] for row in meta.iter_rows(values_only=True) if row and row[0]}
    round_ = await session.get(Round, int(info.get("round") or 0))
    judge = await get_staff(session, str(info.get("judge") or ""))
    if round_ is None or judge is None:
        raise SheetRefused([line("评分表中的轮次或评委不存在", "The sheet's round or judge does not exist")])
    if only_judge is not None and judge.id != only_judge.id:
        raise SheetRefused([line(f"这是评委 {judge.name} 的评分表，不是您的", f"This is {judge.name}'s sheet, not yours")])
    if round_.status != OPEN:
        raise SheetRefused([line(f"第 {round_.id} 轮评审已关闭，不再接受评分",
                                 f"Round #{round_.id} is closed; no more scores are taken")])
    keys = [str(c.value) if c.value is not None else "" for c in sheet[KEY_ROW]]
    assigned = {reference: a for a, reference in (await session.execute(
        select(Assignment, queue.Submission.reference)
        .join(queue.Submission, queue.Submission.id == Assignment.submission_id)
        .where(Assignment.round_id == round_.id, Assignment.judge_id == judge.id)
    )).all()}
    scorecard = scorecards.for_award(round_.award_id)
    problems: list[Localized] = []
    plan: list[tuple[Assignment, str, str, CardInput]] = []
    for number, values in enumerate(sheet.iter_rows(min_row=FIRST_ROW, values_only=True), start=FIRST_ROW):
        row = {key: _cell_text(v) for key, v in zip(keys, values, strict=False) if key}
        reference = row.get("reference", "").upper()
        card = CardInput(
            scores={k.split(":", 1)[1]: v for k, v in row.items() if k.startswith("score:")},
            comments={k.split(":", 1)[1]: v for k, v in row.items() if k.startswith("comment:")},
            risk_levels={k.split(":", 1)[1]: v for k, v in row.items() if k.startswith("risk:")},
            risk_notes={k.split(":", 1)[1]: v for k, v in row.items() if k.startswith("risk_note:")},
            recommendation=row.get("recommendation", ""), overall=row.get("overall", ""))
        conflict, note = row.get("conflict", ""), row.get("conflict_note", "")
        if not reference and card.is_empty() and not conflict:
            continue
        where = f"第 {number} 行", f"Row {number}"
        assignment = assigned.get(reference)
        if assignment is None:
            problems.append(line(f"{where[0]}：{reference or '（无编号）'} 不是分配给评委 {judge.name} 的申报",
                                 f"{where[1]}: {reference or '(no reference)'} is not assigned to {judge.name}"))
            continue
        if card.is_empty() and not conflict:
            continue
        if assignment.state == SUBMITTED:
            problems.append(line(f"{where[0]}：{reference} 的评分已提交，需组委会退回后才能修改",
                                 f"{where[1]}: {reference} is submitted; the committee must reopen it first"))
            continue
        if assignment.conflict == CONFLICT:
            problems.append(line(f"{where[0]}：已就 {reference} 声明利益冲突，不能评分",
                                 f"{where[1]}: a conflict was declared on {reference}; it cannot be scored"))
            continue
        if assignment.conflict == UNDECLARED:
            if conflict not in (NO_CONFLICT, CONFLICT):
                problems.append(line(f"{where[0]}：请先在“利益冲突”列填 none 或 conflict",
                                     f"{where[1]}: declare a conflict first (none or conflict)"))
                continue
            if conflict == CONFLICT and not note:
                problems.append(line(f"{where[0]}：声明利益冲突时请写明原因", f"{where[1]}: say what the conflict is"))
                continue
            if conflict == CONFLICT and not card.is_empty():
                problems.append(line(f"{where[0]}：声明利益冲突的申报不能评分",
                                     f"{where[1]}: an entry with a declared conflict cannot be scored"))
                continue
        checked = check_card(card, scorecard=scorecard, scorecards=scorecards)
        problems += [line(f"{where[0]}：{p.message.zh}", f"{where[1]}: {p.message.en}") for p in checked.problems]
        plan.append((assignment, conflict if assignment.conflict == UNDECLARED else "", note, card))
    if problems:
        raise SheetRefused(problems)
    submitted = drafts = conflicts = 0
    for assignment, conflict, note, card in plan:
        if conflict:
            await declare(session, assignment, conflict=conflict == CONFLICT, note=note, actor=judge.name, now=now,
                          address=address)
            if conflict == CONFLICT:
                conflicts += 1
                continue
        if card.is_empty():
            continue
        checked = await save_card(session, assignment, card, scorecards=scorecards, award_id=round_.award_id,
                                  submit=check_card(card, scorecard=scorecard, scorecards=scorecards).complete,
                                  actor=judge.name, now=now, address=address, via="sheet")
        if checked.complete:
            submitted += 1
        else:
            drafts += 1
    log.info("sheet of %s for round %s: %d submitted, %d drafts, %d conflicts", judge.name, round_.id, submitted,
             drafts, conflicts)
    return Imported(round_id=round_.id, judge=judge.name, submitted=submitted, drafts=drafts, conflicts=conflicts)


def finalists_xlsx(rows: Sequence[Finalist]) -> bytes:
    """The finalists list as a workbook, every cell text (nothing an entrant typed runs as a formula)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("finalists")

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=_text(value))
        cell.data_type = "s"  # "=…" stays text
        return cell

    sheet.append([text(c) for c in COLUMNS])
    for finalist in rows:
        values = finalist.row()
        sheet.append([text(values[c]) for c in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
