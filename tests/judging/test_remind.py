"""Reminders to judges who are behind, end to end through a real SMTP server (aiosmtpd) on loopback: the round
page's button and `kcxf judging remind` each send one mail per judge with entries left, in the judge's language,
naming how many are left; a judge who is done (scored or declared a conflict on everything) gets nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from config.settings import Settings
from console.audit import AuditEntry
from console.staff import add_staff, get_staff
from judging import rounds, score
from judging.models import Assignment
from tests.console.conftest import csrf_of, log_in
from tests.databases import kcxf_env
from tests.intake.test_mail import Collector, serve
from tests.judging.conftest import OPENED, PASSWORD
from tests.judging.test_cli import Ran

AWARD = "pioneer_product"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    """A real SMTP server on a random loopback port."""
    yield from serve()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, smtp_server: tuple[Collector, int]) -> Settings:
    """The test settings, mailing through the loopback server."""
    return Settings(_env_file=None, data_dir=tmp_path / "var", database_url=database_url,  # type: ignore[call-arg]
                    smtp_host="127.0.0.1", smtp_port=smtp_server[1], smtp_timeout_s=5.0,
                    smtp_from="kcxf-bot@example.cn")


def kcxf_mailing(settings: Settings, *args: str) -> Ran:
    """`kcxf …` in this process on the environment a deployment with mail sets (KCXF_SMTP_*)."""
    env = {**kcxf_env(settings), "COLUMNS": "250", "KCXF_SMTP_HOST": str(settings.smtp_host),
           "KCXF_SMTP_PORT": str(settings.smtp_port), "KCXF_SMTP_FROM": settings.smtp_from,
           "KCXF_SMTP_TIMEOUT_S": str(settings.smtp_timeout_s)}
    result = CliRunner().invoke(app, list(args), env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)


def _mails(collector: Collector) -> dict[str, tuple[str, str]]:
    """{recipient: (subject, plain body)} of what the server received."""
    out = {}
    for received in collector.messages:
        message = received.message
        [to] = received.rcpt_tos
        body = message.get_body(preferencelist=("plain",))
        assert body is not None and to == message["To"]
        out[to] = (str(message["Subject"]), body.get_content())
    return out


async def _round_with_progress(runtime: Runtime) -> int:
    """A round of three entries, every judge on every entry: ma.judge has scored nothing (3 left), li.judge (English)
    one (2 left), du.judge is done (two scored, a conflict on the third), no.mail.judge has no address."""
    from tests.console.factories import seed

    await seed(runtime, 3, awards=(AWARD,), overseas_every=0)
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        judges = [await add_staff(session, name="ma.judge", password=PASSWORD, role="judge", email="ma@example.org"),
                  await add_staff(session, name="li.judge", password=PASSWORD, role="judge", lang="en",
                                  email="li@example.org"),
                  await add_staff(session, name="du.judge", password=PASSWORD, role="judge", email="du@example.org"),
                  await add_staff(session, name="no.mail.judge", password=PASSWORD, role="judge")]
        round_ = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts, award_id=AWARD,
                                         stage_id="first", judges=judges, actor="chair", now=OPENED)
        round_id = round_.id
    card = runtime.scorecards.for_award(AWARD)
    complete = score.CardInput(scores={d.id: "7" for d in card.dimensions},
                               risk_levels={r.id: "none" for r in runtime.scorecards.risks}, recommendation="yes")
    async with sessions() as session, session.begin():
        rows = (await session.scalars(select(Assignment).where(Assignment.round_id == round_id)
                                      .order_by(Assignment.submission_id))).all()
        du = [a for a in rows if a.judge_name == "du.judge"]
        li = [a for a in rows if a.judge_name == "li.judge"]
        await score.declare(session, du[0], conflict=True, note="顾问", actor="du.judge", now=OPENED)
        for assignment, name in ((du[1], "du.judge"), (du[2], "du.judge"), (li[0], "li.judge")):
            await score.declare(session, assignment, conflict=False, note="", actor=name, now=OPENED)
            checked = await score.save_card(session, assignment, complete, scorecards=runtime.scorecards,
                                            award_id=AWARD, submit=True, actor=name, now=OPENED)
            assert not checked.problems
    return round_id


async def test_the_remind_button_and_the_cli_mail_each_judge_behind_once(
    client: httpx.AsyncClient, console_runtime: Runtime, make_staff, smtp_server: tuple[Collector, int],
    settings: Settings,
):
    collector, _ = smtp_server
    runtime = console_runtime
    round_id = await _round_with_progress(runtime)

    await make_staff("chair", "reviewer")
    assert (await log_in(client, "chair")).status_code == 303
    page = await client.get(f"/judging/rounds/{round_id}")
    token = csrf_of(page.text)
    assert page.status_code == 200 and f"/judging/rounds/{round_id}/remind" in page.text
    reminded = await client.post(f"/judging/rounds/{round_id}/remind", data={"csrf_token": token})
    assert reminded.status_code == 303
    shown = unescape((await client.get(reminded.headers["location"])).text)
    assert re.search(r"已发邮件提醒：li\.judge, ma\.judge；未能提醒：no\.mail\.judge", shown), shown

    mails = _mails(collector)
    assert sorted(mails) == ["li@example.org", "ma@example.org"]  # one each; none to du.judge, who is done
    subject, body = mails["ma@example.org"]
    assert "您还有 3 份申报待评分" in subject and "还有 3 份尚未提交评分" in body and "ma.judge" in body
    assert "年度科创先锋产品" in subject and "初审" in subject and f"第 {round_id} 轮" in body
    subject, body = mails["li@example.org"]  # in the judge's own console language
    assert "entries waiting for your score: 2" in subject and "still need your score: 2." in body
    assert "Dear li.judge" in body and "First review" in subject

    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        [entry] = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "judging.remind"))).all()
        assert entry.actor == "chair" and entry.target == f"round:{round_id}"

    # li.judge submits another; the script reminds again: ma.judge still 3, li.judge now 1.
    async with sessions() as session, session.begin():
        li = await get_staff(session, "li.judge")
        assert li is not None
        second = (await session.scalars(select(Assignment).where(
            Assignment.round_id == round_id, Assignment.judge_id == li.id, Assignment.state != "submitted")
            .order_by(Assignment.submission_id))).first()
        assert second is not None
        card = runtime.scorecards.for_award(AWARD)
        await score.declare(session, second, conflict=False, note="", actor="li.judge", now=OPENED)
        await score.save_card(session, second, score.CardInput(
            scores={d.id: "6" for d in card.dimensions}, risk_levels={r.id: "none" for r in runtime.scorecards.risks},
            recommendation="neutral"), scorecards=runtime.scorecards, award_id=AWARD, submit=True,
            actor="li.judge", now=OPENED)
    collector.messages.clear()
    ran = await asyncio.to_thread(kcxf_mailing, settings, "judging", "remind", "--round", str(round_id))
    assert ran.returncode == 0, ran.stderr
    assert "Reminded: li.judge, ma.judge" in ran.stdout and "not reached: no.mail.judge" in ran.stdout
    mails = _mails(collector)
    assert sorted(mails) == ["li@example.org", "ma@example.org"]
    assert "3 份" in mails["ma@example.org"][0] and "score: 1 (" in mails["li@example.org"][0]
