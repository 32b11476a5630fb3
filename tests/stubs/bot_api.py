"""A local Telegram Bot API on 127.0.0.1: real HTTP and the Bot API's JSON, updates queued by the test.

The bot under test talks to it as to api.telegram.org (base_url f"{stub.url}/bot"); every call is recorded so a
test can wait for what the bot sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.stamps import unstamped

__all__ = ["BotApiStub", "Call", "Upload"]

# Parameters python-telegram-bot JSON-encodes; every other value arrives as the plain string.
JSON_PARAMS = frozenset({
    "chat_id", "message_id", "offset", "limit", "timeout", "allowed_updates", "reply_markup", "commands",
    "scope", "reply_parameters", "show_alert", "entities", "caption_entities", "drop_pending_updates",
})
LONG_POLL_S = 0.5


@dataclass(frozen=True)
class Upload:
    """A file the bot sent (multipart)."""

    file_name: str
    content_type: str
    data: bytes


@dataclass(frozen=True, eq=False)
class Call:
    """One request the bot made: the method, its decoded parameters and any uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, Upload] = field(default_factory=dict)
    result: Any = None  # what the stub answered, e.g. the sent message with its message_id

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def message_id(self) -> int:
        """The message_id the stub gave the message this call sent."""
        assert isinstance(self.result, dict), f"{self.method} sent no message"
        return int(self.result["message_id"])

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button of a sent message."""
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]

    def offering(self, value: str) -> str | None:
        """The callback_data of this message's button for the Choice value `value` (the engine stamps each value
        with the question it answers, see bot.stamps), or None."""
        return next((data for _, data in self.buttons if unstamped(data)[0] == value), None)


class BotApiStub:
    """Start with `await stub.start()`, stop with `await stub.close()`."""

    def __init__(self, *, token: str = "123:TEST", username: str = "kcxf_test_bot") -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}  # file_id -> content, served through getFile and /file
        self.messages: dict[int, dict[str, Any]] = {}  # every message the bot sent, by message_id
        self.delays: dict[str, float] = {}  # method -> seconds the stub takes to answer it (a slow network)
        self.webhook: dict[str, Any] = {}  # the parameters of the last setWebhook
        self.queued: list[int] = []  # the update ids of what users did, in order
        self.fetched: list[int] = []  # every update id getUpdates handed out, as often as it did
        self.arrived: list[str] = []  # methods in the order their requests arrived (before any answer)
        self._stalled: set[str] = set()  # methods whose requests wait until let go
        self.failures: dict[str, int] = {}  # method -> how many of its next requests get 502 Bad Gateway
        self.refused: list[str] = []  # the methods of the requests answered so
        # While set, a getUpdates that would confirm updates past this offset hangs and confirms nothing.
        self._held_offset: int | None = None
        self._offset = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> BotApiStub:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what users do -------------------------------------------------------------------------------------
    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, chat_type: str = "private",
        language_code: str = "zh-hans", reply_to: int | None = None,
    ) -> int:
        """A message from `user_id` (a command when it starts with "/"); returns its message_id."""
        update = self.text_update(user_id, text, chat_id=chat_id, chat_type=chat_type, language_code=language_code)
        message = update["message"]
        mention = f"@{self.username}"
        if mention in text and not text.startswith("/"):
            message["entities"] = [{"type": "mention", "offset": _utf16_len(text[: text.index(mention)]),
                                    "length": _utf16_len(mention)}]
        if reply_to is not None:
            message["reply_to_message"] = self.messages[reply_to]
        self._updates.append(update)
        self.queued.append(update["update_id"])
        asyncio.get_running_loop().create_task(self._notify())
        return message["message_id"]

    def text_update(
        self, user_id: int, text: str, *, chat_id: int | None = None, chat_type: str = "private",
        language_code: str = "zh-hans",
    ) -> dict[str, Any]:
        """A new Update (as JSON) of a message from `user_id`, not queued: for posting to a webhook."""
        message = self._message(user_id, chat_id=chat_id, chat_type=chat_type, language_code=language_code)
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])}]
        return {"update_id": next(self._update_ids), "message": message}

    def send_document(
        self, user_id: int, name: str, data: bytes, mime: str, *, file_size: int | None = None,
        language_code: str = "zh-hans",
    ) -> str:
        """A document upload; `file_size` may claim more than `data` holds (as for a file too big to fetch)."""
        file_id = f"doc-{next(self._message_ids)}"
        self.files[file_id] = data
        message = self._message(user_id, chat_id=None, chat_type="private", language_code=language_code)
        message["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                               "mime_type": mime, "file_size": len(data) if file_size is None else file_size}
        self._queue({"message": message})
        return file_id

    def press(self, user_id: int, message_id: int, data: str, *, language_code: str = "zh-hans") -> str:
        """A press on a button of the bot's message `message_id` (data need not be one it offered)."""
        update = self.press_update(user_id, message_id, data, language_code=language_code)
        self._updates.append(update)
        self.queued.append(update["update_id"])
        asyncio.get_running_loop().create_task(self._notify())
        return str(update["callback_query"]["id"])

    def press_update(
        self, user_id: int, message_id: int, data: str, *, language_code: str = "zh-hans",
    ) -> dict[str, Any]:
        """A new Update (as JSON) of a press, not queued: for posting to a webhook."""
        update_id = next(self._update_ids)
        sent = self.messages.get(message_id) or {
            "message_id": message_id, "date": int(time.time()), "chat": _chat(user_id, None, "private"),
            "text": "(old)",
        }
        return {"update_id": update_id, "callback_query": {
            "id": f"cq-{update_id}", "from": _user(user_id, language_code), "chat_instance": f"ci-{user_id}",
            "message": sent, "data": data,
        }}

    # -- what the network does -----------------------------------------------------------------------------
    def hold_confirmations(self) -> None:
        """Updates handed out from now on stay unconfirmed, as when the worker that fetched them is killed before
        its next getUpdates reaches Telegram: that request hangs, and Telegram hands the updates out again."""
        self._held_offset = self._offset

    def stall(self, method: str) -> None:
        """Requests of `method` arrive (see `arrived`) but are not answered until let_go."""
        self._stalled.add(method)

    async def let_go(self) -> None:
        """End hold_confirmations and every stall; the requests that waited get an empty answer."""
        self._held_offset = None
        self._stalled.clear()
        await self._notify()

    # -- what the test checks ------------------------------------------------------------------------------
    @property
    def confirmed(self) -> int:
        """The highest offset a getUpdates confirmed: every update below it is forgotten."""
        return self._offset

    async def wait_for(self, predicate: Callable[[Call], bool], *, within: float = 10.0, after: int = 0) -> Call:
        """The first recorded call (from index `after`) matching `predicate`, waiting for it if need be."""
        async def find() -> Call:
            async with self._changed:
                while True:
                    for call in self.calls[after:]:
                        if predicate(call):
                            return call
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), within)
        except TimeoutError:
            seen = "\n".join(f"  {c.method} {c.params}" for c in self.calls[after:])
            raise AssertionError(f"no matching call within {within}s; calls were:\n{seen}") from None

    async def wait_until(self, condition: Callable[[], bool], *, within: float = 10.0) -> None:
        """Wait until `condition()` holds, checked again after every call the bot makes."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    def sent(self, method: str = "sendMessage", *, after: int = 0) -> list[Call]:
        return [c for c in self.calls[after:] if c.method == method]

    # -- the HTTP side -------------------------------------------------------------------------------------
    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                     status=401)
        method = request.match_info["method"]
        params, files = await _read_params(request)
        self.arrived.append(method)
        await self._notify()
        if method in self._stalled:
            async with self._changed:
                await self._changed.wait_for(lambda: method not in self._stalled)
            return web.json_response({"ok": True, "result": True})
        if self.failures.get(method):
            self.failures[method] -= 1
            self.refused.append(method)
            return _error(502, "Bad Gateway")
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        handler = getattr(self, f"_api_{method}", None)
        result = _error(404, f"Not Found: method {method}") if handler is None else await handler(params, files)
        if method != "getUpdates":
            await self._record(Call(method, params, files, result=result))
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _queue(self, update: dict[str, Any]) -> None:
        self._updates.append({"update_id": next(self._update_ids), **update})
        self.queued.append(self._updates[-1]["update_id"])
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _api_getUpdates(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        offset = int(params.get("offset") or 0)
        if self._held_offset is not None and offset > self._held_offset:
            async with self._changed:
                await self._changed.wait_for(lambda: self._held_offset is None)
            return []  # its sender is gone; Telegram never took this confirmation
        # An offset confirms (forgets) every update before it; the rest are handed out again and again.
        self._offset = max(self._offset, offset)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            wait = min(float(params.get("timeout") or 0), LONG_POLL_S)
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates)), wait)
        self.fetched += [u["update_id"] for u in self._updates]
        return list(self._updates)

    async def _api_getMe(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return {"id": self.bot_id, "is_bot": True, "first_name": "科创先锋", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _api_sendMessage(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        message = self._bot_message(params["chat_id"])
        message["text"] = params["text"]
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[message["message_id"]] = message
        return message

    async def _api_editMessageText(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._edit(params, text=params["text"])

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self._edit(params, text=None)

    def _edit(self, params: dict[str, Any], *, text: str | None) -> Any:
        """The message edited as Telegram does: a new text (or the same) and the markup given, or none."""
        message = self.messages.get(int(params["message_id"]))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        edited = {**message, "text": message.get("text") if text is None else text, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if params.get("reply_markup"):
            edited["reply_markup"] = params["reply_markup"]
        if edited.get("text") == message.get("text") and edited.get("reply_markup") == message.get("reply_markup"):
            return _error(400, "Bad Request: message is not modified: specified new message content and reply "
                               "markup are exactly the same as a current content and reply markup of the message")
        self.messages[edited["message_id"]] = edited
        return edited

    async def _api_sendDocument(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        upload = files.get("document")
        if upload is None:
            return _error(400, "Bad Request: there is no document in the request")
        message = self._bot_message(params["chat_id"])
        message["document"] = {"file_id": f"sent-{message['message_id']}", "file_unique_id": "s",
                               "file_name": upload.file_name, "file_size": len(upload.data)}
        if params.get("caption"):
            message["caption"] = params["caption"]
        self.messages[message["message_id"]] = message
        return message

    async def _api_getFile(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        file_id = params["file_id"]
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}"}

    async def _api_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return True

    async def _api_setWebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.webhook = {}
        return True

    _api_sendChatAction = _api_answerCallbackQuery
    _api_setMyCommands = _api_answerCallbackQuery
    _api_close = _api_answerCallbackQuery
    _api_logOut = _api_answerCallbackQuery

    # -- building Bot API objects --------------------------------------------------------------------------
    def _message(self, user_id: int, *, chat_id: int | None, chat_type: str, language_code: str) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": _chat(user_id, chat_id, chat_type), "from": _user(user_id, language_code)}

    def _bot_message(self, chat_id: int | str) -> dict[str, Any]:
        chat_id = int(chat_id)
        chat = _chat(chat_id, None, "private") if chat_id > 0 else _chat(0, chat_id, "supergroup")
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                "from": {"id": self.bot_id, "is_bot": True, "first_name": "科创先锋", "username": self.username}}


def _user(user_id: int, language_code: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "小王", "last_name": "🚀",
            "language_code": language_code}


def _chat(user_id: int, chat_id: int | None, chat_type: str) -> dict[str, Any]:
    if chat_type == "private":
        return {"id": user_id, "type": "private", "first_name": "小王"}
    return {"id": chat_id, "type": chat_type, "title": "科创群"}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    if request.content_type == "application/json":
        return dict(await request.json()), files
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if part.name is None:
                continue
            if part.filename is not None:
                files[part.name] = Upload(part.filename, part.headers.get("Content-Type", ""), bytes(await part.read()))
            else:
                params[part.name] = await part.text()
    else:
        params = dict(await request.post())
    for key in params.keys() & JSON_PARAMS:
        with contextlib.suppress(TypeError, ValueError):
            params[key] = json.loads(params[key])
    # PTB sends an upload as an attach:// reference in the parameter, the bytes in a part of that name.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            files[key] = files[value[9:]]
    return params, files
