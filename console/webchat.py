"""The web chat's pages and calls, served by the console's process: /chat (the page, or the widget in a frame),
its API (messages, uploads, the event stream, downloads, the e-mail code) and the sign-in link.

Everything here is public (no staff login): the visitor is named by their own signed cookie, and every call that
changes something carries a CSRF token bound to that cookie (an HMAC of the visitor's id, given to the page): a
token the console's way, in a SameSite=Strict cookie of its own, would never reach a chat framed by another site.
When KCXF_WEBCHAT_ORIGINS lists sites that embed the chat, the visitor cookie is SameSite=None (and Secure) so
that the frame keeps it; otherwise Lax. What is said goes through bot.adapters.web to the same engine the
Telegram bot runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from bot import outbox
from bot.adapters.web import CHANNEL, COMMANDS, MAX_UPLOAD_BYTES, Visitor, WebChat
from bot.events import CommandIn
from console import csrf
from console.body_limit import BodyCap, signed_cookie
from console.deps import Db, own_csrf, public
from console.errors import CsrfRefused
from console.sessions import HOST_PREFIX, session_secret
from console.templating import LANG_COOKIE, LANGS, page
from console.throttle import address_key
from console.web_visitors import Proof, is_verified, new_visitor_id, prove, request_code, sign_in
from db.base import utcnow

__all__ = ["UPLOAD_CAP", "UPLOAD_PATH", "chat_csp", "router", "stop_webchat"]

log = logging.getLogger(__name__)

router = APIRouter()

VISITOR_COOKIE = "kcxf_visitor"
VISITOR_SALT = "kcxf.webchat.visitor"
CSRF_SALT = "kcxf.webchat.csrf"
VISITOR_DAYS = 180
UPLOAD_PATH = "/chat/api/upload"


def _has_visitor_cookie(scope: Any, headers: Any) -> bool:
    name = VISITOR_COOKIE
    if scope["app"].state.cookies.csrf.startswith(HOST_PREFIX):
        name = HOST_PREFIX + name
    return signed_cookie(scope, headers, name=name, salt=VISITOR_SALT)


# The file and the multipart wrapping around it, for a visitor the page has given a cookie.
UPLOAD_CAP = BodyCap(MAX_UPLOAD_BYTES + 64 * 1024, key="webchat.upload_too_large",
                     max_mb=MAX_UPLOAD_BYTES // (1024 * 1024), admits=_has_visitor_cookie)
# How often an open event stream says it is alive (proxies close a silent connection).
KEEPALIVE_S = 20.0
CHUNK = 1024 * 1024


def chat_csp(settings_origins: list[str]) -> str:
    """The chat's Content-Security-Policy: as strict as the console's, but framable by the listed origins."""
    ancestors = " ".join(["'self'", *settings_origins])
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"object-src 'none'; base-uri 'none'; frame-ancestors {ancestors}; form-action 'self'")


async def _adapter(request: Request) -> WebChat:
    """The process's web chat adapter, made on first use with the engine and the outbox delivery for the web."""
    state = request.app.state
    if getattr(state, "webchat", None) is None:
        lock = getattr(state, "webchat_lock", None)
        if lock is None:  # no await since the look: the first request makes it, the others wait on it
            lock = state.webchat_lock = asyncio.Lock()
        async with lock:
            if getattr(state, "webchat", None) is None:
                runtime = state.runtime
                engine = await runtime.engine()
                chat = WebChat(engine, secret=session_secret(runtime.settings),
                               incoming_dir=runtime.settings.data_dir / "incoming",
                               rate_per_minute=runtime.settings.webchat_rate_per_minute)
                state.webchat_delivery = asyncio.create_task(
                    outbox.deliver_forever(engine.sessionmaker, channel=CHANNEL, send=chat.send))
                state.webchat = chat
    chat_: WebChat = state.webchat
    return chat_


