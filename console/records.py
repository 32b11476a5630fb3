"""The queue: the filtered, paginated list of entries, one entry's page, and its form and attachments."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.users import User
from console import audit
from console.deps import ClockDep, Db, Reviewer, RuntimeDep
from console.errors import NoSuchRecord
from console.filters import PAGE_SIZES, REGION_FIELD, QueueFilter
from console.record_view import build_view
from console.staff import Staff, may_see_identifiers
from console.templating import page, request_lang
from intake import queue
from intake.files import StoredFile
from intake.forms import Form, FormChoice
from intake.mail import DOCX_TYPE
from intake.render import render_form
from intake.sensitive import AnswerMask

__all__ = ["Reference", "edition_choices", "load_record", "queue_filter", "render_record", "router",
           "seen_token"]

log = logging.getLogger(__name__)

router = APIRouter()

Reference = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9-]{1,32}$")]


def region_choices(runtime: Runtime) -> dict[str, FormChoice]:
    """The 境内/境外 choices as the forms define them (any form will do: the field is common to all)."""
    for form in runtime.forms.values():
        try:
            return {c.id: c for c in form.field(REGION_FIELD).choices}
        except KeyError:
            continue
    return {}


def queue_filter(request: Request, runtime: Runtime) -> QueueFilter:
    """The filters in the request's query string."""
    return QueueFilter.from_query(request.query_params, editions=runtime.editions, live=runtime.edition.year,
                                  regions=region_choices(runtime))


def seen_token(record: queue.Submission) -> str:
    """What a record page knew of the record: its status and when it last changed (status or answers).

    The review form sends it back; rendering or mailing the form touches neither, so they are no conflict.
    """
    return f"{record.status}@{record.updated_at.isoformat()}"


async def load_record(db: AsyncSession, reference: str) -> queue.Submission:
    """The record with this reference, or the 'no such entry' page."""
    record = await queue.get_submission(db, reference)
    if record is None:
        raise NoSuchRecord
    return record


@router.get("/queue")
async def queue_list(request: Request, staff: Reviewer, db: Db, runtime: RuntimeDep) -> Response:
    """Entries matching the filters, a page at a time, with the counts per status under the other filters."""
    filters = queue_filter(request, runtime)
    tz = runtime.settings.tz
    where = filters.conditions(tz)
    total = await db.scalar(select(func.count()).select_from(queue.Submission).where(*where)) or 0
    pages = max(1, math.ceil(total / filters.per_page))
    current = min(filters.page, pages)
    order = queue.Submission.id.desc() if filters.newest_first else queue.Submission.id
    records = list((await db.scalars(
        select(queue.Submission).where(*where).order_by(order)
        .offset((current - 1) * filters.per_page).limit(filters.per_page)
    )).all())
    by_status = dict((await db.execute(
        select(queue.Submission.status, func.count()).where(*filters.conditions(tz, with_status=False))
        .group_by(queue.Submission.status)
    )).all())
    awards = {a.id: a for a in runtime.campaign_of(filters.edition).awards}
    return page(
        request, "queue.html", filters=filters, editions=edition_choices(runtime), shown_edition=filters.edition,
        live_edition=filters.live,
        edition_href=lambda year: "/queue" + replace(filters, edition=year, award=None, region=None).query(page=1),
        records=records, total=total, page_no=current, pages=pages,
        by_status=by_status, statuses=list(queue.STATUSES.values()), awards=awards,
        regions=region_choices(runtime), page_sizes=PAGE_SIZES, region_field=REGION_FIELD,
        start=(current - 1) * filters.per_page, status_label=queue.status_label,
        href=lambda n: "/queue" + filters.query(page=n),
    )


@router.get("/records/{reference}")
async def record_page(request: Request, reference: Reference, staff: Reviewer, db: Db, runtime: RuntimeDep) -> Response:
    """Everything about one entry: its answers by form section, files, contact, history, and the review form."""
    record = await load_record(db, reference)
    return await render_record(request, record, staff=staff, db=db, runtime=runtime)


