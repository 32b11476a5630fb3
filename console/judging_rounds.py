"""The committee's judging pages: rounds (open one, follow progress, remind, close), the quantified comparison,
results with the ranking, decisions, and the finalists list as CSV or Excel. Reviewers and administrators only.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console import audit
from console.deps import ClockDep, Db, Reviewer, RuntimeDep
from console.errors import NoSuchRecord
from console.exports import XLSX_TYPE
from console.staff import Staff
from console.templating import page, request_lang
from intake import queue
from intake.queue import StatusError
from judging import rank, rounds
from judging.compare import Comparison, answer_keys, columns_for, compare
from judging.decide import MAX_REASON, decide, finalists, finalists_csv
from judging.models import OPEN, SUBMITTED, Assignment, Round
from judging.remind import remind
from judging.rounds import JUDGING_ROLES, JudgingError
from judging.sheets import finalists_xlsx

__all__ = ["RoundId", "rollback", "router"]

router = APIRouter()

RoundId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


async def rollback(request: Request, db: AsyncSession) -> None:
    """Undo the request's writes and load again what the page needs (a rollback expires it; no lazy loads here)."""
    await db.rollback()
    login = request.state.login
    await db.refresh(login.session)
    await db.refresh(login.staff)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _round(db: AsyncSession, round_id: int) -> Round:
    found = await rounds.get_round(db, round_id)
    if found is None:
        raise NoSuchRecord
    return found


async def _judges(db: AsyncSession) -> list[Staff]:
    return list((await db.scalars(select(Staff).where(Staff.role.in_([r.value for r in JUDGING_ROLES]))
                                  .order_by(Staff.role.desc(), Staff.name))).all())


@router.get("/judging")
async def rounds_page(request: Request, staff: Reviewer, db: Db, runtime: RuntimeDep,
                      error: str | None = None, status_code: int = 200) -> Response:
    """Every round with its progress, and the form that opens a new one."""
    listed = [(r, await rounds.progress(db, r)) for r in await rounds.list_rounds(db)]
    return page(request, "judging/rounds.html", status_code=status_code, listed=listed,
                judges=await _judges(db), scorecards=runtime.scorecards, error=error)


