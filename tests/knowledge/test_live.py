"""A running bot answers from knowledge another process changed, without a restart.

The bot is this test process (a runtime's engine, checking the revision before every answer); the maintainer
is `kcxf kb …` run as a real subprocess on the same database. Both stores are exercised: the embedded Chroma
folder they share, and a real Chroma server (`chroma run`) on loopback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.events import TextIn
from bot.replies import TextOut
from bot.runtime import Runtime
from bot.users import UserRef
from config.settings import Settings
from tests.conftest import copy_index
from tests.knowledge.conftest import live_settings

KCXF = [sys.executable, "-m", "bot"]
CHROMA = Path(sys.executable).with_name("chroma")
USER = UserRef(channel="test", external_id="entrant")
LUNCH_ZH = "论坛现场提供午餐吗"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on loopback, its index built from the shipped guideline and FAQ."""
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # readiness poll, not a timing assertion: give up after about 30 s
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the Chroma server did not start")
        builder = Runtime.open(Settings(_env_file=None, data_dir=folder / "builder", chroma_url=url))  # type: ignore[call-arg]
        builder.knowledge  # noqa: B018 - index the guideline and the FAQ on the server once
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, kb_template: Path, tmp_path: Path) -> tuple[Path, str | None]:
    """(data folder, Chroma URL): the bot and the maintainer's process share both."""
    if request.param == "embedded":
        return copy_index(kb_template, tmp_path / "var"), None
    url: str = request.getfixturevalue("chroma_server")
    return tmp_path / "var", url


def kcxf(store: tuple[Path, str | None], *args: str) -> subprocess.CompletedProcess[str]:
    data_dir, url = store
    env = {**os.environ, "KCXF_DATA_DIR": str(data_dir), "COLUMNS": "200", "ANONYMIZED_TELEMETRY": "False"}
    env.pop("KCXF_CHROMA_URL", None)
    if url:
        env["KCXF_CHROMA_URL"] = url
    done = subprocess.run([*KCXF, *args], capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    return done


async def ask(engine, text: str) -> str:  # type: ignore[no-untyped-def]
    [reply] = await engine.handle(USER, TextIn(text))
    assert isinstance(reply, TextOut)
    return reply.text


async def test_the_running_bot_follows_faq_edits_made_in_another_process(store: tuple[Path, str | None]):
    data_dir, url = store
    runtime = Runtime.open(live_settings(data_dir, chroma_url=url))
    engine = await runtime.engine()
    try:
        assert "kcxf@thepaper.cn" in await ask(engine, LUNCH_ZH)  # declined: nothing says so yet

        kcxf(store, "kb", "faq", "add", "forum_lunch", "--section", "八", "--q-zh", LUNCH_ZH,
             "--a-zh", "论坛当天为入围者提供午餐。", "--q-en", "Is lunch provided at the forum?",
             "--a-en", "Finalists are given lunch on forum day.")
        assert "提供午餐" in await ask(engine, LUNCH_ZH)
        assert "given lunch" in await ask(engine, "Is lunch provided at the forum?")

        kcxf(store, "kb", "faq", "add", "forum_lunch", "--section", "八", "--q-zh", LUNCH_ZH,
             "--a-zh", "论坛当天不提供午餐，请自行安排。")
        reply = await ask(engine, LUNCH_ZH)
        assert "自行安排" in reply and "为入围者提供午餐" not in reply

        kcxf(store, "kb", "faq", "remove", "forum_lunch")
        reply = await ask(engine, LUNCH_ZH)
        assert "午餐" not in reply and "kcxf@thepaper.cn" in reply
    finally:
        await runtime.close()


async def test_the_running_bot_follows_documents_added_and_removed_elsewhere(
    store: tuple[Path, str | None], tmp_path: Path
):
    data_dir, url = store
    notice = tmp_path / "shuttle-notice.md"
    notice.write_text("---\ndoc: shuttle-notice\nlang: zh\ntitle: 论坛交通通知\n---\n# 论坛交通通知\n\n"
                      "## 接驳班车\n\n论坛当天组委会在人民广场地铁站安排接驳班车，每 20 分钟一班。\n", encoding="utf-8")
    runtime = Runtime.open(live_settings(data_dir, chroma_url=url))
    engine = await runtime.engine()
    try:
        assert "人民广场" not in await ask(engine, "论坛那天有接驳班车吗")
        kcxf(store, "kb", "ingest", str(notice))
        reply = await ask(engine, "论坛那天有接驳班车吗")
        assert "人民广场" in reply and "论坛交通通知" in reply
        kcxf(store, "kb", "remove", "shuttle-notice")
        assert "人民广场" not in await ask(engine, "论坛那天有接驳班车吗")
    finally:
        await runtime.close()


async def test_between_checks_the_bot_keeps_its_version(chroma_server: str, tmp_path: Path):
    store_ = (tmp_path / "var", chroma_server)
    settings = Settings(_env_file=None, data_dir=store_[0], chroma_url=chroma_server, knowledge_check_s=3600)  # type: ignore[call-arg]
    runtime = Runtime.open(settings)
    engine = await runtime.engine()
    try:
        kcxf(store_, "kb", "faq", "add", "forum_lunch", "--section", "八", "--q-zh", LUNCH_ZH,
             "--a-zh", "论坛当天为入围者提供午餐。")
        # Checked at most once an hour: the change is not seen yet, and answering still works.
        assert "提供午餐" not in await ask(engine, LUNCH_ZH)
        seen = runtime.knowledge.revision
        runtime.knowledge.check_every_s = 0
        assert "提供午餐" in await ask(engine, LUNCH_ZH)
        assert runtime.knowledge.revision == seen + 1
    finally:
        kcxf(store_, "kb", "faq", "remove", "forum_lunch")
        await runtime.close()


async def test_an_embedded_store_that_moved_between_checks_keeps_answering_then_is_reopened(kb_template: Path,
                                                                                            tmp_path: Path):
    store_ = (copy_index(kb_template, tmp_path / "var"), None)
    runtime = Runtime.open(Settings(_env_file=None, data_dir=store_[0], knowledge_check_s=3600))  # type: ignore[call-arg]
    engine = await runtime.engine()
    try:
        kcxf(store_, "kb", "faq", "add", "forum_lunch", "--section", "八", "--q-zh", LUNCH_ZH,
             "--a-zh", "论坛当天为入围者提供午餐。")
        # The other process's records are in the folder's SQLite file but not in this process's snapshot, which
        # is all a question reads: the bot answers from its version, as with a Chroma server, without failing.
        assert "提供午餐" not in await ask(engine, LUNCH_ZH)
        assert "截止" in await ask(engine, "报名截止时间是什么时候？")
        # At the next check it reopens the store and answers from the new state.
        runtime.knowledge.check_every_s = 0
        assert "提供午餐" in await ask(engine, LUNCH_ZH)
        assert "截止" in await ask(engine, "报名截止时间是什么时候？")
    finally:
        await runtime.close()
