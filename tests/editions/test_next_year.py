"""Issue 16's "done when": next year's call is made from this year's with the CLI and a few data edits, and then,
with no code change, the bot serves it (its deadline, its new award, its own numbering), the bot between the two
calls says so plainly, and the console still shows last year's records under their year."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot.adapters.telegram import CHANNEL, build_application
from bot.runtime import Runtime
from bot.state import ConversationState
from bot.users import User
from config.clock import FixedClock
from config.settings import Settings
from console.app import create_app
from intake import queue
from tests.console.conftest import BASE_URL, log_in
from tests.intake.factories import typed_answer, with_position
from tests.processes import child_env
from tests.stubs import BotApiStub

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_2024 = datetime(2024, 10, 1, 10, 0, tzinfo=SHANGHAI)
BETWEEN = datetime(2025, 6, 1, 10, 0, tzinfo=SHANGHAI)  # 2024 is over, 2025 is prepared but not open
IN_2025 = datetime(2025, 10, 25, 10, 0, tzinfo=SHANGHAI)  # after 2024's old deadline day, before 2025's new one
PREFIX = "intake:"
ENTRANT = 77

NEW_AWARD = """
  - id: green_pioneer
    group: enterprise
    name: {zh: 年度绿色科创先锋, en: Green Sci-Tech Pioneer of the Year}
    summary:
      zh: 以科技创新推动节能降碳、资源循环利用的科创企业。
      en: Sci-tech enterprises whose innovation cuts energy use and carbon and keeps resources in use.
    criteria:
      - {zh: 减排成效, en: Emissions cut}
      - {zh: 资源循环, en: Circular use of resources}

  - id: pioneer_person"""

NEW_FORM = """# 年度绿色科创先锋: what this award looks for, one answer each.

sections:
  - id: award_criteria
    before: projects
    title: {zh: 本奖项评选要点, en: What this award looks for}
    fields:
      - id: emissions_cut
        type: long_text
        label: {zh: 减排成效, en: Emissions cut}
        prompt:
          zh: 企业的技术带来了哪些可量化的节能降碳成效？
          en: What measurable energy and carbon savings has the company's technology brought?
        limits: {min_len: 10, max_len: 2000}
      - id: circularity
        type: long_text
        label: {zh: 资源循环, en: Circular use of resources}
        prompt:
          zh: 企业如何让材料和资源循环利用？
          en: How does the company keep materials and resources in use?
        limits: {min_len: 10, max_len: 2000}
"""


def kcxf(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=300)


def replace_in(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, f"{old!r} not in {path}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def prepare_2025(editions: Path, env: dict[str, str]) -> None:
    """What the committee does in an afternoon: the CLI, then edits of data files only."""
    made = kcxf(env, "edition", "new", "2025", "--from", "2024")
    assert made.returncode == 0, made.stderr
    folder = editions / "2025"
    assert "deadline" in made.stdout and (folder / "REVIEW.md").exists()
    replace_in(
        folder / "campaign.yaml",
        ('deadline: "2025-10-21T00:00:00+08:00"', 'deadline: "2025-10-31T00:00:00+08:00"'),
        ("zh: 2025 年 10 月 20 日（周日）24 点", "zh: 2025 年 10 月 30 日（周四）24 点"),
        ("en: 20 October 2025 (Sunday), 24:00 Beijing time", "en: 30 October 2025 (Thursday), 24:00 Beijing time"),
        ('end: "2025-10-20"', 'end: "2025-10-30"'),
        ("zh: 2025年9月中旬-10月20日, en: Mid-September to 20 October 2025",
         "zh: 2025年9月中旬-10月30日, en: Mid-September to 30 October 2025"),
        ('start: "2025-10-21"', 'start: "2025-10-31"'), ('end: "2025-10-25"', 'end: "2025-11-05"'),
        ("zh: 2025年10月21日-10月25日, en: 21–25 October 2025", "zh: 2025年10月31日-11月5日, en: 31 October–5 November 2025"),
        ('start: "2025-10-26"', 'start: "2025-11-06"'),
        ("name: {zh: 年度科创先锋产品, en: Sci-Tech Pioneer Product of the Year}",
         "name: {zh: 年度硬核科创产品, en: Hard-Tech Product of the Year}"),
        ("\n  - id: pioneer_person", NEW_AWARD),
    )
    (folder / "forms" / "green_pioneer.yaml").write_text(NEW_FORM, encoding="utf-8")

    checked = kcxf(env, "edition", "check", "2025")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "faq.yaml deadline (zh)" in checked.stdout and "0 problem(s)" in checked.stdout
    # The operator reads what the check lists and corrects the deadline's answer.
    replace_in(folder / "faq.yaml",
               ("报名截止时间为 2024 年 10 月 20 日（周日）24 点。", "报名截止时间为 2025 年 10 月 30 日（周四）24 点。"),
               ("Entries close on 20 October 2024 (Sunday) at 24:00.",
                "Entries close on 30 October 2025 (Thursday) at 24:00."))
    (folder / "REVIEW.md").unlink()
    rechecked = kcxf(env, "edition", "check", "2025")
    assert rechecked.returncode == 0 and "faq.yaml deadline" not in rechecked.stdout, rechecked.stdout

    # A broken edition is refused before it goes live: an award without its form.
    (folder / "forms" / "green_pioneer.yaml").rename(folder / "forms" / "green.yaml.off")
    broken = kcxf(env, "edition", "check", "2025")
    assert broken.returncode == 1 and "green_pioneer" in broken.stdout, broken.stdout
    (folder / "forms" / "green.yaml.off").rename(folder / "forms" / "green_pioneer.yaml")


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Runtime]:
    """The bot as `kcxf bot` runs it, on the stub, answering from its own edition's knowledge base."""
    runtime = Runtime.open(settings)
    engine = await runtime.engine()
    app: Application = build_application(engine, settings=settings, background=lambda send: runtime.background(
        engine, channel=CHANNEL, send=send))
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None and app.updater is not None
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0.05, timeout=1)
    try:
        yield runtime
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
        await runtime.close()


