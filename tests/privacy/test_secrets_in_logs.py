"""The bot's token never reaches the log: httpx's request lines are kept quiet, and the filter removes tokens."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from intake.sensitive import RedactingFilter
from tests.conftest import copy_index
from tests.processes import child_env
from tests.stubs import BotApiStub

# Shaped like a token from @BotFather: the bot's id, a colon, 35 characters of secret.
TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SECRET = TOKEN.split(":", 1)[1]
START_S = 180.0  # a loaded machine may take long to import and build the index


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token=TOKEN).start()
    yield api
    await api.close()


async def test_kcxf_bot_verbose_logs_no_token(stub: BotApiStub, tmp_path: Path, kb_template: Path):
    """`kcxf -v bot` (INFO) polls the Bot API stub: python-telegram-bot's requests go out with the token in their
    address, and nothing of it is in what the bot logged."""
    log = tmp_path / "bot.log"
    # On a copy of the session's built index (the lines its first build logs hold no token either way).
    env = child_env() | {
        "KCXF_DATA_DIR": str(copy_index(kb_template, tmp_path / "var")), "KCXF_TELEGRAM_TOKEN": TOKEN,
        "KCXF_TELEGRAM_BASE_URL": f"{stub.url}/bot", "KCXF_TELEGRAM_BASE_FILE_URL": f"{stub.url}/file/bot",
    }
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "-v", "bot", env=env, cwd=tmp_path,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )
    polled = asyncio.ensure_future(_polled(stub))
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait({polled, exited}, timeout=START_S, return_when=asyncio.FIRST_COMPLETED)
    if process.returncode is None:
        process.terminate()
    await exited
    text = log.read_text(encoding="utf-8", errors="replace")
    # Done with an exception (a wait that timed out) is not polling: result() raises it.
    assert polled.done() and polled.exception() is None, f"the bot did not poll; its log ends:\n{text[-3000:]}"
    assert "Application started" in text, text[-2000:]  # it did log at INFO
    assert stub.calls, "the bot made no request"
    assert SECRET not in text, [line for line in text.splitlines() if SECRET in line][:3]


async def _polled(stub: BotApiStub) -> None:
    """Return once the bot is polling: its menu published, then a getUpdates after it."""
    await stub.wait_for(lambda c: c.method == "setMyCommands", within=START_S)
    # getUpdates is not among stub.calls (the stub records only what the bot sends), only among the requests
    # that arrived: waiting for it in stub.calls ran into its 30 s timeout on every run.
    after = len(stub.arrived)
    await stub.wait_until(lambda: "getUpdates" in stub.arrived[after:], within=30)


async def test_a_request_line_logged_anyway_has_the_token_removed(stub: BotApiStub, caplog: pytest.LogCaptureFixture):
    """With httpx's logger turned up to INFO (a logging config meant for debugging), the line of a real request
    to the Bot API stub is logged, with the token replaced."""
    caplog.set_level(logging.INFO, logger="httpx")
    guard = RedactingFilter()
    caplog.handler.addFilter(guard)
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{stub.url}/bot{TOKEN}/getMe")
            await client.post(f"{stub.url}/bot123:TEST/getMe")  # a short token, given away by its place only
        logging.getLogger("kcxf.test").warning("configured token %s", TOKEN)
    finally:
        caplog.handler.removeFilter(guard)
    assert answer.status_code == 200
    lines = [r.getMessage() for r in caplog.records]
    requests = [line for line in lines if "HTTP Request" in line]
    assert len(requests) == 2, lines
    assert all("/bot<secret>/getMe" in line for line in requests), requests
    assert "configured token <secret>" in lines
    assert not [line for line in lines if SECRET in line or "123:TEST" in line]
