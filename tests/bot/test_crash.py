"""`kcxf bot` killed with SIGKILL in the middle of an application, twice, and started again each time.

The bot long-polls the Bot API stub over HTTP, with its state in a SQLite file. Telegram hands an update out
again until a later getUpdates confirms it; a worker killed before that confirmation gets its updates
redelivered to the next one. The stub does exactly that (hold_confirmations), so the restarted bot meets both
kinds of repeat: an update the killed bot had already handled and answered, and one it had taken but not yet
handled. The first must change nothing, the second must be handled as new.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.state import ConversationState
from bot.users import User
from config.campaign import load_campaign
from config.settings import Settings
from db.session import make_engine, make_sessionmaker
from intake.flow import PREFIX
from intake.forms import Form, load_forms
from intake.queue import Submission
from tests.intake.factories import typed_answer
from tests.stubs import BotApiStub, Call

from .test_telegram import Person

ENTRANT = 77
AWARD = "pioneer_product"
START_S = 180.0  # a loaded machine may take long to import and build the index
PROGRESS = re.compile(r"^第 \d+/\d+ 项 · ")


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.let_go()
    await api.close()


def bot_env(stub: BotApiStub, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `kcxf bot` on the stub, the campaign clock inside the application window."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCXF_")}
    return env | {
        "KCXF_DATA_DIR": str(data_dir), "KCXF_TELEGRAM_TOKEN": stub.token,
        "KCXF_TELEGRAM_BASE_URL": f"{stub.url}/bot", "KCXF_TELEGRAM_BASE_FILE_URL": f"{stub.url}/file/bot",
        "KCXF_NOW": "2024-10-01T10:00:00+08:00", "KCXF_TELEGRAM_RATE_PER_MINUTE": "1000",
    } | extra


@asynccontextmanager
async def running_bot(
    stub: BotApiStub, env: dict[str, str], log: Path, *, ready: bool = True,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot bot` as a subprocess; killed (SIGKILL) on the way out if still running."""
    mark = len(stub.calls)
    with log.open("ab") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "bot", env=env, cwd=log.parent,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )
    try:
        if ready:  # the menu is published just before the first getUpdates
            await stub.wait_for(lambda c: c.method == "setMyCommands", after=mark, within=START_S)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL: no shutdown code runs, nothing in hand is finished, the last getUpdates never confirms."""
    process.kill()
    assert await process.wait() == -9


class Applicant(Person):
    """The entrant, who answers whatever the bot asks, reading where the conversation stands from the database."""

    def __init__(self, stub: BotApiStub, *, db_url: str, form: Form) -> None:
        super().__init__(stub, user_id=ENTRANT)
        self.db_url, self.form = db_url, form
        self.typed: dict[str, str] = {}

    async def where(self) -> tuple[str | None, str | None, dict[str, Any]]:
        engine = make_engine(self.db_url)
        try:
            async with make_sessionmaker(engine)() as session:
                state = await session.scalar(select(ConversationState).join(User)
                                             .where(User.external_id == str(ENTRANT)))
                return (state.flow, state.step, dict(state.data)) if state else (None, None, {})
        finally:
            await engine.dispose()

    async def next_action(self) -> tuple[str, str] | None:
        """("type", text) or ("press", value) for the question the bot is at; None when the form is done."""
        flow, step, data = await self.where()
        if flow is None:
            return None
        if step == "ask":
            field = self.form.field(data["position"].split(".")[-1])
            if field.type == "file_list" or (field.type != "consent" and not field.required):
                return "press", f"{PREFIX}skip"
            answer = typed_answer(self.form, field, typed={}, long_text=None)
            self.typed[data["position"]] = answer
            return "type", answer
        return "press", f"{PREFIX}{'no' if step == 'more' else 'confirm' if step == 'summary' else 'yes'}"

    async def step(self) -> Call | None:
        """Do the next action and wait for the bot's answer to it."""
        action = await self.next_action()
        if action is None:
            return None
        kind, value = action
        if kind == "type":
            return await self.act(lambda: self.stub.send_text(ENTRANT, value))
        return await self.act_press(value)


def questions(stub: BotApiStub) -> list[str]:
    """Every form question the bot sent the entrant, as sent (progress line and prompt)."""
    return [c.text for c in stub.sent() if c.params.get("chat_id") == ENTRANT and PROGRESS.match(c.text)]