async def _state(runtime: Runtime, user_id: int) -> tuple[str | None, str | None, dict]:
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        state = await session.scalar(select(ConversationState).join(User).where(
            User.channel == "telegram", User.external_id == str(user_id)))
        assert state is not None
        return state.flow, state.step, await with_position(session, state.data)


class Entrant:
    def __init__(self, stub: BotApiStub, user_id: int) -> None:
        self.stub, self.user_id = stub, user_id

    async def say(self, text: str) -> str:
        """Send a message and return the text of the bot's reply."""
        after = len(self.stub.calls)
        self.stub.send_text(self.user_id, text)
        typing = await self.stub.wait_for(lambda c: c.method == "sendChatAction", after=after)
        start = next(n for n in range(after, len(self.stub.calls)) if self.stub.calls[n] is typing)
        reply = await self.stub.wait_for(lambda c: c.method in {"sendMessage", "sendDocument"}, after=start)
        return reply.text

    async def press(self, value: str) -> None:
        offers = [c for c in self.stub.sent() if c.offering(value)]
        assert offers, f"no button offers {value}"
        after = len(self.stub.calls)
        self.stub.press(self.user_id, offers[-1].message_id, offers[-1].offering(value) or value)
        typing = await self.stub.wait_for(lambda c: c.method == "sendChatAction", after=after)
        start = next(n for n in range(after, len(self.stub.calls)) if self.stub.calls[n] is typing)
        await self.stub.wait_for(lambda c: c.method in {"sendMessage", "sendDocument"}, after=start)

    async def apply(self, runtime: Runtime, award_id: str) -> None:
        """/apply and answer every question of the award's form until the entry is submitted."""
        form = runtime.forms[award_id]
        await self.say("/apply")
        for value in (f"group:{form.award.group}", "track:next_gen_it", "yes", "no", f"award:{award_id}", "agree"):
            if any(c.offering(f"{PREFIX}{value}") for c in self.stub.sent()[-3:]):
                await self.press(f"{PREFIX}{value}")
        for _ in range(400):
            flow, step, data = await _state(runtime, self.user_id)
            if flow is None:
                return
            if step == "ask":
                field = form.field(data["position"].split(".")[-1])
                if field.type == "file_list" or (field.type != "declaration" and not field.required):
                    await self.press(f"{PREFIX}skip")
                else:
                    await self.say(typed_answer(form, field, typed={}, long_text=None))
            elif step == "more":
                await self.press(f"{PREFIX}no")
            elif step == "summary":
                await self.press(f"{PREFIX}confirm")
            else:
                await self.press(f"{PREFIX}yes")
        raise AssertionError("the application never ended")


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.close()


