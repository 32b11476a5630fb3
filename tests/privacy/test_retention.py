"""Retention on the injectable clock: abandoned drafts go with their files; submitted entries and recent drafts stay."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.events import CommandIn, FileIn
from bot.users import User
from config import Campaign, FixedClock, Settings
from intake import queue, sealing
from intake.drafts import Draft
from intake.forms import Form
from intake.retention import purge_abandoned
from knowledge.answer import KnowledgeBase
from tests.bot.test_telegram import _serving, stub, tg_settings  # noqa: F401 - fixtures
from tests.intake.factories import add_draft, typed_answer
from tests.intake.test_flow import Entrant, _declare_and_submit, _engine, _text, forms  # noqa: F401 - a fixture
from tests.stubs import BotApiStub

DAY = timedelta(days=1)


async def open_drafts(sessionmaker) -> dict[str, Draft]:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        rows = await session.execute(select(User.external_id, Draft).join(User).where(Draft.status == "open"))
        return dict(rows.all())  # type: ignore[arg-type]


async def answer_one(entrant: Entrant) -> None:
    position = (await entrant.state())[2]["position"]
    await entrant.say(typed_answer(entrant.form, entrant.form.field(position), typed={}, long_text=None))


def upload(tmp_path: Path, name: str) -> FileIn:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4 " + name.encode())
    return FileIn(file_name=name, mime_type="application/pdf", size=path.stat().st_size, path=path)


async def test_drafts_untouched_past_the_retention_period_are_purged_with_their_files(
    sessionmaker, kb, texts, campaign: Campaign, clock: FixedClock, settings: Settings,
    forms: dict[str, Form], tmp_path: Path,  # noqa: F811
):
    engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)
    start, days = clock.now(), settings.draft_retention_days
    quiet = Entrant(engine, forms["pioneer_product"], user_id="quiet")  # starts, uploads, goes quiet
    await quiet.to_form()
    await quiet.send(upload(tmp_path, "手册.pdf"))
    await answer_one(quiet)
    done = Entrant(engine, forms["pioneer_product"], user_id="done")  # submits an entry with an attachment
    await done.to_form()
    await done.send(upload(tmp_path, "产品.pdf"))
    await done.fill()
    await _declare_and_submit(done)
    back = Entrant(engine, forms["pioneer_product"], user_id="back")  # returns to their draft later
    await back.to_form()
    clock.advance(60 * DAY)
    await answer_one(back)
    drafts = await open_drafts(sessionmaker)
    assert set(drafts) == {"quiet", "back"}
    [quiet_file] = [a["file_id"] for a in drafts["quiet"].answers["attachments"]]
    async with sessionmaker() as session:
        record = await session.scalar(select(queue.Submission))
        assert record is not None
        [kept_file] = [a["path"] for a in record.attachments]

    clock.set(start + days * DAY)  # exactly the period: not yet
    report = await purge_abandoned(sessionmaker, now=clock.now(), days=days, files_dir=settings.files_dir)
    assert report.drafts == 0 and set(await open_drafts(sessionmaker)) == {"quiet", "back"}

    clock.advance(DAY)
    report = await purge_abandoned(sessionmaker, now=clock.now(), days=days, files_dir=settings.files_dir,
                                   dry_run=True)
    assert (report.drafts, report.users, report.files, report.dry_run) == (1, 1, 1, True)
    assert set(await open_drafts(sessionmaker)) == {"quiet", "back"} and (settings.files_dir / quiet_file).is_file()
    report = await purge_abandoned(sessionmaker, now=clock.now(), days=days, files_dir=settings.files_dir)
    assert (report.drafts, report.users, report.files, report.cutoff) == (1, 1, 1, start + DAY)
    assert sealing.installed().remembered == 0  # plain values remembered from opening answers are dropped too
    assert set(await open_drafts(sessionmaker)) == {"back"}
    assert not (settings.files_dir / quiet_file).exists() and (settings.files_dir / kept_file).is_file()
    async with sessionmaker() as session:
        assert await session.scalar(select(queue.Submission)) is not None
        assert len(list(await session.scalars(select(Draft).join(User).where(User.external_id == "quiet")))) == 0

    # The quiet entrant was mid-form: told what happened (the call has closed by now), and nothing is left.
    replies = _text(await quiet.say("上海科创先锋科技有限公司"))
    assert f"超过 {days} 天未填写而自动删除" in replies and "截止" in replies
    assert "您还没有申报草稿" in _text(await quiet.send(CommandIn("drafts")))
    # And again, a day later, nothing more to purge.
    clock.advance(DAY)
    assert (await purge_abandoned(sessionmaker, now=clock.now(), days=days, files_dir=settings.files_dir)).drafts == 0


async def test_kcxf_purge_dry_run_then_purge(
    sessionmaker, kb, texts, campaign: Campaign, clock: FixedClock, settings: Settings,
    forms: dict[str, Form],  # noqa: F811
):
    engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)
    entrant = Entrant(engine, forms["innovation_park"], user_id="cli")
    await entrant.to_form()
    await answer_one(entrant)
    later = (clock.now() + 100 * DAY).isoformat()
    env = {**os.environ, "KCXF_DATA_DIR": str(settings.data_dir), "KCXF_NOW": later, "COLUMNS": "200"}

    def kcxf(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "purge", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    dry = kcxf("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Would purge 1 drafts of 1 users" in dry.stdout and "Nothing was changed" in dry.stdout
    assert set(await open_drafts(sessionmaker)) == {"cli"}
    assert "Would purge 0 drafts" in kcxf("--dry-run", "--days", "120").stdout
    done = kcxf()
    assert done.returncode == 0, done.stderr
    assert "Purged 1 drafts of 1 users" in done.stdout and "(90 days)" in done.stdout
    assert await open_drafts(sessionmaker) == {}


async def test_the_running_bot_purges_at_start_and_daily(
    sessionmaker, settings: Settings, stub: BotApiStub, tg_settings: Settings, kb: KnowledgeBase,  # noqa: F811
):
    assert tg_settings.db_url == settings.db_url  # the bot works on the database this test writes
    async with sessionmaker() as session, session.begin():
        user = User(channel="telegram", external_id="777")
        session.add(user)
        await session.flush()
        tz = ZoneInfo("Asia/Shanghai")
        await add_draft(session, user_id=user.id, award_id="pioneer_product", now=datetime(2024, 6, 1, tzinfo=tz))
        await add_draft(session, user_id=user.id, award_id="pioneer_person", now=datetime(2024, 9, 20, tzinfo=tz))
    async with _serving(tg_settings, kb):
        for _ in range(200):  # the first purge runs as the bot starts; wait for it, then look
            async with sessionmaker() as session:
                remaining = list(await session.scalars(select(Draft.award_id)))
            if remaining == ["pioneer_person"]:
                break
            await asyncio.sleep(0.05)
    assert remaining == ["pioneer_person"]
