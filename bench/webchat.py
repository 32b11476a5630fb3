"""Web chat benchmark: N concurrent conversations through the web chat (real HTTP to the console's app on loopback),
beside the same N conversations through the Telegram adapter (python-telegram-bot polling the Bot API stub over
real HTTP), in the same run, on the same kind of database (a fresh SQLite file each).

Every conversation is the same script, driven by what its replies show: /start, a question (declined: the
answerer here says nothing, so retrieval is not what is measured), /apply, the pre-check by buttons (group,
track, two declarations, award, consent), then typed answers (a choice question by its first button) until
STEPS_AFTER_CONSENT questions are answered. A step is one event in and its whole reply out, timed at the client:
for the web a POST and its answer; for Telegram an update queued at the stub until the bot's sendMessage of the
step's last message (the next question, or the only answer) reaches the stub. Web visitors have proven their e-mail address beforehand (a row per visitor, as the code
would leave it): the code's mail is not what is measured. Afterwards every conversation must have its draft
stored with exactly the answers typed (`lost` counts those that do not).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import percentile  # noqa: E402
from bot.adapters.web import CHANNEL as WEB  # noqa: E402
from bot.adapters.web import WebChat  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.stamps import unstamped  # noqa: E402
from bot.users import User  # noqa: E402
from config.settings import Settings  # noqa: E402
from console.server import start_embedded  # noqa: E402
from console.sessions import session_secret  # noqa: E402
from console.web_visitors import WebIdentity  # noqa: E402
from console.webchat import VISITOR_SALT  # noqa: E402
from db.base import utcnow  # noqa: E402
from intake.drafts import Draft  # noqa: E402
from intake.flow import PREFIX  # noqa: E402
from intake.forms import Form  # noqa: E402
from tests.intake.applicants import Decliner  # noqa: E402
from tests.intake.factories import typed_answer  # noqa: E402
from tests.stubs import BotApiStub, Call  # noqa: E402

log = logging.getLogger(__name__)

FROZEN_NOW = datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
AWARD = "rising_potential"
CONVERSATIONS = 300
STEPS_AFTER_CONSENT = 8
# A step not answered within this long counts its conversation as lost.
WAIT_S = 60.0
# In the form's progress line, "第 4/43 项 · 申报联系人": a message holding it is a question.
QUESTION_MARK = "项 · "
# How often the outbox is looked at in the Telegram run (the bot's default is 3 s).
OUTBOX_INTERVAL_S = 1.0


@dataclass
class Shown:
    """A reply as the driver reads it: its text and the plain values of its buttons (value -> what to send)."""

    text: str
    buttons: dict[str, str]


@dataclass
class Conversation:
    """One simulated entrant: the timings of its steps and what it typed."""

    n: int
    steps_ms: list[float] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)
    failure: str | None = None


Say = Callable[..., Awaitable[Shown]]
Press = Callable[[Shown, str], Awaitable[Shown]]


async def drive(me: Conversation, form: Form, say: Say, press: Press) -> None:
    """The script, the same for every channel."""
    prompts = {slot.field.prompt.zh: slot.field for slot in form.fields()}

    async def timed(step: Awaitable[Shown]) -> Shown:
        started = time.perf_counter()
        shown = await step
        me.steps_ms.append((time.perf_counter() - started) * 1000)
        return shown

    try:
        await timed(say("/start", question=False))
        await timed(say("评审结果什么时候公布？", question=False))
        shown = await timed(say("/apply"))
        shown = await timed(press(shown, f"{PREFIX}group:{form.award.group}"))
        track = next(v for v in shown.buttons if v.startswith(f"{PREFIX}track:"))
        shown = await timed(press(shown, track))
        shown = await timed(press(shown, f"{PREFIX}yes"))
        shown = await timed(press(shown, f"{PREFIX}no"))
        shown = await timed(press(shown, f"{PREFIX}award:{form.award_id}"))
        shown = await timed(press(shown, f"{PREFIX}agree"))
        for _ in range(STEPS_AFTER_CONSENT):
            lines = shown.text.split("\n")
            asked = prompts.get(lines[1]) if len(lines) > 1 else None
            if asked is None:
                raise RuntimeError(f"not a question: {shown.text[:80]!r}")
            if asked.type == "choice":
                shown = await timed(press(shown, f"{PREFIX}{asked.choices[0].id}"))
                me.typed[asked.id] = asked.choices[0].zh
            else:
                text = typed_answer(form, asked, typed={"contact_mobile": f"139{me.n:08d}",
                                                        "contact_email": f"web{me.n}@pioneer-tech.cn"},
                                    long_text=None)
                me.typed[asked.id] = text
                shown = await timed(say(text))
    except Exception as exc:  # counted as lost; the others carry on
        me.failure = f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class PathResult:
    """The figures of one channel."""

    key: str  # "web" or "telegram", for results.json
    path: str
    conversations: int
    steps: int
    steps_per_s: float
    p50_ms: float
    p95_ms: float
    wall_s: float
    lost: int
    problems: list[str]


def _settings(data_dir: Path, **extra: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, now=FROZEN_NOW, log_level="WARNING",  # type: ignore[call-arg]
                    telegram_rate_per_minute=100_000, webchat_rate_per_minute=100_000, **extra)


async def _verify(runtime: Runtime, people: Sequence[Conversation], external_id: Callable[[int], str],
                  channel: str) -> tuple[int, list[str]]:
    """(lost, problems): each conversation has one draft holding what it typed (as the form stores it)."""
    form = runtime.forms[AWARD]
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        rows = (await session.execute(select(Draft, User.external_id).join(User, Draft.user_id == User.id)
                                      .where(User.channel == channel))).all()
        drafts = {ext: draft.answers for draft, ext in rows}
    lost, problems = 0, []
    for me in people:
        why = me.failure
        answers = drafts.get(external_id(me.n))
        if why is None and answers is None:
            why = "no draft"
        elif why is None:
            for field_id, text in me.typed.items():
                slot = form.slot(field_id)
                expected = form.check(slot.field, text, today=FROZEN_NOW.date()).value
                stored = answers.get(field_id) if slot.group is None else (answers.get(slot.group.id) or [{}])[0].get(field_id)
                if stored != expected:
                    why = f"{field_id} stored {stored!r}, typed {text!r}"
                    break
        if why is not None:
            lost += 1
            if len(problems) < 5:
                problems.append(f"{external_id(me.n)}: {why}")
    return lost, problems


def _result(key: str, path: str, people: Sequence[Conversation], wall: float, lost: int, problems: list[str]) -> PathResult:
    steps = [ms for me in people for ms in me.steps_ms]
    return PathResult(key=key, path=path, conversations=len(people), steps=len(steps), steps_per_s=len(steps) / wall,
                      p50_ms=percentile(steps, 50), p95_ms=percentile(steps, 95), wall_s=wall, lost=lost,
                      problems=problems)


# -- the web chat --------------------------------------------------------------------------------------------
async def run_web(conversations: int, data_dir: Path) -> PathResult:
    """N browsers (each an httpx client with its own cookies) talking to the console's app over loopback HTTP."""
    settings = _settings(data_dir)
    runtime = Runtime.open(settings)
    engine = await runtime.engine(answerer=Decliner())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    side = await start_embedded(runtime, host="127.0.0.1", port=port)  # as `kcxf run` serves it
    app = side.server.config.app
    # The adapter the first message would make, on an engine whose answerer declines (nothing retrieved).
    app.state.webchat = WebChat(engine, secret=session_secret(settings), incoming_dir=data_dir / "incoming",
                                rate_per_minute=settings.webchat_rate_per_minute)
    form = runtime.forms[AWARD]
    visitors: dict[int, str] = {}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    try:
        clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=WAIT_S)
                   for _ in range(conversations)]
        tokens: dict[int, str] = {}
        for n, client in enumerate(clients):  # open the pages first: the cookie, and the token in the page
            page = await client.get("/chat", headers={"accept-language": "zh-CN"})
            tokens[n] = page.text.split('data-csrf="', 1)[1].split('"', 1)[0]
            visitors[n] = app.state.signer.unsign(client.cookies.get("kcxf_visitor"), salt=VISITOR_SALT)
        sessions = await runtime.sessionmaker()
        async with sessions() as session, session.begin():
            session.add_all(WebIdentity(email_hash=f"{n:064x}", external_id=visitors[n], verified_at=utcnow())
                            for n in range(conversations))
        people = [Conversation(n) for n in range(conversations)]

        def channel(n: int) -> tuple[Say, Press]:
            client, counter = clients[n], iter(range(10_000))

            async def post(body: dict[str, Any]) -> Shown:
                answer = await client.post("/chat/api/messages", json={"id": f"b{next(counter)}", **body},
                                           headers={"x-csrf-token": tokens[n]})
                answer.raise_for_status()
                replies = [r for r in answer.json()["replies"] if r["type"] == "text"]
                last = replies[-1]
                return Shown(last["text"], {unstamped(c["value"])[0]: c["value"] for c in last.get("choices", [])}
                             | {"keyboard": last.get("keyboard", "")})

            async def say(text: str, *, question: bool = True) -> Shown:
                return await post({"text": text})

            async def press(shown: Shown, value: str) -> Shown:
                return await post({"choice": shown.buttons[value], "keyboard": shown.buttons["keyboard"]})

            return say, press

        started = time.perf_counter()
        await asyncio.gather(*(drive(me, form, *channel(me.n)) for me in people))
        wall = time.perf_counter() - started
        for client in clients:
            await client.aclose()
        lost, problems = await _verify(runtime, people, lambda n: visitors[n], WEB)
    finally:
        await side.stop()
        await runtime.close()
    return _result("web", "web chat (HTTP)", people, wall, lost, problems)