async def test_next_years_call_runs_without_a_code_change(stub: BotApiStub, tmp_path: Path, database_url: str | None):
    editions = Path(shutil.copytree(Settings(_env_file=None).editions_dir, tmp_path / "editions"))  # type: ignore[call-arg]
    data = tmp_path / "var"
    env = {**child_env(), "KCXF_EDITIONS_DIR": str(editions), "KCXF_DATA_DIR": str(data), "COLUMNS": "200"}
    if database_url:
        env["KCXF_DATABASE_URL"] = database_url
    prepare_2025(editions, env)

    def settings(now: datetime) -> Settings:
        return Settings(_env_file=None, data_dir=data, database_url=database_url, editions_dir=editions,  # type: ignore[call-arg]
                        now=now, telegram_token=stub.token, telegram_base_url=f"{stub.url}/bot",
                        telegram_base_file_url=f"{stub.url}/file/bot", telegram_rate_per_minute=1000)

    listed = kcxf({**env, "KCXF_NOW": IN_2025.isoformat()}, "edition", "list")
    assert listed.returncode == 0, listed.stderr
    [row_2024] = [line for line in listed.stdout.splitlines() if "2024 科创先锋案例征集" in line]
    [row_2025] = [line for line in listed.stdout.splitlines() if "2025 科创先锋案例征集" in line]
    assert "closed" in row_2024 and "open" in row_2025 and "●" in row_2025

    # `kcxf ask` in 2025 gives the 2025 deadline.
    asked = kcxf({**env, "KCXF_NOW": IN_2025.isoformat()}, "ask", "申报截止时间是什么时候？")
    assert asked.returncode == 0, asked.stderr
    assert "2025 年 10 月 30 日" in asked.stdout and "2024" not in asked.stdout

    # 2024: an entrant applies for the product award; the committee moves the record into first review.
    entrant = Entrant(stub, ENTRANT)
    async with serving(settings(IN_2024)) as runtime:
        assert runtime.edition.year == 2024
        await entrant.apply(runtime, "pioneer_product")
        sessions = await runtime.sessionmaker()
        async with sessions() as session, session.begin():
            await queue.change_status(session, reference="KCXF-2024-00001", to_status="first_review",
                                      note="材料齐全", actor="staff:alice", now=IN_2024)
    assert any("KCXF-2024-00001" in c.text for c in stub.sent())

    # Between the two calls the bot says so plainly.
    async with serving(settings(BETWEEN)) as runtime:
        assert runtime.edition.year == 2024
        apply = await entrant.say("/apply")
        assert "已于 2024 年 10 月 20 日（周日）24 点 截止" in apply
        assert "2025 科创先锋案例征集" in apply and "2025年9月中旬-10月30日" in apply
        # Rules come from the latest edition that ran, its year in sight.
        deadline = await entrant.say("申报截止时间是什么时候？")
        assert "2024 年 10 月 20 日" in deadline and "以上依据 2024 科创先锋案例征集" in deadline, deadline
        # Asked in traditional characters, the note under the answer is in them too, as the answer is.
        traditional = await entrant.say("申報截止時間是甚麼時候？")
        assert "以上依據 2024 科創先鋒案例徵集" in traditional and "依据" not in traditional, traditional
        status = await entrant.say("/status")
        assert "KCXF-2024-00001" in status and "年度科创先锋产品" in status and "初审中" in status

    # 2025: the same entrant applies for the new award and gets the year's first reference and its 申报表.
    before = len(stub.calls)
    async with serving(settings(IN_2025)) as runtime:
        assert runtime.edition.year == 2025 and len(runtime.campaign.awards) == 8
        await entrant.apply(runtime, "green_pioneer")
        sent = await stub.wait_for(lambda c: c.method == "sendDocument", after=before)
        [upload] = sent.files.values()
        assert upload.file_name.startswith("年度绿色科创先锋") and upload.data[:2] == b"PK"
        assert any("KCXF-2025-00001" in c.text for c in stub.sent(after=before))
        status = await entrant.say("/status")
        assert "KCXF-2025-00001" in status and "KCXF-2024-00001" in status and "年度科创先锋产品" in status

        # The console shows 2025 by default and 2024's records, forms and history under 2024.
        console = create_app(runtime, clock=FixedClock(IN_2025))
        sessions = await runtime.sessionmaker()
        from console.staff import add_staff
        async with sessions() as session, session.begin():
            await add_staff(session, name="alice", password="correct horse battery", role="admin", lang="zh")
        transport = httpx.ASGITransport(app=console, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"accept": "text/html"}) as web:
            assert (await log_in(web, "alice")).status_code == 303
            live = await web.get("/queue")
            assert "KCXF-2025-00001" in live.text and "KCXF-2024-00001" not in live.text
            past = await web.get("/queue?edition=2024")
            assert "KCXF-2024-00001" in past.text and "KCXF-2025-00001" not in past.text
            record = await web.get("/records/KCXF-2024-00001")
            assert record.status_code == 200 and "年度科创先锋产品" in record.text and "材料齐全" in record.text
            assert 'href="/queue?edition=2024"' in record.text  # back to the list it came from
            form = await web.get("/records/KCXF-2024-00001/form")
            assert form.status_code == 200 and form.content[:2] == b"PK"
            exported = await web.get("/queue/export.csv?edition=2024")
            assert "kcxf-queue-2024-" in exported.headers["content-disposition"]
            assert "KCXF-2024-00001" in exported.text and "KCXF-2025-00001" not in exported.text
            overview = await web.get("/?edition=2024")
            assert "年度科创先锋产品" in overview.text and "年度绿色科创先锋" not in overview.text
            assert "年度绿色科创先锋" in (await web.get("/")).text
