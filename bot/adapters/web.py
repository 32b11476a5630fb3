"""The web chat: messages from the campaign page in as engine events, engine replies out as JSON. Translation only.

The page (console/webchat.py serves it) posts one event at a time and gets that event's replies in the answer;
messages the engine did not produce for an event (status changes, staff notices: the outbox) are pushed to the
visitor's open event stream, and stay in the outbox until one is open. A visitor is named by the random id of
their signed cookie; how they prove an e-mail address and continue on another device is console.web_visitors.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot import rate_limit, receipts
from bot.events import ChoiceIn, CommandIn, Event, FileIn, TextIn
from bot.replies import DocumentOut, EditOut, Reply, StaleOut, TextOut
from bot.users import UserRef
from db.base import utcnow
from db.retry import attempts

if TYPE_CHECKING:
    from bot.engine import Engine

__all__ = ["CHANNEL", "COMMANDS", "MAX_UPLOAD_BYTES", "NEEDS_EMAIL", "Visitor", "WebChat"]

log = logging.getLogger(__name__)

CHANNEL = "web"
# The menu the page offers, in this order; the same commands as in Telegram.
COMMANDS = ("start", "help", "apply", "drafts", "status", "cancel", "lang", "privacy", "delete")
# Commands about an entry of one's own: on the web they need a proven e-mail address first, since nothing else
# tells who the visitor is, and the address is what lets them come back from another device.
NEEDS_EMAIL = frozenset({"apply", "drafts", "status"})
# The same limit as the intake's Telegram path: what a bot may download there, and what the page says.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# A download link in the chat keeps working this long (the conversation is kept in the browser).
DOCUMENT_LINK_S = 30 * 24 * 3600
MAX_TEXT = 4000
_FILE_SALT = "kcxf.webchat.document"


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is on the page: the id in their cookie, the language of their page, and whether an e-mail is proven."""

    external_id: str
    lang: str = "zh"
    verified: bool = False

    @property
    def ref(self) -> UserRef:
        """The engine's name for the visitor."""
        return UserRef(channel=CHANNEL, external_id=self.external_id, lang_hint=self.lang)