@router.post("/judging/rounds")
async def open_round(
    request: Request, staff: Reviewer, db: Db, runtime: RuntimeDep, clock: ClockDep,
    award: Annotated[str, Form(max_length=40)], stage: Annotated[str, Form(max_length=16)],
    judges: Annotated[list[str] | None, Form()] = None, per_entry: Annotated[str, Form(max_length=4)] = "",
    blind: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Open a round on the award's entries ready for the stage and assign the chosen judges."""
    lang = request_lang(request)
    try:
        chosen = await rounds.resolve_judges(db, judges or [])
        per = int(per_entry) if per_entry.strip() else None
        round_ = await rounds.open_round(db, scorecards=runtime.scorecards, texts=runtime.texts, award_id=award,
                                         stage_id=stage, judges=chosen, per_entry=per, blind=bool(blind),
                                         actor=staff.name, now=clock.now(), address=_address(request))
        await db.commit()
    except ValueError as exc:
        await rollback(request, db)
        message = exc.message.get(lang) if isinstance(exc, JudgingError | StatusError) else str(exc)
        return await rounds_page(request, staff, db, runtime, error=message, status_code=400)
    return RedirectResponse(f"/judging/rounds/{round_.id}?opened=1", status_code=303)


@router.get("/judging/rounds/{round_id}")
async def round_page(request: Request, round_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep) -> Response:
    """Progress per judge and per entry (conflicts shown with the judge's note), reminders, closing, reopening."""
    round_ = await _round(db, round_id)
    cards = (await db.execute(
        select(Assignment.id, Assignment.submission_id, Assignment.judge_name, Assignment.state,
               Assignment.conflict, Assignment.conflict_note).where(Assignment.round_id == round_.id)
        .order_by(Assignment.judge_name)
    )).all()
    by_entry: dict[int, list] = {}
    for card in cards:
        by_entry.setdefault(card.submission_id, []).append(card)
    return page(request, "judging/round.html", round=round_, progress=await rounds.progress(db, round_),
                by_entry=by_entry, scorecards=runtime.scorecards, flash=request.query_params.get("flash"),
                submitted=SUBMITTED, is_open=round_.status == OPEN)


@router.post("/judging/rounds/{round_id}/close")
async def close_round(request: Request, round_id: RoundId, staff: Reviewer, db: Db, clock: ClockDep) -> Response:
    """Stop scoring; the committee can then rank and decide."""
    try:
        await rounds.close_round(db, await _round(db, round_id), actor=staff.name, now=clock.now(),
                                 address=_address(request))
        await db.commit()
    except JudgingError:
        await rollback(request, db)
    return RedirectResponse(f"/judging/rounds/{round_id}/results", status_code=303)


@router.post("/judging/rounds/{round_id}/remind")
async def remind_judges(request: Request, round_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep,
                        clock: ClockDep) -> Response:
    """Mail the judges who are behind."""
    done = await remind(db, await _round(db, round_id), settings=runtime.settings, campaign=runtime.campaign,
                        scorecards=runtime.scorecards, texts=runtime.texts, actor=staff.name, now=clock.now(),
                        address=_address(request))
    await db.commit()
    lang = request_lang(request)
    text = (runtime.texts.t("judging.round.reminded", lang, sent=", ".join(done.sent) or "—",
                            failed=", ".join(done.failed) or "—")
            if done.configured else runtime.texts.t("judging.round.no_smtp", lang))
    return RedirectResponse(f"/judging/rounds/{round_id}?flash={quote(text)}", status_code=303)


@router.post("/judging/assignments/{assignment_id}/reopen")
async def reopen(request: Request, assignment_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep,
                 clock: ClockDep, note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Give a submitted score back to its judge as a draft."""
    assignment = await db.get(Assignment, assignment_id)
    if assignment is None:
        raise NoSuchRecord
    try:
        await rounds.reopen_score(db, assignment, actor=staff.name, now=clock.now(), note=note,
                                  address=_address(request))
        await db.commit()
    except JudgingError:
        await rollback(request, db)
    return RedirectResponse(f"/judging/rounds/{assignment.round_id}", status_code=303)


@router.get("/judging/rounds/{round_id}/compare")
async def compare_page(request: Request, round_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep,
                       sort: str | None = None, order: str = "desc") -> Response:
    """The round's entries' quantitative answers side by side, sortable, each with its percentile."""
    round_ = await _round(db, round_id)
    table = await round_comparison(db, runtime, round_, lang=request_lang(request), sort=sort,
                                   descending=order != "asc")
    return page(request, "judging/compare.html", round=round_, table=table, sort=sort, order=order,
                scorecards=runtime.scorecards)


async def round_comparison(db: AsyncSession, runtime: RuntimeDep, round_: Round, *, lang: str,
                           sort: str | None = None, descending: bool = True,
                           only: int | None = None) -> Comparison:
    """The comparison over a round's entries (`only`: one entry's row of it, for the judge's page)."""
    form, scorecard = runtime.forms[round_.award_id], runtime.scorecards.for_award(round_.award_id)
    entries = await rounds.answers_of(db, round_, answer_keys(columns_for(form, scorecard)))
    return await asyncio.to_thread(compare, entries, form=form, scorecard=scorecard, lang=lang, sort=sort,
                                   descending=descending, only=only)


@router.get("/judging/rounds/{round_id}/results")
async def results_page(request: Request, round_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep,
                       by: str = "total", error: str | None = None, status_code: int = 200) -> Response:
    """Weighted totals, normalised scores, per-dimension means, spread, ranking with ties, and the decision form."""
    round_ = await _round(db, round_id)
    by = by if by in rank.RANK_BY else "total"
    found = await rank.results(db, round_, runtime.scorecards, by=by)  # type: ignore[arg-type]
    stage = runtime.scorecards.stage(round_.stage)
    return page(request, "judging/results.html", status_code=status_code, round=round_, results=found,
                scorecards=runtime.scorecards, stage=stage, status_label=queue.status_label, error=error,
                decided=request.query_params.get("decided"), tz=runtime.settings.tz, chair=staff.jury_chair)


@router.post("/judging/rounds/{round_id}/decide")
async def decide_round(request: Request, round_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep,
                       clock: ClockDep, by: Annotated[str, Form(max_length=16)] = "total") -> Response:
    """Move the chosen entries to the stage's `chosen` status and the others out; every entrant is told."""
    form = await request.form()
    chosen = [str(v) for v in form.getlist("chosen")]
    reasons = {str(k).removeprefix("reason:"): str(v)[:MAX_REASON] for k, v in form.items()
               if str(k).startswith("reason:")}
    round_ = await _round(db, round_id)
    try:
        await decide(db, round_, scorecards=runtime.scorecards, texts=runtime.texts, chosen=chosen, reasons=reasons,
                     actor=staff.name, now=clock.now(), by=by if by in rank.RANK_BY else "total",  # type: ignore[arg-type]
                     address=_address(request))
        await db.commit()
    except (JudgingError, StatusError) as exc:
        await rollback(request, db)
        return await results_page(request, round_id, staff, db, runtime, by=by,
                                  error=exc.message.get(request_lang(request)), status_code=400)
    return RedirectResponse(f"/judging/rounds/{round_id}/results?decided=1", status_code=303)


async def _finalists(request: Request, round_id: int, staff: Staff, db: AsyncSession, runtime: RuntimeDep,
                     clock: ClockDep, fmt: str) -> Response:
    round_ = await _round(db, round_id)
    rows = await finalists(db, round_, runtime.scorecards)
    body = finalists_csv(rows) if fmt == "csv" else await asyncio.to_thread(finalists_xlsx, rows)
    await audit.record(db, actor=staff.name, action="judging.export", target=f"round:{round_.id}", now=clock.now(),
                       address=_address(request), after={"count": len(rows), "format": fmt})
    await db.commit()
    name = f"kcxf-finalists-{round_.award_id}-{round_.stage}-{round_.id}.{fmt}"
    return Response(body, media_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX_TYPE,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/judging/rounds/{round_id}/finalists.csv")
async def finalists_as_csv(request: Request, round_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep,
                           clock: ClockDep) -> Response:
    """The chosen entries, in ranking order with the reasons recorded, as CSV."""
    return await _finalists(request, round_id, staff, db, runtime, clock, "csv")


@router.get("/judging/rounds/{round_id}/finalists.xlsx")
async def finalists_as_xlsx(request: Request, round_id: RoundId, staff: Reviewer, db: Db, runtime: RuntimeDep,
                            clock: ClockDep) -> Response:
    """The chosen entries, in ranking order with the reasons recorded, as an Excel workbook."""
    return await _finalists(request, round_id, staff, db, runtime, clock, "xlsx")


