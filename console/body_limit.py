"""A cap on the size of every request body, enforced before anything reads it (413 in both languages).

FastAPI parses a route's form before its dependencies run, so the login check comes after the body has been read
(and a file in it spooled to a temporary file). This middleware sits in front of all of that: a declared
Content-Length over the cap is refused at once, and a streamed body is counted as it arrives and refused the moment
it passes the cap. A route may have a larger cap of its own (the document upload); it applies only to a request
carrying a validly signed session cookie, so an anonymous client never gets past the small one. A reverse proxy's
body limit does the same job in front of the console (docs/console-security.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.deps import SESSION_SALT

__all__ = ["MAX_BODY", "BodyCap", "BodyLimit", "signed_cookie"]

# Every form of the console fits easily: the longest, an FAQ entry, is a few fields of at most 20,000 characters.
MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BodyCap:
    """At most `limit` bytes of body; over it, the text `key` (given `max_mb`) in both languages."""

    limit: int
    key: str = "console.errors.too_large"
    max_mb: int = 1
    # Who may send a body this large (a route's cap); unset: a request with a signed staff session cookie.
    admits: Callable[[Scope, Mapping[bytes, bytes]], bool] | None = None


class BodyLimit:
    """ASGI middleware: request bodies over their cap are refused with 413 before the application reads them."""

    def __init__(self, app: ASGIApp, *, default: BodyCap = BodyCap(MAX_BODY),
                 routes: Mapping[str, BodyCap] | None = None) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes or {})

    def _cap(self, scope: Scope, headers: Mapping[bytes, bytes]) -> BodyCap:
        cap = self.routes.get(scope["path"])
        if cap is None or not (cap.admits or _signed_in)(scope, headers):
            return self.default
        return cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cap = self._cap(scope, headers)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap.limit:
            await _refuse(scope, send, cap)
            return
        seen = 0
        too_large = False

        async def counted() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap.limit:
                    too_large = True
                    raise _TooLarge
            return message

        async def unless_refused(message: Message) -> None:
            # FastAPI turns any error while parsing a body into its own 400; the 413 below replaces it.
            if not too_large:
                await send(message)

        # An app that lets the error through (instead of answering 400) ends here too.
        with contextlib.suppress(_TooLarge):
            await self.app(scope, counted, unless_refused)
        if too_large:
            await _refuse(scope, send, cap)


def _signed_in(scope: Scope, headers: Mapping[bytes, bytes]) -> bool:
    """Whether the request carries a session cookie signed with the console's secret (not whether it is live)."""
    return signed_cookie(scope, headers, name=scope["app"].state.cookies.session, salt=SESSION_SALT)


def signed_cookie(scope: Scope, headers: Mapping[bytes, bytes], *, name: str, salt: str) -> bool:
    """Whether the request carries the cookie `name` signed with the console's secret under `salt`."""
    cookies = SimpleCookie()
    with contextlib.suppress(Exception):  # a malformed Cookie header is no cookie
        cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
    morsel = cookies.get(name)
    return morsel is not None and scope["app"].state.signer.unsign(morsel.value, salt=salt) is not None


async def _refuse(scope: Scope, send: Send, cap: BodyCap) -> None:
    texts = scope["app"].state.runtime.texts
    body = " / ".join(texts.t(cap.key, lang, max_mb=cap.max_mb) for lang in ("zh", "en")).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """A streamed body went past its cap."""
