"""A judge's desk: their list, the conflict declaration, the scoring page (entry left, scorecard right, drafts
saved as they type), the entry's form and attachments (not in blind rounds), and the Excel sheet.

Every route reaches an entry only through `score.assignment_for`, which finds nothing that is not the judge's own
in an open round; anything else is the same "not found" whatever exists.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from bot.runtime import Runtime
from config import Localized
from console import audit
from console.deps import ClockDep, Db, RuntimeDep, require
from console.errors import NoSuchRecord
from console.exports import XLSX_TYPE
from console.judging_chair import awaiting_sign_off
from console.judging_rounds import RoundId, round_comparison
from console.judging_rounds import rollback as rollback
from console.record_view import GroupView, RecordView, SectionView, build_view
from console.records import _attachments, _inside
from console.staff import Role, Staff
from console.templating import page, request_lang
from intake import queue
from intake.mail import DOCX_TYPE
from intake.render import form_filename, render_form
from intake.sensitive import AnswerMask
from judging import rank, score
from judging.blind import Blindfold
from judging.models import CONFLICT, DECIDED, OPEN, SUBMITTED, Assignment, Round
from judging.rank import card_total
from judging.rounds import JudgingError
from judging.sheets import SheetRefused, import_sheet, write_sheet

__all__ = ["Judge", "my_list", "router"]

router = APIRouter()

# Invited experts, and the committee's own staff when they judge 初审 (admin is always admitted by require()).
Judge = Annotated[Staff, Depends(require(Role.judge, Role.reviewer))]
MAX_SHEET = 5 * 1024 * 1024


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _mine(db: AsyncSession, assignment_id: int, staff: Staff) -> tuple[Assignment, Round, queue.Submission]:
    try:
        assignment, round_ = await score.assignment_for(db, assignment_id=assignment_id, judge_id=staff.id)
    except LookupError:
        raise NoSuchRecord from None
    record = await db.get(queue.Submission, assignment.submission_id)
    if record is None or assignment.conflict == CONFLICT:
        raise NoSuchRecord
    return assignment, round_, record


async def my_list(request: Request, staff: Staff, db: AsyncSession, runtime: Runtime, *,
                  flash: str | None = None, problems: list[str] | None = None, status_code: int = 200) -> Response:
    """The judge's open assignments, round by round (also what a judge sees at /)."""
    rows = (await db.execute(
        select(Assignment, Round, queue.Submission.reference, queue.Submission.entrant_name)
        .join(Round, Round.id == Assignment.round_id)
        .join(queue.Submission, queue.Submission.id == Assignment.submission_id)
        .where(Assignment.judge_id == staff.id, Round.status == OPEN)
        .order_by(Round.id, queue.Submission.id)
    )).all()
    by_round: dict[int, tuple[Round, list[Any]]] = {}
    for assignment, round_, reference, entrant in rows:
        by_round.setdefault(round_.id, (round_, []))[1].append(
            (assignment, reference, None if round_.blind else entrant))
    closed = (await db.scalars(
        select(Round).where(Round.status != OPEN, Round.id.in_(
            select(Assignment.round_id).where(Assignment.judge_id == staff.id))).order_by(Round.id.desc())
    )).all()
    return page(request, "judging/mine.html", status_code=status_code, rounds=list(by_round.values()),
                scorecards=runtime.scorecards, flash=flash, problems=problems or [], conflict=CONFLICT,
                submitted=SUBMITTED, closed=closed,
                awaiting=await awaiting_sign_off(db) if staff.jury_chair else [])


@router.get("/judge")
async def judge_home(request: Request, staff: Judge, db: Db, runtime: RuntimeDep) -> Response:
    """The judge's list."""
    return await my_list(request, staff, db, runtime, flash=request.query_params.get("flash"))


