"""The console's dependencies, as Annotated aliases: runtime, database session, clock, and who is asking.

`authenticate` runs before every route (create_app installs it app-wide): it finds the session behind the cookie,
refuses anonymous requests to every route not marked `public`, and refuses any request that changes something
without the CSRF token. Routes then say which roles they admit with `require(...)` (or an alias below).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from config.clock import Clock
from console import csrf
from console.errors import CsrfRefused, Forbidden, NotLoggedIn
from console.sessions import CookiePolicy, CookieSigner, Login, keep_alive, load_session
from console.staff import Role, Staff

__all__ = [
    "Admin",
    "AnyStaff",
    "ClockDep",
    "Db",
    "Maintainer",
    "Reviewer",
    "RuntimeDep",
    "authenticate",
    "own_csrf",
    "public",
    "require",
]

F = TypeVar("F", bound=Callable[..., Any])
SESSION_SALT = "kcxf.console.session"


def public(endpoint: F) -> F:
    """Mark a route as reachable without login (the login page, the language switch); everything else is not."""
    endpoint.__kcxf_public__ = True  # type: ignore[attr-defined]
    return endpoint


def own_csrf(endpoint: F) -> F:
    """Mark a route that checks its own CSRF token (the web chat's, tied to its visitor cookie, which works inside
    another site's frame where the console's SameSite=Strict token cookie is never sent)."""
    endpoint.__kcxf_own_csrf__ = True  # type: ignore[attr-defined]
    return endpoint


def get_runtime(request: Request) -> Runtime:
    """The process's runtime, given to create_app."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_clock(request: Request) -> Clock:
    """The console's clock (sessions, throttle, review times); tests pass a FixedClock."""
    clock: Clock = request.app.state.clock
    return clock


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One database session per request; routes commit what they change."""
    sessions = await get_runtime(request).sessionmaker()
    async with sessions() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ClockDep = Annotated[Clock, Depends(get_clock)]
Db = Annotated[AsyncSession, Depends(get_db)]


def session_token(request: Request) -> str | None:
    """The token in the session cookie, if its signature holds."""
    signer: CookieSigner = request.app.state.signer
    cookies: CookiePolicy = request.app.state.cookies
    return signer.unsign(request.cookies.get(cookies.session), salt=SESSION_SALT)


async def authenticate(request: Request, db: Db, clock: ClockDep) -> Login | None:
    """Who is asking (request.state.login); NotLoggedIn unless the route is public, CsrfRefused on a bad form."""
    now = clock.now()
    login = await load_session(db, token=session_token(request), now=now)
    if login is not None:
        settings = get_runtime(request).settings
        if keep_alive(login, now=now, idle=timedelta(minutes=settings.console_idle_minutes),
                      lifetime=timedelta(hours=settings.console_session_hours)):
            await db.commit()
    request.state.login = login
    request.state.staff = login.staff if login else None
    endpoint = request.scope.get("endpoint")
    if login is None and not getattr(endpoint, "__kcxf_public__", False):
        raise NotLoggedIn
    checks_own = getattr(endpoint, "__kcxf_own_csrf__", False)
    if request.method not in csrf.SAFE_METHODS and not checks_own and not csrf.matches(
        csrf.expected_token(request), await csrf.presented_token(request)
    ):
        raise CsrfRefused
    return login


def require(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Staff]]:
    """A dependency admitting the given roles (and admin, who may do everything); no roles: any staff member."""
    allowed = frozenset(roles) | {Role.admin}

    async def dependency(request: Request) -> Staff:
        staff: Staff | None = getattr(request.state, "staff", None)
        if staff is None:
            raise NotLoggedIn
        if roles and staff.role not in allowed:
            raise Forbidden
        return staff

    dependency.__name__ = "require_" + "_".join(r.value for r in roles) if roles else "require_staff"
    return dependency


AnyStaff = Annotated[Staff, Depends(require())]
Reviewer = Annotated[Staff, Depends(require(Role.reviewer))]
Maintainer = Annotated[Staff, Depends(require(Role.maintainer))]
Admin = Annotated[Staff, Depends(require(Role.admin))]