class WebChat:
    """The adapter: one per process, bound to the engine; also the outbox's way of reaching an open page."""

    def __init__(self, engine: Engine, *, secret: bytes, incoming_dir: Path, rate_per_minute: int) -> None:
        self.engine = engine
        self.incoming_dir = incoming_dir
        self.rate_per_minute = rate_per_minute
        self._links = URLSafeTimedSerializer(secret, salt=_FILE_SALT)
        # One lock per visitor, alive while one of their events is being handled: their events stay in order.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # The pages open now, by visitor: each receives what the outbox delivers to that visitor.
        self._streams: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def t(self, key: str, visitor: Visitor, **vars: object) -> str:
        return self.engine.texts.t(key, visitor.lang, **vars)

    # -- events in -----------------------------------------------------------------------------------------
    async def post(self, visitor: Visitor, message: dict[str, Any]) -> list[dict[str, Any]]:
        """One message from the page ({"id", "text"} or {"id", "choice", "keyboard"}) and the replies to it.

        `id` is the page's own name for the message: the same message posted twice (a retry after a dropped
        connection) is handled once. `keyboard` names the reply whose button was pressed: a keyboard answers
        its question once, however often it is pressed (a toggle's press is answered with the question again,
        under a keyboard of a new name).
        """
        message_id = str(message.get("id") or "")[:64]
        once = [f"{CHANNEL}:event:{visitor.external_id}:{message_id}"] if message_id else []
        if "choice" in message:
            event: Event = ChoiceIn(str(message["choice"]))
            keyboard = str(message.get("keyboard") or "")[:64]
            if keyboard:
                once.append(f"{CHANNEL}:keyboard:{visitor.external_id}:{keyboard}")
        else:
            event = _typed(str(message.get("text") or "")[:MAX_TEXT])
        async with self._turn(visitor):
            refused = await self._refused(visitor, event)
            if refused is not None:
                return refused
            if await self._seen(once):
                log.info("web event %s handled before; dropped", ", ".join(once))
                return [_text(self.t("webchat.already_pressed", visitor), stale=True)] if "choice" in message else []
            replies = await self.engine.handle(visitor.ref, event, once=once)
        return self.render(visitor, replies)

    async def upload(
        self, visitor: Visitor, *, message_id: str, file_name: str, mime_type: str,
        write: Callable[[Path], Awaitable[int]],
    ) -> list[dict[str, Any]]:
        """A file from the page: `write` stores it at the path given and returns its size; the engine checks and
        keeps its own copy, and the temporary one goes."""
        once = [f"{CHANNEL}:event:{visitor.external_id}:{message_id[:64]}"] if message_id else []
        async with self._turn(visitor):
            refused = await self._refused(visitor, None)
            if refused is not None:
                return refused
            if await self._seen(once):
                return []
            path = await asyncio.to_thread(_temp_file, self.incoming_dir, suffix=Path(file_name).suffix[:16])
            try:
                size = await write(path)
                if size > MAX_UPLOAD_BYTES:
                    return [_text(self.t("webchat.file_too_large", visitor, name=file_name,
                                         size=f"{size / 1_000_000:.1f} MB"))]
                event = FileIn(file_name=file_name, mime_type=mime_type, size=size, path=path)
                replies = await self.engine.handle(visitor.ref, event, once=once)
            finally:  # the engine keeps its own copy of what it accepts
                await asyncio.to_thread(path.unlink, missing_ok=True)
        return self.render(visitor, replies)

    async def _refused(self, visitor: Visitor, event: Event | None) -> list[dict[str, Any]] | None:
        """The answer to an event that is not passed on (over the rate limit, or needing an e-mail), else None."""
        async for attempt in attempts():
            with attempt:
                async with self.engine.sessionmaker() as session, session.begin():
                    verdict = await rate_limit.admit(session, f"{CHANNEL}:{visitor.external_id}",
                                                     limit=self.rate_per_minute, now=utcnow())
        if verdict is rate_limit.Verdict.WARN:
            return [_text(self.t("webchat.rate_limited", visitor, per_minute=self.rate_per_minute))]
        if verdict is rate_limit.Verdict.DROP:
            return []
        if isinstance(event, CommandIn) and event.name in NEEDS_EMAIL and not visitor.verified:
            return [{"type": "verify", "text": self.t("webchat.email.needed", visitor), "then": event.name}]
        return None

    async def _seen(self, once: Sequence[str]) -> bool:
        async with self.engine.sessionmaker() as session:
            return await receipts.seen(session, once)

    def _turn(self, visitor: Visitor) -> asyncio.Lock:
        lock = self._locks.get(visitor.external_id)
        if lock is None:
            lock = self._locks[visitor.external_id] = asyncio.Lock()
        return lock

    # -- replies out ---------------------------------------------------------------------------------------
    def render(self, visitor: Visitor, replies: Sequence[Reply]) -> list[dict[str, Any]]:
        """The replies as the page shows them: text (the page escapes it) with buttons, or a download link."""
        out: list[dict[str, Any]] = []
        for reply in replies:
            match reply:
                case TextOut(text=text, choices=choices):
                    item = _text(text, stale=isinstance(reply, StaleOut))
                    if isinstance(reply, EditOut):  # shown in place of the message whose button was pressed
                        item["edit"] = True
                    if choices:
                        # `chosen`: absent for a plain button, true or false for a toggle of a multi-select.
                        item["choices"] = [{"label": c.label, "value": c.value}
                                           | ({} if c.chosen is None else {"chosen": c.chosen}) for c in choices]
                        item["keyboard"] = secrets.token_urlsafe(12)
                    out.append(item)
                case DocumentOut(path=path, file_name=file_name, caption=caption):
                    token = self._links.dumps({"v": visitor.external_id, "p": str(path), "n": file_name})
                    out.append({"type": "document", "name": file_name, "caption": caption,
                                "url": f"/chat/api/files/{token}"})
        return out

    def document(self, visitor: Visitor, token: str) -> tuple[Path, str] | None:
        """The file behind a download link of this visitor's chat, or None (not theirs, expired, forged, gone)."""
        try:
            data = self._links.loads(token, max_age=DOCUMENT_LINK_S)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("v") != visitor.external_id:
            return None
        root = self.engine.settings.data_dir.resolve()
        path = Path(str(data.get("p", ""))).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path, str(data.get("n") or path.name)

    # -- pushed messages (the outbox) ----------------------------------------------------------------------
    def open_stream(self, external_id: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving what is delivered to this visitor while their page is open; close it after."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._streams.setdefault(external_id, set()).add(queue)
        return queue

    def close_stream(self, external_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """The page went away."""
        open_ = self._streams.get(external_id)
        if open_ is not None:
            open_.discard(queue)
            if not open_:
                del self._streams[external_id]

    async def send(self, external_id: str, reply: Reply) -> None:
        """bot.outbox.Send for this channel: to every open page of the visitor; raises when none is open, so
        the message stays in the outbox and is offered again later."""
        open_ = self._streams.get(external_id)
        if not open_:
            raise ConnectionError(f"no page of web visitor {external_id} is open")
        for item in self.render(Visitor(external_id), [reply]):
            for queue in open_:
                queue.put_nowait(item)


def _typed(text: str) -> Event:
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        return CommandIn(name, args.strip())
    return TextIn(text)


def _text(text: str, *, stale: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text", "text": text}
    if stale:
        item["stale"] = True
    return item


def _temp_file(folder: Path, *, suffix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="web-", suffix=suffix, delete=False)  # noqa: SIM115
    handle.close()
    return Path(handle.name)