async def stop_webchat(app: Any) -> None:
    """Stop the web chat's outbox delivery (at the app's shutdown)."""
    task = getattr(app.state, "webchat_delivery", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _cookie_name(request: Request) -> str:
    return (HOST_PREFIX if request.app.state.cookies.csrf.startswith(HOST_PREFIX) else "") + VISITOR_COOKIE


def _visitor_id(request: Request) -> str | None:
    return request.app.state.signer.unsign(request.cookies.get(_cookie_name(request)), salt=VISITOR_SALT)


def _set_visitor(request: Request, response: Response, external_id: str) -> None:
    # Lax: the sign-in link opened from a mail app arrives with the cookie. Where other sites frame the chat,
    # SameSite=None with Secure and Partitioned (CHIPS): browsers that block third-party cookies still keep a
    # partitioned one, so a visitor framed by a site is one visitor there (and another on the chat's own page).
    # Either way HttpOnly.
    value = request.app.state.signer.sign(external_id, salt=VISITOR_SALT)
    max_age = VISITOR_DAYS * 24 * 3600
    if request.app.state.runtime.settings.webchat_origin_list:
        # Written by hand: http.cookies learns the Partitioned attribute only in Python 3.14.
        response.headers.append("set-cookie", f"{_cookie_name(request)}={value}; HttpOnly; Max-Age={max_age}; "
                                              "Path=/; SameSite=none; Secure; Partitioned")
        return
    response.set_cookie(_cookie_name(request), value, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.app.state.cookies.secure, path="/")


def _token(request: Request, external_id: str) -> str:
    """The CSRF token of this visitor's page: their id signed under its own salt (not the cookie's value)."""
    return request.app.state.signer.sign(external_id, salt=CSRF_SALT).rsplit(".", 1)[1]


def _csrf_ok(request: Request, external_id: str, presented: str | None) -> bool:
    return csrf.matches(_token(request, external_id), presented)


def chat_lang(request: Request) -> str:
    """The page's language: the address's ?lang=, the switch's cookie, the browser's first preference, or Chinese."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return str(asked)
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return str(cookie)
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return "zh"


async def _visitor(request: Request, db: Db) -> Visitor | None:
    """The visitor behind the cookie; None without one (the page gives it, so a call without it is refused).
    CsrfRefused for a call that changes something without this visitor's token."""
    external_id = _visitor_id(request)
    if request.method not in csrf.SAFE_METHODS and not (
            external_id is not None and _csrf_ok(request, external_id, await csrf.presented_token(request))):
        raise CsrfRefused  # answered like the console's forms: 403, "reload the page"
    if external_id is None:
        return None
    return Visitor(external_id, lang=chat_lang(request), verified=await is_verified(db, external_id))


def _refusal(request: Request, key: str, status: int = 403, **vars: object) -> JSONResponse:
    text = request.app.state.runtime.texts.t(key, chat_lang(request), **vars)
    return JSONResponse({"ok": False, "text": text}, status_code=status)


# -- the page ------------------------------------------------------------------------------------------------
@router.get("/chat")
@public
async def chat_page(request: Request, embed: int = 0) -> Response:
    """The chat page (or, with ?embed=1, the widget's frame): a new visitor gets their cookie here."""
    runtime = request.app.state.runtime
    external_id = _visitor_id(request)
    new_visitor = external_id is None
    if external_id is None:
        external_id = new_visitor_id()
    token = _token(request, external_id)
    lang = request.state.lang = chat_lang(request)
    campaign = runtime.campaign
    texts = runtime.texts
    # Placeholders stay as they are, for the script to fill in.
    blanks = {name: "{" + name + "}" for name in ("label", "name", "percent")}
    ui_texts = {key: texts.t(f"webchat.page.{key}", lang, **blanks) for key in _UI_KEYS}
    ui_texts["too_large"] = texts.t("webchat.upload_too_large", lang, max_mb=MAX_UPLOAD_BYTES // 1048576)
    response = page(
        request, "chat.html", embed=bool(embed), chat_lang=lang, commands=COMMANDS, csrf_value=token,
        # The conversation is kept in this browser under a name derived from the visitor (not the cookie itself).
        transcript_key="kcxf-chat-" + hashlib.sha256(external_id.encode()).hexdigest()[:16],
        new_visitor=new_visitor, max_upload=MAX_UPLOAD_BYTES, ui_texts=ui_texts,
        campaign_name=campaign.name.get(lang), deadline=campaign.deadline_display.get(lang),
    )
    if new_visitor:
        _set_visitor(request, response, external_id)
    response.headers["content-security-policy"] = chat_csp(runtime.settings.webchat_origin_list)
    # For browsers without CSP frame-ancestors; the others follow the policy above, which this cannot express.
    response.headers["x-frame-options"] = "SAMEORIGIN"
    return response


# The page's texts its script shows (with {placeholders} it fills in).
_UI_KEYS = ("chosen", "uploading", "upload_failed", "offline", "download", "clear_confirm", "you", "bot")


@router.post("/chat/lang")
@public
@own_csrf
async def chat_switch_language(request: Request, db: Db, lang: Annotated[str, Form()]) -> Response:
    """Switch the page and the bot's answers to `lang`, and go back to the chat."""
    chosen = lang if lang in LANGS else "zh"
    visitor = await _visitor(request, db)
    if visitor is None:
        return _refusal(request, "webchat.no_cookie")
    await db.close()
    chat = await _adapter(request)
    # The engine keeps the visitor's language too; the confirmation it gives is not needed on a reloaded page.
    await chat.engine.handle(Visitor(visitor.external_id, lang=chosen).ref, CommandIn("lang", chosen))
    embed = request.query_params.get("embed") == "1"
    # In another site's frame the language cookie (Lax) is not kept: the address carries the language there.
    response = RedirectResponse(f"/chat?embed=1&lang={chosen}" if embed else "/chat", status_code=303)
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", path="/",
                        secure=request.app.state.cookies.secure)
    return response


# -- the API -------------------------------------------------------------------------------------------------
@router.post("/chat/api/messages")
@public
@own_csrf
async def post_message(request: Request, db: Db, message: Annotated[dict[str, Any], Body()]) -> Response:
    """One message or button press; the answer holds the replies to it."""
    visitor = await _visitor(request, db)
    if visitor is None:
        return _refusal(request, "webchat.no_cookie")
    await db.close()  # the engine uses its own connections; this one is not held while it works
    chat = await _adapter(request)
    return JSONResponse({"ok": True, "replies": await chat.post(visitor, message)})


@router.post(UPLOAD_PATH)
@public
@own_csrf
async def upload(
    request: Request, db: Db, file: Annotated[UploadFile, File()], id: Annotated[str, Form(max_length=64)] = "",  # noqa: A002
) -> Response:
    """A file for the current question (the BodyLimit middleware has refused anything far over 20 MB)."""
    visitor = await _visitor(request, db)
    if visitor is None:
        return _refusal(request, "webchat.no_cookie")
    await db.close()
    chat = await _adapter(request)
    name = Path(file.filename or "upload").name[:200] or "upload"
    mime = file.content_type or "application/octet-stream"

    async def write(path: Path) -> int:
        size = 0
        with path.open("wb") as out:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    break
                await asyncio.to_thread(out.write, chunk)
        return size

    replies = await chat.upload(visitor, message_id=id, file_name=name, mime_type=mime, write=write)
    return JSONResponse({"ok": True, "replies": replies})


@router.get("/chat/api/files/{token}")
@public
async def download(request: Request, db: Db, token: str) -> Response:
    """A document the chat sent this visitor (the generated 申报表); 404 for anyone else's link."""
    visitor = await _visitor(request, db)
    if visitor is None:
        return _refusal(request, "webchat.not_found", 404)
    found = (await _adapter(request)).document(visitor, token)
    if found is None:
        return _refusal(request, "webchat.not_found", 404)
    path, name = found
    return FileResponse(path, filename=name)


@router.get("/chat/api/stream")
@public
async def stream(request: Request, db: Db) -> Response:
    """Server-sent events: messages for this visitor that no message of theirs asked for (status changes)."""
    visitor = await _visitor(request, db)
    if visitor is None:
        return _refusal(request, "webchat.no_cookie")
    await db.close()
    chat = await _adapter(request)
    queue = chat.open_stream(visitor.external_id)

    async def events() -> AsyncIterator[str]:
        try:
            yield ": open\n\n"
            while not await request.is_disconnected():
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
                except TimeoutError:
                    yield ": alive\n\n"
                    continue
                yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"
        finally:
            chat.close_stream(visitor.external_id, queue)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})


