"""Review: moving an entry through 初审 and 终审, telling the entrant, and writing it to the audit log.

The page sends when the record last changed (its status or its answers) with the form: if another staff member,
or the entrant resubmitting, changed it since the page was loaded — or does so while this change is being
written (the row's version column) — the change is refused with what happened instead. Rendering the form or
mailing it touches neither, so they never cause a false alarm.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from console import audit
from console.deps import ClockDep, Db, Reviewer, RuntimeDep
from console.records import Reference, load_record, render_record, seen_token
from console.templating import request_lang
from intake import notify, queue

__all__ = ["MAX_NOTE", "router"]

log = logging.getLogger(__name__)

router = APIRouter()

MAX_NOTE = 2000


@router.post("/records/{reference}/status")
async def change_status(
    request: Request,
    reference: Reference,
    staff: Reviewer,
    db: Db,
    runtime: RuntimeDep,
    clock: ClockDep,
    to: Annotated[str, Form(max_length=32)],
    seen: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=MAX_NOTE * 2)] = "",
) -> Response:
    """Move the entry to `to` with an optional note; the entrant is notified in their own language."""
    texts, lang = runtime.texts, request_lang(request)
    record = await load_record(db, reference)
    note = note.strip()

    async def refuse(message: str, status_code: int) -> Response:
        return await render_record(request, record, staff=staff, db=db, runtime=runtime, error=message, note=note,
                                   status_code=status_code)

    before = {"status": record.status, "version": record.version}
    if seen_token(record) != seen:
        return await refuse(texts.t("console.review.conflict", lang, status=queue.status_label(record.status).get(lang),
                                    when=record.updated_at.astimezone(runtime.settings.tz).strftime("%H:%M")), 409)
    if len(note) > MAX_NOTE:
        return await refuse(texts.t("console.review.note_too_long", lang, limit=MAX_NOTE), 400)
    if to == queue.NEEDS_MORE and not note:
        # The note is what the entrant's chat tells them to add.
        return await refuse(texts.t("console.review.needs_more_note", lang), 400)
    try:
        changed = await queue.change_status(db, reference=record.reference, to_status=to, note=note,
                                            actor=f"staff:{staff.name}", now=clock.now())
        await notify.notify_status(db, submission=changed, note=note, texts=texts)
        await audit.record(db, actor=staff.name, action="status.change", target=changed.reference, before=before,
                           after={"status": changed.status, "version": changed.version}, note=note,
                           now=clock.now(), address=request.client.host if request.client else None)
        await db.commit()
    except queue.StatusError as exc:
        # Raised before anything was written: the session is as it was, nothing to roll back.
        return await refuse(exc.message.get(lang), 400)
    except StaleDataError:
        # Another request or console process committed a change between our read and our write.
        await db.rollback()
        await _reload(request, db)
        record = await load_record(db, reference)
        return await refuse(texts.t("console.review.conflict", lang, status=queue.status_label(record.status).get(lang),
                                    when=record.updated_at.astimezone(runtime.settings.tz).strftime("%H:%M")), 409)
    log.info("%s moved %s to %s", staff.name, changed.reference, changed.status)
    return RedirectResponse(f"/records/{changed.reference}?changed={changed.status}", status_code=303)


async def _reload(request: Request, db: AsyncSession) -> None:
    """Load again what the page needs after a rollback expired it (no lazy loads on an async session)."""
    login = request.state.login
    await db.refresh(login.session)
    await db.refresh(login.staff)
