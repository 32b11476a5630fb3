"""Logging in and out: the login form, the throttle in front of the password check, the session cookie."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console import audit, csrf, throttle
from console.deps import SESSION_SALT, ClockDep, Db, public, session_token
from console.sessions import end_session, end_sessions_of, start_session
from console.staff import PasswordChecks, get_staff, needs_rehash
from console.templating import page, request_lang

__all__ = ["router", "safe_next"]

log = logging.getLogger(__name__)

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (never //other.host or http://…)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, *, next_: str, name: str = "", error: str | None = None,
                status_code: int = 200) -> Response:
    token, new = csrf.anonymous_token(request)
    request.state.csrf_token = token
    response = page(request, "login.html", status_code=status_code, next=safe_next(next_), name=name, error=error)
    if new:
        csrf.set_cookie(request, response, token)
    return response


@router.get("/login")
@public
async def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query parameter's name
    """The login form; a logged-in visitor goes straight on."""
    if request.state.login is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_=next)


@router.post("/login")
@public
async def login(
    request: Request,
    db: Db,
    clock: ClockDep,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Check the password (unless the throttle says wait), open a session and set its cookie."""
    settings = request.app.state.runtime.settings
    now = clock.now()
    window = timedelta(minutes=settings.console_login_window_minutes)
    address = request.client.host if request.client else None
    account = throttle.account_key(name)
    keys = {account: settings.console_login_attempts,
            throttle.address_key(address): settings.console_login_attempts * throttle.ADDRESS_FACTOR}
    texts, lang = request.app.state.runtime.texts, request_lang(request)
    # Already over a limit: refused before anything is written (a flood of refused tries adds no rows).
    minutes = await throttle.wait_before_retry(db, keys=keys, now=now, window=window)
    if minutes is None:
        # Committed before it is counted: another console process on the same database sees this attempt too.
        await throttle.note_attempt(db, keys=keys, now=now, window=window)
        await db.commit()
        minutes = await throttle.wait_before_retry(db, keys=keys, now=now, window=window)
        if minutes is not None:  # this attempt (or one made at the same moment) went over: say so once
            await audit.record(db, actor=name[:64] or "-", action="login.throttled", target=name[:128], now=now,
                               address=address)
            await db.commit()
    if minutes is not None:
        return _login_page(request, next_=next, name=name, status_code=429,
                           error=texts.t("console.login.throttled", lang, minutes=minutes))
    passwords: PasswordChecks = request.app.state.passwords
    staff = await get_staff(db, name) if name.strip() else None
    if not await passwords.check(staff, password) or staff is None:
        await audit.record(db, actor=name[:64] or "-", action="login.failed", target=name[:128], now=now,
                           address=address)
        await db.commit()
        return _login_page(request, next_=next, name=name, status_code=401,
                           error=texts.t("console.login.wrong", lang))
    await throttle.clear(db, key=account)
    # The session this browser had (another account's, or one planted on it) ends here; in production so does
    # every earlier session of this account: one login per person at a time.
    earlier = session_token(request)
    if earlier:
        await end_session(db, token=earlier)
    if settings.env == "production":
        await end_sessions_of(db, staff=staff)
    if needs_rehash(staff):
        staff.password_hash = await passwords.hash(password)
    staff.last_login_at = now
    token = await start_session(db, staff=staff, now=now, lifetime=timedelta(hours=settings.console_session_hours),
                                idle=timedelta(minutes=settings.console_idle_minutes))
    await audit.record(db, actor=staff.name, action="login", now=now, address=address)
    await db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    cookies = request.app.state.cookies
    response.set_cookie(
        cookies.session, request.app.state.signer.sign(token, salt=SESSION_SALT), httponly=True, samesite="lax",
        secure=cookies.secure, path="/", max_age=int(settings.console_session_hours * 3600),
    )
    return response


@router.post("/logout")
async def logout(request: Request, db: Db, clock: ClockDep) -> Response:
    """End this session everywhere (the cookie alone no longer opens anything) and return to the login form."""
    token = session_token(request)
    staff = request.state.staff
    if token:
        await end_session(db, token=token)
    if staff is not None:
        await audit.record(db, actor=staff.name, action="logout", now=clock.now(),
                           address=request.client.host if request.client else None)
    await db.commit()
    response = RedirectResponse("/login", status_code=303)
    cookies = request.app.state.cookies
    response.delete_cookie(cookies.session, path="/", secure=cookies.secure, httponly=True, samesite="lax")
    return response

