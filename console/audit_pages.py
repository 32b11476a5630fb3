"""The audit log page: every staff action, newest first, filterable by who and what (administrators only)."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from console.audit import AuditEntry
from console.deps import Admin, Db
from console.templating import page

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter()

PAGE_SIZE = 50


@router.get("/audit")
async def audit_log(request: Request, staff: Admin, db: Db) -> Response:
    """The log, a page at a time; `actor`, `action` (prefix) and `target` narrow it."""
    params = request.query_params
    actor, action, target = (params.get(k, "").strip()[:128] for k in ("actor", "action", "target"))
    where = []
    if actor:
        where.append(AuditEntry.actor == actor)
    if action:
        where.append(AuditEntry.action.startswith(action, autoescape=True))
    if target:
        where.append(AuditEntry.target == target)
    total = await db.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    try:
        current = min(max(1, int(params.get("page") or 1)), pages)
    except ValueError:
        current = 1
    entries = list((await db.scalars(
        select(AuditEntry).where(*where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )).all())
    return page(request, "audit.html", entries=entries, total=total, page_no=current, pages=pages,
                actor=actor, action=action, target=target,
                href=lambda n: "/audit?" + urlencode({k: v for k, v in
                                                      {"actor": actor, "action": action, "target": target,
                                                       "page": str(n)}.items() if v}))