@router.post("/chat/api/email")
@public
@own_csrf
async def ask_for_code(request: Request, db: Db, body: Annotated[dict[str, Any], Body()]) -> Response:
    """Mail a one-time code to the address given (throttled per address and per client address)."""
    if await _visitor(request, db) is None:
        return _refusal(request, "webchat.no_cookie")
    runtime = request.app.state.runtime
    lang = chat_lang(request)
    outcome = await request_code(
        db, settings=runtime.settings, secret=session_secret(runtime.settings), address=str(body.get("email", ""))[:254],
        ip_key=address_key(request.client.host if request.client else None), lang=lang, now=utcnow(),
        link_base=runtime.settings.console_url, campaign_name=runtime.campaign.name.get(lang),
    )
    ok = outcome.key == "webchat.email.sent"
    text = runtime.texts.t(outcome.key or "webchat.email.invalid", lang, minutes=outcome.minutes)
    return JSONResponse({"ok": ok, "text": text}, status_code=200 if ok else 400)


@router.post("/chat/api/email/verify")
@public
@own_csrf
async def verify_code(request: Request, db: Db, body: Annotated[dict[str, Any], Body()]) -> Response:
    """Check the code; on success this browser is the visitor who first proved the address."""
    visitor = await _visitor(request, db)
    if visitor is None:
        return _refusal(request, "webchat.no_cookie")
    external_id = visitor.external_id
    runtime = request.app.state.runtime
    outcome = await prove(db, secret=session_secret(runtime.settings), address=str(body.get("email", ""))[:254],
                          code=str(body.get("code", ""))[:32], external_id=external_id, now=utcnow())
    text = runtime.texts.t(outcome.key or "webchat.email.expired", chat_lang(request), left=outcome.minutes)
    if outcome.proof is not Proof.OK or outcome.external_id is None:
        return JSONResponse({"ok": False, "text": text}, status_code=400)
    response = JSONResponse({"ok": True, "text": text, "switched": outcome.external_id != external_id})
    _set_visitor(request, response, outcome.external_id)
    return response