async def test_a_killed_bot_loses_nothing_typed_and_asks_nothing_twice(stub: BotApiStub, tmp_path: Path):
    data_dir = tmp_path / "var"
    env = bot_env(stub, data_dir)
    db_url = Settings(_env_file=None, data_dir=data_dir).db_url  # type: ignore[call-arg]
    form = load_forms(load_campaign(Settings(_env_file=None).campaign_file))[AWARD]  # type: ignore[call-arg]
    me = Applicant(stub, db_url=db_url, form=form)

    # First life: the pre-check and a few answers, then an answer the bot handles and answers, but whose
    # confirmation never reaches Telegram.
    async with running_bot(stub, env, tmp_path / "bot-1.log") as first:
        await me.act(lambda: stub.send_text(ENTRANT, "/apply"))
        for value in ("group:product", "yes", "no", f"award:{AWARD}", "agree"):
            await me.act_press(f"{PREFIX}{value}")
        for _ in range(5):
            await me.step()
        stub.hold_confirmations()
        assert await me.step() is not None
        handled_but_unconfirmed = stub.queued[-1]
        await kill(first)
    await stub.let_go()

    # Second life: Telegram hands the answered update out again (it must change nothing); then a new answer is
    # taken, and the bot is killed before it handles it (stalled at its first call, the typing action).
    async with running_bot(stub, env, tmp_path / "bot-2.log") as second:
        await stub.wait_until(lambda: stub.fetched.count(handled_but_unconfirmed) == 2, within=START_S)
        await stub.wait_until(lambda: stub.confirmed > handled_but_unconfirmed, within=START_S)
        # One user's updates are handled in order: once /help is answered, the repeat before it is done with.
        await me.say("/help", expect="/cancel")
        stub.hold_confirmations()
        stub.stall("sendChatAction")
        action = await me.next_action()
        assert action is not None and action[0] == "type", action
        _, _, data = await me.where()
        unhandled_position = data["position"]
        arrived = len(stub.arrived)
        stub.send_text(ENTRANT, action[1])
        taken_not_handled = stub.queued[-1]
        await stub.wait_until(lambda: "sendChatAction" in stub.arrived[arrived:], within=START_S)
        await kill(second)
    await stub.let_go()
    _, step, data = await me.where()
    assert (step, data["position"]) == ("ask", unhandled_position)  # that answer really was not handled


    # Third life: the taken update comes again and is handled now; the form is finished.
    mark = len(stub.calls)
    async with running_bot(stub, env, tmp_path / "bot-3.log"):
        await stub.wait_until(lambda: stub.fetched.count(taken_not_handled) == 2, within=START_S)
        await stub.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == ENTRANT,
                            after=mark, within=START_S)
        await stub.wait_until(lambda: stub.calls[-1].method == "sendMessage", within=START_S)
        for _ in range(200):
            if await me.step() is None:
                break
        else:
            raise AssertionError("the form never ended")
        await stub.wait_for(lambda c: c.method == "sendDocument", within=START_S)

    asked = questions(stub)
    assert len(asked) == len(set(asked)), [q for q in asked if asked.count(q) > 1]
    assert unhandled_position in me.typed and len(asked) >= len(me.typed)
    record = await _submission(db_url)
    # Everything typed is in the entry, each answer under the question it answered.
    for position, typed in me.typed.items():
        field = form.field(position.split(".")[-1])
        stored = _at(record.answers, position)
        expected = form.check(field, typed, lang="zh", today=record.created_at.date()).value
        assert stored == expected, (position, typed, stored)
    # And nothing else: an answer handled twice would have filled the next question unseen.
    assert _positions(form, record.answers) == set(me.typed)
    assert sum("KCXF-2024-" in c.text for c in stub.sent() if c.params.get("chat_id") == ENTRANT) == 1
    assert [c for c in stub.sent("sendDocument") if c.params.get("chat_id") == ENTRANT]


async def _submission(db_url: str) -> Submission:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            [record] = (await session.scalars(select(Submission))).all()
            return record
    finally:
        await engine.dispose()


def _at(answers: dict[str, Any], position: str) -> Any:
    """The answer at a position key: "field" or "group.item.field"."""
    parts = position.split(".")
    if len(parts) == 1:
        return answers.get(position)
    group, item, field = parts
    return answers[group][int(item)].get(field)


def _positions(form: Form, answers: dict[str, Any]) -> set[str]:
    """The position keys of every typed answer stored (the files are not typed)."""
    typed = {s.field.id for s in form.fields() if s.field.type != "file_list"}
    found = {key for key, value in answers.items() if key in typed and value not in (None, "", [])}
    for group in form.groups():
        for n, item in enumerate(answers.get(group.id) or []):
            found |= {f"{group.id}.{n}.{key}" for key, value in item.items()
                      if key in typed and value not in (None, "", [])}
    return found
