"""The jury chair's sign-off (评审团主席签核): the committee's decisions on a round whose stage asks for it (初审) wait
as a proposal; the chair reads the ranking and the proposal, then signs it off (the entries move, the entrants are
told) or sends it back with a reason. Only an account marked as the jury chair (`kcxf staff add … --chair`,
`kcxf staff chair NAME`) gets past `require_chair`; anyone else is refused with a page saying so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.deps import ClockDep, Db, RuntimeDep, require
from console.errors import Forbidden, NoSuchRecord
from console.judging_rounds import RoundId, rollback
from console.staff import Role, Staff
from console.templating import page, request_lang
from intake import queue
from intake.queue import StatusError
from judging import rank, rounds
from judging.decide import MAX_REASON, send_back, sign_off
from judging.models import PROPOSED, Round
from judging.rounds import JudgingError

__all__ = ["Chair", "NotChair", "awaiting_sign_off", "router"]

router = APIRouter()

_may_judge = require(Role.judge, Role.reviewer)


class NotChair(Forbidden):
    """Logged in with a role that may judge, but not the jury chair."""

    key = "judging.sign_off.not_chair"


async def require_chair(request: Request) -> Staff:
    """The logged-in jury chair; NotChair (403, saying who may) for anyone else."""
    staff = await _may_judge(request)
    if not staff.jury_chair:
        raise NotChair
    return staff


Chair = Annotated[Staff, Depends(require_chair)]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def awaiting_sign_off(db: AsyncSession) -> list[Round]:
    """Rounds whose decisions wait for the jury chair, oldest proposal first."""
    return list((await db.scalars(select(Round).where(Round.status == PROPOSED).order_by(Round.proposed_at))).all())


async def _proposed(db: AsyncSession, round_id: int) -> Round:
    found = await rounds.get_round(db, round_id)
    if found is None:
        raise NoSuchRecord
    return found


@router.get("/judging/rounds/{round_id}/sign-off")
async def sign_off_page(request: Request, round_id: RoundId, staff: Chair, db: Db, runtime: RuntimeDep,
                        error: str | None = None, status_code: int = 200) -> Response:
    """The ranking with the committee's proposed decisions and reasons; sign off, or send back."""
    round_ = await _proposed(db, round_id)
    found = await rank.results(db, round_, runtime.scorecards)
    # An invited expert in the chair reads a blind round as its judges do: by reference only.
    names = not (round_.blind and staff.role == Role.judge)
    return page(request, "judging/sign_off.html", status_code=status_code, round=round_, results=found,
                scorecards=runtime.scorecards, stage=runtime.scorecards.stage(round_.stage),
                status_label=queue.status_label, names=names, error=error, tz=runtime.settings.tz,
                pending=round_.status == PROPOSED, done=request.query_params.get("done"))


@router.post("/judging/rounds/{round_id}/sign-off")
async def sign_off_round(request: Request, round_id: RoundId, staff: Chair, db: Db, runtime: RuntimeDep,
                         clock: ClockDep) -> Response:
    """Sign off the proposal: the entries move and the entrants are told."""
    round_ = await _proposed(db, round_id)
    try:
        await sign_off(db, round_, chair=staff, texts=runtime.texts, now=clock.now(), address=_address(request))
        await db.commit()
    except (JudgingError, StatusError) as exc:
        await rollback(request, db)
        return await sign_off_page(request, round_id, staff, db, runtime, error=exc.message.get(request_lang(request)),
                                   status_code=409)
    return RedirectResponse(f"/judging/rounds/{round_id}/sign-off?done=signed", status_code=303)


@router.post("/judging/rounds/{round_id}/send-back")
async def send_back_round(request: Request, round_id: RoundId, staff: Chair, db: Db, runtime: RuntimeDep,
                          clock: ClockDep, note: Annotated[str, Form(max_length=MAX_REASON)] = "") -> Response:
    """Return the proposal to the committee with the chair's reason; nothing has moved."""
    round_ = await _proposed(db, round_id)
    try:
        await send_back(db, round_, chair=staff, note=note, now=clock.now(), address=_address(request))
        await db.commit()
    except JudgingError as exc:
        await rollback(request, db)
        return await sign_off_page(request, round_id, staff, db, runtime, error=exc.message.get(request_lang(request)),
                                   status_code=400)
    return RedirectResponse(f"/judging/rounds/{round_id}/sign-off?done=returned", status_code=303)