# -- Telegram through the Bot API stub ----------------------------------------------------------------------
class _RoutedStub(BotApiStub):
    """The stub, each chat's messages also put on that chat's queue: 300 drivers each scanning the stub's one list
    of calls at every call would make the driver, not the bot, what is measured."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inbox: defaultdict[int, asyncio.Queue[Call]] = defaultdict(asyncio.Queue)

    async def _record(self, call: Call) -> None:
        await super()._record(call)
        if call.method == "sendMessage":
            self.inbox[int(call.params["chat_id"])].put_nowait(call)


async def run_telegram(conversations: int, data_dir: Path) -> PathResult:
    """N Telegram users, the bot polling the stub as `kcxf bot` does."""
    from bot.adapters.telegram import CHANNEL as TELEGRAM
    from bot.adapters.telegram import build_application

    stub = await _RoutedStub(token="123:BENCH").start()
    settings = _settings(data_dir, telegram_token=stub.token, telegram_base_url=f"{stub.url}/bot",
                         telegram_base_file_url=f"{stub.url}/file/bot")
    runtime = Runtime.open(settings)
    engine = await runtime.engine(answerer=Decliner())
    # With the outbox delivered as `kcxf bot` delivers it: a reply whose send timed out under this load is queued,
    # and reaches the entrant (and this driver) through the outbox, as it would in production.
    application = build_application(engine, settings=settings, background=lambda send: runtime.background(
        engine, channel=TELEGRAM, send=send, outbox_interval_s=OUTBOX_INTERVAL_S))
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    form = runtime.forms[AWARD]
    first_user = 5_000_000
    people = [Conversation(n) for n in range(conversations)]

    def channel(n: int) -> tuple[Say, Press]:
        user = first_user + n

        inbox = stub.inbox[user]

        async def reply(question: bool) -> Shown:
            while True:
                call = await asyncio.wait_for(inbox.get(), WAIT_S)
                # A step's last message is its question (buttons, or the form's progress line), unless the
                # step is answered by one message alone.
                if not question or call.buttons or QUESTION_MARK in call.text:
                    break
            shown = Shown(call.text, {unstamped(data)[0]: data for _, data in call.buttons})
            shown.buttons["message_id"] = str(call.message_id)
            return shown

        def drain() -> None:  # what an earlier step left (a reply sent twice: once late, once by the outbox)
            while not inbox.empty():
                inbox.get_nowait()

        async def say(text: str, *, question: bool = True) -> Shown:
            drain()
            stub.send_text(user, text)
            return await reply(question)

        async def press(shown: Shown, value: str) -> Shown:
            drain()
            stub.press(user, int(shown.buttons["message_id"]), shown.buttons[value])
            return await reply(True)

        return say, press

    try:
        started = time.perf_counter()
        await asyncio.gather(*(drive(me, form, *channel(me.n)) for me in people))
        wall = time.perf_counter() - started
        lost, problems = await _verify(runtime, people, lambda n: str(first_user + n), TELEGRAM)
    finally:
        if application.updater.running:
            await application.updater.stop()
        await application.stop()
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
        await runtime.close()
        await stub.close()
    return _result("telegram", "telegram (Bot API stub)", people, wall, lost, problems)


async def run(conversations: int) -> list[PathResult]:
    """Both channels, one after the other, each on a fresh SQLite data folder."""
    with tempfile.TemporaryDirectory(prefix="kcxf-bench-web-") as tmp:
        web = await run_web(conversations, Path(tmp) / "web")
        log.warning("web chat: %d steps in %.1f s, %d lost", web.steps, web.wall_s, web.lost)
        telegram = await run_telegram(conversations, Path(tmp) / "telegram")
    return [telegram, web]


def print_table(results: Sequence[PathResult], console: Console | None = None) -> None:
    """Steps per second and latency of each channel, side by side."""
    console = console or Console(width=160)
    count = results[0].conversations if results else 0
    table = Table(title=f"Web chat beside Telegram: {count} concurrent conversations each, one process, SQLite")
    for col in ("path", "steps", "steps/s", "step p50 ms", "step p95 ms", "wall s", "lost"):
        table.add_column(col, justify="left" if col == "path" else "right")
    for r in results:
        table.add_row(r.path, str(r.steps), f"{r.steps_per_s:.0f}", f"{r.p50_ms:.0f}", f"{r.p95_ms:.0f}",
                      f"{r.wall_s:.1f}", f"{r.lost}/{r.conversations}")
    console.print(table)
    for r in results:
        for problem in r.problems:
            console.print(f"[red]{r.path}: {problem}[/red]", highlight=False)


def main(argv: Sequence[str] | None = None) -> list[PathResult]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(run(args.conversations))
    print_table(results)
    return results


if __name__ == "__main__":
    main()
