"""CSRF tokens: every form carries one, and every request that changes something must present it.

A logged-in browser's token belongs to its session (stored with it). Before login — the login form and the
language switch — the token is the value of a signed cookie of its own, compared with what the form sends
(a signed double-submit cookie): another site can make the browser send the cookie but cannot read it.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "FIELD", "HEADER", "SAFE_METHODS", "anonymous_token", "expected_token", "matches", "presented_token",
    "set_cookie",
]

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SALT = "kcxf.console.csrf"


def expected_token(request: Request) -> str | None:
    """The token this browser's forms carry: its session's, else its anonymous cookie's (None: it has none)."""
    login = getattr(request.state, "login", None)
    if login is not None:
        return login.session.csrf
    signer = request.app.state.signer
    return signer.unsign(request.cookies.get(request.app.state.cookies.csrf), salt=_SALT)


def anonymous_token(request: Request) -> tuple[str, bool]:
    """The token for a browser that is not logged in, and whether it is new (then give it with `set_cookie`)."""
    current = request.app.state.signer.unsign(request.cookies.get(request.app.state.cookies.csrf), salt=_SALT)
    if current:
        return current, False
    return secrets.token_urlsafe(32), True


def set_cookie(request: Request, response: Response, token: str) -> None:
    """Give the browser its anonymous token, signed (the cookie's name and flags: app.state.cookies)."""
    cookies = request.app.state.cookies
    response.set_cookie(cookies.csrf, request.app.state.signer.sign(token, salt=_SALT), httponly=True,
                        samesite="strict", secure=cookies.secure, path="/")


async def presented_token(request: Request) -> str | None:
    """The token a request carries, in the X-CSRF-Token header or the form's csrf_token field."""
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # Starlette caches the parsed form on the request, so the endpoint reads the same one.
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


def matches(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison; nothing matches a missing token."""
    return bool(expected and presented) and hmac.compare_digest(str(expected), str(presented))
