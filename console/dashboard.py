"""The dashboard: how many entries each award has in each status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from console.deps import AnyStaff, Db, RuntimeDep
from console.templating import page
from intake.queue import STATUSES, Submission

__all__ = ["router"]

router = APIRouter()


@router.get("/")
async def dashboard(request: Request, staff: AnyStaff, db: Db, runtime: RuntimeDep) -> Response:
    """Counts by award and status."""
    rows = (await db.execute(
        select(Submission.award_id, Submission.status, func.count()).group_by(Submission.award_id, Submission.status)
    )).all()
    counts = {(award, status): n for award, status, n in rows}
    return page(request, "dashboard.html", awards=runtime.campaign.awards, statuses=list(STATUSES.values()),
                counts=counts, total=sum(counts.values()),
                awards_total={a.id: sum(n for (award, _), n in counts.items() if award == a.id)
                              for a in runtime.campaign.awards})
