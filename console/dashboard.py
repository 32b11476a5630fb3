"""The dashboard: entries per award and status, and a chart of submissions per day per award."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from console import judging_desk
from console.chart import daily_counts, stacked_bars
from console.deps import AnyStaff, Db, RuntimeDep
from console.records import edition_choices
from console.staff import Role
from console.templating import page, request_lang
from intake.queue import STATUSES, Submission

__all__ = ["router"]

router = APIRouter()


@router.get("/")
async def dashboard(request: Request, staff: AnyStaff, db: Db, runtime: RuntimeDep) -> Response:
    """Counts by award × status and the daily chart; every role sees these figures (no personal data)."""
    if staff.role == Role.judge:
        # An invited judge sees nothing of the queue, not even its counts: their home is their own list.
        return await judging_desk.my_list(request, staff, db, runtime)
    lang = request_lang(request)
    live = runtime.edition.year
    asked = request.query_params.get("edition", "")
    shown = int(asked) if asked.isdecimal() and int(asked) in runtime.editions.years else live
    in_edition = Submission.edition == shown
    rows = (await db.execute(
        select(Submission.award_id, Submission.status, func.count()).where(in_edition)
        .group_by(Submission.award_id, Submission.status)
    )).all()
    counts = {(award, status): n for award, status, n in rows}
    awards = runtime.campaign_of(shown).awards
    days, series = daily_counts(
        (await db.execute(select(Submission.award_id, Submission.created_at).where(in_edition))).all(),
        awards=[(a.id, a.name.get(lang)) for a in awards], tz=runtime.settings.tz,
    )
    chart = stacked_bars(days, series, title=runtime.texts.t("console.dashboard.chart", lang)) if days else None
    return page(
        request, "dashboard.html", editions=edition_choices(runtime), shown_edition=shown, live_edition=live,
        edition_href=lambda year: "/" if year == live else f"/?edition={year}",
        queue_edition="" if shown == live else f"edition={shown}&amp;", awards=awards, statuses=list(STATUSES.values()), counts=counts,
        total=sum(counts.values()),
        award_totals={a.id: sum(n for (award, _), n in counts.items() if award == a.id) for a in awards},
        status_totals={s: sum(n for (_, status), n in counts.items() if status == s) for s in STATUSES},
        chart=chart, series=series, days=days,
        # Maintainers see the figures but not the queue, so the table does not link into it for them.
        links=staff.role != Role.maintainer,
    )
