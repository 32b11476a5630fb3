"""`kcxf bot` killed with SIGKILL in the middle of an application, twice, and started again each time.

The bot long-polls the Bot API stub over HTTP, with its state in a SQLite file. Telegram hands an update out
again until a later getUpdates confirms it; a worker killed before that confirmation gets its updates
redelivered to the next one. The stub does exactly that (hold_confirmations), so the restarted bot meets both
kinds of repeat: an update the killed bot had already handled and answered, and one it had taken but not yet
handled. The first must change nothing, the second must be handled as new.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import Settings
from db.session import make_engine, make_sessionmaker
from intake.queue import Submission
from tests.conftest import copy_index
from tests.processes import child_env
from tests.shipped import shipped_forms
from tests.stubs import BotApiStub, Call

from .applicants import PROGRESS, Applicant, assert_holds_exactly
from .test_telegram import Person

ENTRANT = 77
AWARD = "pioneer_product"
START_S = 180.0  # a loaded machine may take long to import and build the index


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.let_go()
    await api.close()


def bot_env(stub: BotApiStub, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `kcxf bot` on the stub, the campaign clock inside the application window."""
    env = child_env()
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


class Entrant(Person):
    """The entrant on Telegram, answering whatever the bot asks (see applicants.Applicant)."""

    def __init__(self, stub: BotApiStub, *, applicant: Applicant) -> None:
        super().__init__(stub, user_id=applicant.user_id)
        self.applicant = applicant

    async def step(self) -> Call | None:
        """Do the next action and wait for the bot's answer to it; None once the form is submitted."""
        action = await self.applicant.next_action()
        if action is None:
            return None
        if action.kind == "type":
            return await self.act(lambda: self.stub.send_text(self.user_id, action.value))
        return await self.act_press(action.value)


def questions(stub: BotApiStub) -> list[str]:
    """Every form question the bot sent the entrant, as sent (progress line and prompt)."""
    return [c.text for c in stub.sent() if c.params.get("chat_id") == ENTRANT and PROGRESS.match(c.text)]


async def test_a_killed_bot_loses_nothing_typed_and_asks_nothing_twice(
    stub: BotApiStub, tmp_path: Path, kb_template: Path,
):
    # The bot's lives start on a copy of the session's built index: what is tested is what a kill loses, not
    # the index's first build (which the first life would otherwise do).
    data_dir = copy_index(kb_template, tmp_path / "var")
    db_url = Settings(_env_file=None, data_dir=data_dir).db_url  # type: ignore[call-arg]
    form = shipped_forms()[AWARD]
    pool = make_engine(db_url)
    try:
        me = Entrant(stub, applicant=Applicant(ENTRANT, form, make_sessionmaker(pool)))
        unhandled = await _three_lives(stub, bot_env(stub, data_dir), tmp_path, me)
    finally:
        await pool.dispose()

    asked = questions(stub)
    assert len(asked) == len(set(asked)), [q for q in asked if asked.count(q) > 1]
    typed = me.applicant.typed
    assert unhandled in typed and len(asked) >= len(typed)
    record = await _submission(db_url)
    assert_holds_exactly(form, record.answers, typed, today=record.created_at.date())
    assert sum("KCXF-2024-" in c.text for c in stub.sent() if c.params.get("chat_id") == ENTRANT) == 1
    assert [c for c in stub.sent("sendDocument") if c.params.get("chat_id") == ENTRANT]


async def _three_lives(stub: BotApiStub, env: dict[str, str], tmp_path: Path, me: Entrant) -> str:
    """The bot started three times, killed twice, until the form is submitted; returns the position of the
    answer that was taken but not handled before the second kill."""
    # First life: the pre-check and a few answers, then an answer the bot handles and answers, but whose
    # confirmation never reaches Telegram.
    async with running_bot(stub, env, tmp_path / "bot-1.log") as first:
        await me.act(lambda: stub.send_text(ENTRANT, "/apply"))
        for _ in range(5 + 5):  # the pre-check's five buttons, then five questions
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
        action = await me.applicant.next_action()
        assert action is not None and action.kind == "type", action
        _, _, data, _ = await me.applicant.where()
        unhandled = data["position"]
        arrived = len(stub.arrived)
        stub.send_text(ENTRANT, action.value)
        taken_not_handled = stub.queued[-1]
        await stub.wait_until(lambda: "sendChatAction" in stub.arrived[arrived:], within=START_S)
        await kill(second)
    await stub.let_go()
    _, step, data, _ = await me.applicant.where()
    assert (step, data["position"]) == ("ask", unhandled)  # that answer really was not handled

    # Third life: the taken update comes again and is handled now; the form is finished.
    mark = len(stub.calls)
    async with running_bot(stub, env, tmp_path / "bot-3.log"):
        await stub.wait_until(lambda: stub.fetched.count(taken_not_handled) == 2, within=START_S)
        await stub.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == ENTRANT,
                            after=mark, within=START_S)
        for _ in range(200):
            if await me.step() is None:
                break
        else:
            raise AssertionError("the form never ended")
        await stub.wait_for(lambda c: c.method == "sendDocument", within=START_S)
    return unhandled


async def _submission(db_url: str) -> Submission:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            [record] = (await session.scalars(select(Submission))).all()
            return record
    finally:
        await engine.dispose()

