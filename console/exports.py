"""Export of the filtered queue to CSV and XLSX: every field of every entry, masked unless the role may see it.

The rows are intake.export's (the same columns as `kcxf queue export`). Each export is written to the audit log
with its filters and how many entries it held.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from console import audit
from console.deps import ClockDep, Db, Reviewer, RuntimeDep
from console.filters import QueueFilter
from console.records import queue_filter
from console.staff import may_see_identifiers
from intake import queue
from intake.export import export_rows, record_json, to_csv
from intake.sensitive import AnswerMask

__all__ = ["XLSX_TYPE", "router", "to_xlsx"]

log = logging.getLogger(__name__)

router = APIRouter()

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel refuses a cell longer than this.
_XLSX_CELL_MAX = 32_767


async def _objects(db: AsyncSession, runtime: Runtime, filters: QueueFilter, *, masked: bool) -> list[dict[str, Any]]:
    records = list((await db.scalars(
        select(queue.Submission).where(*filters.conditions(runtime.settings.tz)).order_by(queue.Submission.id)
    )).all())
    history: dict[int, list[queue.StatusChange]] = defaultdict(list)
    if records:
        changes = await db.scalars(
            select(queue.StatusChange).where(queue.StatusChange.submission_id.in_([r.id for r in records]))
            .order_by(queue.StatusChange.created_at, queue.StatusChange.id)
        )
        for change in changes:
            history[change.submission_id].append(change)
    # Masked by every form's fields: a record of an award the configuration no longer has is masked too.
    forms = runtime.forms_of(filters.edition)
    masking = AnswerMask.of([*forms.values(), *runtime.forms.values()]) if masked else None
    campaign = runtime.campaign_of(filters.edition)
    return [record_json(campaign, r, history[r.id], masking=masking) for r in records]


async def _export(request: Request, staff: Any, db: AsyncSession, runtime: Runtime, clock: Any, fmt: str) -> Response:
    filters = queue_filter(request, runtime)
    masked = not may_see_identifiers(staff.role)
    objects = await _objects(db, runtime, filters, masked=masked)
    now = clock.now()
    stamp = now.astimezone(runtime.settings.tz).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        # A BOM, or Excel reads the file in the local code page and garbles the Chinese.
        body = ("\ufeff" + to_csv(objects)).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        body = await asyncio.to_thread(to_xlsx, objects)
        media = XLSX_TYPE
    await audit.record(db, actor=staff.name, action=f"export.{fmt}", now=now,
                       after={"count": len(objects), "filters": filters.params(page=1), "masked": masked},
                       address=request.client.host if request.client else None)
    await db.commit()
    name = f"kcxf-queue-{filters.edition}-{stamp}.{fmt}"
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/queue/export.csv")
async def export_csv(request: Request, staff: Reviewer, db: Db, runtime: RuntimeDep, clock: ClockDep) -> Response:
    """The entries the list's filters select, as CSV (UTF-8 with a BOM, for Excel)."""
    return await _export(request, staff, db, runtime, clock, "csv")


@router.get("/queue/export.xlsx")
async def export_xlsx(request: Request, staff: Reviewer, db: Db, runtime: RuntimeDep, clock: ClockDep) -> Response:
    """The entries the list's filters select, as an Excel workbook."""
    return await _export(request, staff, db, runtime, clock, "xlsx")


def to_xlsx(objects: list[dict[str, Any]]) -> bytes:
    """One sheet, a header row and one row per entry; every cell is text, so nothing an entrant typed runs."""
    columns, rows = export_rows(objects)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("queue")
    sheet.freeze_panes = "B2"
    for n, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = 16 if column.startswith("answers.") else 14
    bold = Font(bold=True)

    def text_cell(value: str, *, header: bool = False) -> WriteOnlyCell:
        # Control characters are not allowed in the file format; they carry nothing a reader needs.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:_XLSX_CELL_MAX])
        # A string starting with "=" would otherwise be stored as a formula.
        cell.data_type = "s"
        if header:
            cell.font = bold
        return cell

    sheet.append([text_cell(c, header=True) for c in columns])
    for row in rows:
        sheet.append([text_cell(row.get(c, "")) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