@router.get("/chat/signin/{link}")
@public
async def signin_page(request: Request, link: str) -> Response:
    """The sign-in link from the mail: a button to confirm (a mail scanner following links signs nobody in)."""
    external_id = _visitor_id(request)
    new_visitor = external_id is None
    external_id = external_id or new_visitor_id()
    request.state.lang = chat_lang(request)
    response = page(request, "chat_signin.html", link=link, csrf_value=_token(request, external_id),
                    chat_lang=request.state.lang)
    if new_visitor:
        _set_visitor(request, response, external_id)
    return response


@router.post("/chat/signin/{link}")
@public
@own_csrf
async def signin(request: Request, db: Db, link: str) -> Response:
    """Sign this browser in as the visitor of the address the link was mailed to, and open the chat."""
    visitor = await _visitor(request, db)
    if visitor is None:
        return _refusal(request, "webchat.no_cookie")
    external_id = visitor.external_id
    outcome = await sign_in(db, link=link[:200], external_id=external_id, now=utcnow())
    if outcome.proof is not Proof.OK or outcome.external_id is None:
        request.state.lang = chat_lang(request)
        text = request.app.state.runtime.texts.t("webchat.email.expired", request.state.lang)
        return page(request, "chat_signin.html", link=None, csrf_value="", chat_lang=chat_lang(request),
                    message=text, status_code=400)
    response = RedirectResponse("/chat", status_code=303)
    _set_visitor(request, response, outcome.external_id)
    return response
