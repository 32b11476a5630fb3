"""The committee's web console: `create_app(runtime)` builds the FastAPI application.

Adding a part of the console takes two lines here: its router in ROUTERS and, if it has a page of its own,
its entry in NAV (with the roles that see it). Every route is behind login unless marked `deps.public`, and
every request that changes something needs the CSRF token; see deps.authenticate.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.runtime import Runtime
from config.clock import Clock, SystemClock
from console import (
    audit_pages,
    auth,
    dashboard,
    exports,
    judging_chair,
    judging_desk,
    judging_rounds,
    knowledge_pages,
    language,
    records,
    review,
    webchat,
)
from console.body_limit import BodyLimit
from console.deps import authenticate
from console.errors import ConsoleRefusal, NotLoggedIn
from console.sessions import CookiePolicy, CookieSigner, session_secret
from console.staff import PasswordChecks, Role, prepare_login_checks
from console.templating import NavItem, page, request_lang

__all__ = ["NAV", "ROUTERS", "create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Every part of the console, in the order their routes are matched.
ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    language.router,
    dashboard.router,
    exports.router,  # before records: /queue/export.* are not record pages
    records.router,
    review.router,
    audit_pages.router,
    knowledge_pages.router,
    judging_rounds.router,
    judging_desk.router,
    judging_chair.router,
    webchat.router,
)

# Role sets of nav entries that are not for everyone (admin is always added).
REVIEWERS = frozenset({Role.reviewer})
MAINTAINERS = frozenset({Role.maintainer})
JUDGES = frozenset({Role.judge, Role.reviewer})
ADMIN_ONLY: frozenset[Role] = frozenset()

# The nav bar, left to right; each entry is shown to its roles (admin sees everything).
NAV: tuple[NavItem, ...] = (
    NavItem("/", "console.nav.dashboard"),
    NavItem("/queue", "console.nav.queue", REVIEWERS),
    NavItem("/judging", "judging.nav.rounds", REVIEWERS),
    NavItem("/judge", "judging.nav.mine", JUDGES),
    NavItem("/knowledge", "kb.page.heading", MAINTAINERS),
    NavItem("/audit", "console.nav.audit", ADMIN_ONLY),
)


def create_app(runtime: Runtime, *, clock: Clock | None = None) -> FastAPI:
    """The console on this runtime's database, texts, campaign and forms (and knowledge base)."""
    prepare_login_checks()
    app = FastAPI(
        title="kcxf console",
        docs_url=None,  # no API explorer: nothing here is meant to be reached without the pages
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(authenticate)],
        lifespan=_lifespan,
    )
    app.state.runtime = runtime
    app.state.clock = clock or SystemClock(runtime.settings.tz)
    app.state.signer = CookieSigner(session_secret(runtime.settings))
    app.state.cookies = CookiePolicy.of(runtime.settings)
    app.state.nav = NAV
    app.state.passwords = PasswordChecks()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(ConsoleRefusal, _refused)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.middleware("http")(_security_headers)
    # Outermost: a body over its cap is refused before anything (the form parser, the login check) reads it.
    app.add_middleware(BodyLimit, routes={knowledge_pages.UPLOAD_PATH: knowledge_pages.UPLOAD_CAP,
                                          webchat.UPLOAD_PATH: webchat.UPLOAD_CAP})
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await webchat.stop_webchat(app)  # the web chat's outbox delivery, if a visitor started it


# No script, style or frame from anywhere else; inline <script> is refused too, so nothing an entrant typed can
# run even if a template forgot to escape it.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.setdefault("x-content-type-options", "nosniff")
    response.headers.setdefault("x-frame-options", "DENY")
    response.headers.setdefault("referrer-policy", "same-origin")
    response.headers.setdefault("content-security-policy", _CSP)
    if request.app.state.runtime.settings.env == "production":
        # Served over HTTPS behind the proxy: the browser never tries plain HTTP for this host for a year.
        response.headers["strict-transport-security"] = "max-age=31536000"
    if not request.url.path.startswith("/static/"):
        # Pages and downloads hold entrants' personal data: no copy in the browser's or a proxy's cache.
        response.headers["cache-control"] = "no-store"
    return response


def wants_html(request: Request) -> bool:
    """Whether the client is a browser asking for a page (a script or an export download is not)."""
    return "text/html" in request.headers.get("accept", "")


async def _refused(request: Request, exc: ConsoleRefusal) -> Response:
    if isinstance(exc, NotLoggedIn) and wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
    texts = request.app.state.runtime.texts
    message = texts.t(exc.key, request_lang(request))
    if not wants_html(request):
        return JSONResponse({"detail": message}, status_code=exc.status_code)
    return page(request, "error.html", status_code=exc.status_code, message=message)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    key = {404: "console.errors.not_found", 405: "console.errors.bad_request"}.get(exc.status_code,
                                                                                    "console.errors.bad_request")
    texts = request.app.state.runtime.texts
    message = texts.t(key, request_lang(request))
    if not wants_html(request) or getattr(request.state, "staff", None) is None:
        return JSONResponse({"detail": message}, status_code=exc.status_code)
    return page(request, "error.html", status_code=exc.status_code, message=message)


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    # A form or address that does not fit a route (a field missing, a malformed reference): the pages never
    # send one, so this is a hand-made request or an old bookmark; say so plainly rather than dump the details.
    # Where and what kind of problem, never the rejected value (it may be a password or an identity number).
    log.info("invalid request to %s: %s", request.url.path,
             ", ".join(f"{'.'.join(map(str, e.get('loc', ())))} ({e.get('type', '?')})" for e in exc.errors()))
    message = request.app.state.runtime.texts.t("console.errors.bad_request", request_lang(request))
    if not wants_html(request) or getattr(request.state, "staff", None) is None:
        return JSONResponse({"detail": message}, status_code=400)
    return page(request, "error.html", status_code=400, message=message)


def _quote(path: str) -> str:
    return quote(path, safe="/")