@router.post("/judge/assignments/{assignment_id}/declare")
async def declare(request: Request, assignment_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep,
                  clock: ClockDep, conflict: Annotated[str, Form(max_length=8)] = "",
                  note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Declare (no) conflict of interest on one entry; a conflict takes it off the list."""
    assignment, _, _ = await _mine(db, assignment_id, staff)
    try:
        await score.declare(db, assignment, conflict=conflict == "yes", note=note, actor=staff.name, now=clock.now(),
                            address=_address(request))
        await db.commit()
    except JudgingError as exc:
        await rollback(request, db)
        return await my_list(request, staff, db, runtime, problems=[exc.message.get(request_lang(request))],
                             status_code=400)
    if conflict == "yes":
        return RedirectResponse("/judge", status_code=303)
    return RedirectResponse(f"/judge/assignments/{assignment_id}", status_code=303)


def _blindfold(runtime: Runtime, record: queue.Submission, lang: str) -> Blindfold:
    return Blindfold.of(runtime.forms[record.award_id], record.answers, entrant=record.entrant_name,
                        rules=runtime.scorecards.blind, placeholder=runtime.texts.t("judging.score.hidden", lang))


async def _score_page(request: Request, staff: Staff, db: AsyncSession, runtime: Runtime, assignment: Assignment,
                      round_: Round, record: queue.Submission, *, typed: score.CardInput | None = None,
                      problems: list[str] | None = None, flash: str | None = None, status_code: int = 200) -> Response:
    lang = request_lang(request)
    form = runtime.forms[record.award_id]
    today = record.created_at.astimezone(runtime.settings.tz).date()
    blindfold = _blindfold(runtime, record, lang) if round_.blind else None
    masking = AnswerMask.of(runtime.forms.values())
    if blindfold is not None:
        # Blind: the answers that identify the entrant withheld, their values (and any phone, identity number or
        # e-mail address) removed from every other answer, before anything is formatted.
        view = build_view(form, blindfold.answers(record.answers), lang=lang, masking=None, today=today)
    else:
        # A judge never reads identifiers: sensitive fields, and identifiers in free text, are masked.
        view = build_view(form, record.answers, lang=lang, masking=masking, today=today)
    # The judge reads the entry, not its completeness check; answers to fields the form no longer has stay out.
    view = RecordView(sections=[SectionView(title=s.title, parts=[
        p if isinstance(p, GroupView) else replace(p, problem=None) for p in s.parts]) for s in view.sections],
        problems=0, value_lang=view.value_lang, unknown=[])
    table = await round_comparison(db, runtime, round_, lang=lang, only=record.id)
    row = next(iter(table.rows), None)
    # What the entrant wrote about each risk, through the same mask (or blindfold) as the rest of the entry.
    said: dict[str, str] = {}
    for item in runtime.scorecards.risks:
        value = record.answers.get(item.answer) if item.answer else None
        if value:
            said[item.id] = blindfold.text(str(value)) if blindfold else str(masking.value(item.answer, value))
    values = typed or score.CardInput(
        scores={k: str(v) for k, v in assignment.scores.items()}, comments=dict(assignment.comments),
        risk_levels={k: v.get("level", "") for k, v in assignment.risks.items()},
        risk_notes={k: v.get("note", "") for k, v in assignment.risks.items()},
        recommendation=assignment.recommendation or "", overall=assignment.overall)
    return page(request, "judging/score.html", status_code=status_code, assignment=assignment, round=round_,
                record=record, view=view, columns=table.columns, row=row, said=said, values=values,
                scorecard=runtime.scorecards.for_award(record.award_id), scorecards=runtime.scorecards,
                problems=problems or [], flash=flash, locked=assignment.state == SUBMITTED,
                attachments=_attachments(record), score_module=score)


@router.get("/judge/assignments/{assignment_id}")
async def score_page(request: Request, assignment_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep) -> Response:
    """The scoring page: the entry on the left, the scorecard on the right."""
    assignment, round_, record = await _mine(db, assignment_id, staff)
    flash = runtime.texts.t("judging.score.submitted", request_lang(request)) \
        if request.query_params.get("submitted") else None
    return await _score_page(request, staff, db, runtime, assignment, round_, record, flash=flash)


def _card_from(form: FormData, runtime: Runtime, award_id: str) -> score.CardInput:
    card = runtime.scorecards.for_award(award_id)
    return score.CardInput(
        scores={d.id: str(form.get(f"score:{d.id}", "") or "") for d in card.dimensions},
        comments={d.id: str(form.get(f"comment:{d.id}", "") or "") for d in card.dimensions},
        risk_levels={r.id: str(form.get(f"risk:{r.id}", "") or "") for r in runtime.scorecards.risks},
        risk_notes={r.id: str(form.get(f"risk_note:{r.id}", "") or "") for r in runtime.scorecards.risks},
        recommendation=str(form.get("recommendation", "") or ""), overall=str(form.get("overall", "") or ""))


@router.post("/judge/assignments/{assignment_id}")
async def save(request: Request, assignment_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep,
               clock: ClockDep) -> Response:
    """Save the draft, or (the submit button) submit a complete scorecard."""
    assignment, round_, record = await _mine(db, assignment_id, staff)
    data = await request.form()
    card = _card_from(data, runtime, record.award_id)
    submit = data.get("action") == "submit"
    lang = request_lang(request)
    try:
        checked = await score.save_card(db, assignment, card, scorecards=runtime.scorecards, award_id=record.award_id,
                                        submit=submit, actor=staff.name, now=clock.now(), address=_address(request))
    except JudgingError as exc:
        await rollback(request, db)
        assignment, round_, record = await _mine(db, assignment_id, staff)
        return await _score_page(request, staff, db, runtime, assignment, round_, record, typed=card,
                                 problems=[exc.message.get(lang)], status_code=409)
    await db.commit()
    if submit and not checked.problems:
        return RedirectResponse(f"/judge/assignments/{assignment_id}?submitted=1", status_code=303)
    flash = runtime.texts.t("judging.score.saved", lang, time=clock.now().astimezone(runtime.settings.tz)
                            .strftime("%H:%M:%S"))
    return await _score_page(request, staff, db, runtime, assignment, round_, record, typed=card,
                             problems=[p.message.get(lang) for p in checked.problems], flash=flash,
                             status_code=400 if checked.problems else 200)


@router.post("/judge/assignments/{assignment_id}/draft")
async def autosave(request: Request, assignment_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep,
                   clock: ClockDep) -> Response:
    """What the page's script sends as the judge types: the draft, answered with what was not taken."""
    assignment, _, record = await _mine(db, assignment_id, staff)
    lang = request_lang(request)
    try:
        checked = await score.save_card(db, assignment, _card_from(await request.form(), runtime, record.award_id),
                                        scorecards=runtime.scorecards, award_id=record.award_id, submit=False,
                                        actor=staff.name, now=clock.now())
    except JudgingError as exc:
        await rollback(request, db)
        return JSONResponse({"saved": False, "problems": [exc.message.get(lang)]}, status_code=409)
    await db.commit()
    return JSONResponse({"saved": True, "at": clock.now().astimezone(runtime.settings.tz).strftime("%H:%M:%S"),
                         "problems": [p.message.get(lang) for p in checked.problems]})


@router.get("/judge/assignments/{assignment_id}/form")
async def entry_form(request: Request, assignment_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep,
                     clock: ClockDep) -> Response:
    """The entry's 申报表 as a judge may read it: rendered afresh from the answers with identity numbers and phones
    masked, and in a blind round without anything that identifies the entrant (never the committee's stored copy)."""
    _, round_, record = await _mine(db, assignment_id, staff)
    body = await asyncio.to_thread(_judge_form, runtime, record, blind=round_.blind)
    await audit.record(db, actor=staff.name, action="form.download", target=record.reference, now=clock.now(),
                       address=_address(request), note="blind" if round_.blind else "masked")
    await db.commit()
    name = f"{record.reference}.docx" if round_.blind else form_filename(runtime.forms[record.award_id].award,
                                                                          record.entrant_name)
    return Response(body, media_type=DOCX_TYPE,
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _judge_form(runtime: Runtime, record: queue.Submission, *, blind: bool) -> bytes:
    """The 申报表 in Chinese, as the committee's copy is, from the answers a judge may read; never stored."""
    form = runtime.forms[record.award_id]
    answers = (_blindfold(runtime, record, "zh").answers(record.answers) if blind
               else AnswerMask.of(runtime.forms.values()).answers(record.answers))
    with tempfile.TemporaryDirectory(prefix="kcxf-judge-") as folder:
        path = render_form(form=form, answers=answers, campaign=runtime.campaign, reference=record.reference,
                           submitted_at=record.created_at, out_dir=Path(folder), lang="zh")
        return path.read_bytes()


@router.get("/judge/assignments/{assignment_id}/attachments/{index}")
async def entry_attachment(request: Request, assignment_id: RoundId, index: int, staff: Judge, db: Db,
                           runtime: RuntimeDep, clock: ClockDep) -> Response:
    """One of the entry's attachments (not in a blind round: a file's contents may name the entrant)."""
    _, round_, record = await _mine(db, assignment_id, staff)
    files = _attachments(record)
    stored = files[index] if 0 <= index < len(files) and not round_.blind else None
    path = _inside(runtime.settings.files_dir, stored.path) if stored else None
    if stored is None or path is None:
        raise NoSuchRecord
    await audit.record(db, actor=staff.name, action="attachment.download", target=record.reference,
                       note=stored.name, now=clock.now(), address=_address(request))
    await db.commit()
    return FileResponse(path, filename=stored.name, media_type=stored.mime_type)


async def _my_round(db: AsyncSession, round_id: int, staff: Staff) -> Round:
    round_ = await db.get(Round, round_id)
    mine = await db.scalar(select(Assignment.id).where(Assignment.round_id == round_id,
                                                       Assignment.judge_id == staff.id).limit(1))
    if round_ is None or mine is None or round_.status != OPEN:
        raise NoSuchRecord
    return round_


@router.get("/judge/rounds/{round_id}/results")
async def my_results(request: Request, round_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep) -> Response:
    """Once a round the judge sat on is closed: every entry's rank, totals and dimension means, with the judge's own
    scores beside them. No other judge's name or card; in a blind round, references only."""
    round_ = await db.get(Round, round_id)
    mine = (await db.scalars(select(Assignment).where(Assignment.round_id == round_id,
                                                      Assignment.judge_id == staff.id))).all()
    if round_ is None or not mine or round_.status == OPEN:
        raise NoSuchRecord
    found = await rank.results(db, round_, runtime.scorecards)
    own = {a.submission_id: a for a in mine if a.state == SUBMITTED and a.conflict != CONFLICT}
    totals = {entry: card_total(a.scores, found.scorecard) for entry, a in own.items()}
    return page(request, "judging/verdict.html", round=round_, results=found, scorecards=runtime.scorecards,
                own=own, totals=totals, decided=round_.status == DECIDED, status_label=queue.status_label)


@router.get("/judge/rounds/{round_id}/sheet.xlsx")
async def my_sheet(request: Request, round_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep) -> Response:
    """The judge's own Excel scoring sheet for a round."""
    round_ = await _my_round(db, round_id, staff)
    body = await write_sheet(db, round_, staff, scorecards=runtime.scorecards)
    name = f"kcxf-scores-{round_.id}-{staff.name}.xlsx"
    return Response(body, media_type=XLSX_TYPE, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.post("/judge/rounds/{round_id}/sheet")
async def upload_sheet(request: Request, round_id: RoundId, staff: Judge, db: Db, runtime: RuntimeDep,
                       clock: ClockDep, sheet: Annotated[UploadFile, File()]) -> Response:
    """Import the judge's filled sheet: all of it, or nothing with every problem listed."""
    await _my_round(db, round_id, staff)
    lang = request_lang(request)
    data = await sheet.read(MAX_SHEET + 1)
    try:
        if len(data) > MAX_SHEET:
            raise SheetRefused([Localized(zh="文件超过 5 MB", en="The file is over 5 MB")])
        done = await import_sheet(db, data, scorecards=runtime.scorecards, now=clock.now(), only_judge=staff,
                                  address=_address(request))
        await db.commit()
    except SheetRefused as exc:
        await rollback(request, db)
        return await my_list(request, staff, db, runtime, flash=runtime.texts.t("judging.mine.refused", lang),
                             problems=[line.get(lang) for line in exc.lines], status_code=400)
    text = runtime.texts.t("judging.mine.uploaded", lang, submitted=done.submitted, drafts=done.drafts,
                           conflicts=done.conflicts)
    return RedirectResponse(f"/judge?flash={quote(text)}", status_code=303)

