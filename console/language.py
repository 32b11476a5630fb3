"""The interface language switch: kept in the staff member's profile, and in a cookie before login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import safe_next
from console.deps import Db, public
from console.templating import LANG_COOKIE, LANGS

__all__ = ["router"]

router = APIRouter()


@router.post("/lang")
@public
async def switch_language(
    request: Request,
    db: Db,
    lang: Annotated[str, Form()],
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Show the console in `lang` (zh or en) from now on, and go back to the page the switch was on."""
    chosen = lang if lang in LANGS else "zh"
    staff = request.state.staff
    if staff is not None:
        staff.lang = chosen
        await db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", path="/",
                        secure=request.app.state.cookies.secure)
    return response