async def render_record(
    request: Request, record: queue.Submission, *, staff: Staff, db: AsyncSession, runtime: Runtime,
    error: str | None = None, note: str = "", status_code: int = 200,
) -> Response:
    """The record page (also shown again, with `error`, when a review action is refused)."""
    lang = request_lang(request)
    # A record is read with its own edition's form and award names.
    forms = runtime.forms_of(record.edition)
    form = forms.get(record.award_id)
    today = record.created_at.astimezone(runtime.settings.tz).date()
    masking = None if may_see_identifiers(staff.role) else AnswerMask.of([*forms.values(), *runtime.forms.values()])
    view = build_view(form, record.answers, lang=lang, masking=masking, today=today) if form is not None else None
    user = await db.get(User, record.user_id)
    history = await queue.history_of(db, record)
    entries = await audit.entries_for(db, record.reference)
    try:
        award: Any = runtime.campaign_of(record.edition).award(record.award_id)
    except KeyError:
        award = None
    return page(
        request, "record.html", status_code=status_code, record=record, view=view, award=award, user=user,
        history=history, audit_entries=entries, next_statuses=queue.next_statuses(record.status),
        status_label=queue.status_label, attachments=_attachments(record), error=error, note=note,
        changed=_known_status(request.query_params.get("changed")), needs_more=queue.NEEDS_MORE,
        seen=seen_token(record), live_edition=runtime.edition.year,
    )


def edition_choices(runtime: Runtime) -> list[tuple[int, str, str]]:
    """(year, name, state now) of every edition, newest first, for the edition switch."""
    now = runtime.clock.now()
    return [(e.year, e.campaign.name.zh, e.state(now)) for e in reversed(runtime.editions)]


def _known_status(status: str | None) -> str | None:
    """The status a review redirect announces; anything else in the address is no notice (a crafted link could
    otherwise put words of its own in a green "done" banner)."""
    return status if status in queue.STATUSES else None


def _attachments(record: queue.Submission) -> list[StoredFile | None]:
    files: list[StoredFile | None] = []
    for item in record.attachments:
        try:
            files.append(StoredFile.from_dict(item))
        except (KeyError, TypeError, ValueError):
            files.append(None)
    return files


def _inside(files_dir: Path, relative: str) -> Path | None:
    """The file under the files folder, or None when the stored path would leave it or the file is gone."""
    root = files_dir.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


@router.get("/records/{reference}/form")
async def download_form(
    request: Request, reference: Reference, staff: Reviewer, db: Db, runtime: RuntimeDep, clock: ClockDep
) -> Response:
    """The entry's generated 申报表 (.docx); rendered now if the record has none (an imported record, say)."""
    record = await load_record(db, reference)
    files_dir = runtime.settings.files_dir
    path = _inside(files_dir, record.form_file) if record.form_file else None
    form: Form | None = runtime.forms_of(record.edition).get(record.award_id)
    if path is None:
        if form is None:
            raise NoSuchRecord
        path = await asyncio.to_thread(
            render_form, form=form, answers=record.answers, campaign=runtime.campaign_of(record.edition),
            reference=record.reference,
            submitted_at=record.created_at, out_dir=files_dir / "forms" / record.reference, lang="zh",
        )
        await queue.set_form_file(db, record, str(path.relative_to(files_dir)))
    await audit.record(db, actor=staff.name, action="form.download", target=record.reference, now=clock.now(),
                       address=_address(request))
    await db.commit()
    return FileResponse(path, filename=path.name,
                        media_type=DOCX_TYPE)


@router.get("/records/{reference}/attachments/{index}")
async def download_attachment(
    request: Request, reference: Reference, index: int, staff: Reviewer, db: Db, runtime: RuntimeDep,
    clock: ClockDep,
) -> Response:
    """One of the entry's attachments, under its original name."""
    record = await load_record(db, reference)
    files = _attachments(record)
    stored = files[index] if 0 <= index < len(files) else None
    path = _inside(runtime.settings.files_dir, stored.path) if stored else None
    if stored is None or path is None:
        raise NoSuchRecord
    await audit.record(db, actor=staff.name, action="attachment.download", target=record.reference,
                       note=stored.name, now=clock.now(), address=_address(request))
    await db.commit()
    return FileResponse(path, filename=stored.name, media_type=stored.mime_type)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None
