"""Answers that name the same thing, or must agree, through the chat as an entrant meets them.

The entrant's name (参选者名称) is the award's own subject field, never a question of its own; an answer that
contradicts an earlier one is refused at its question, naming the other answer, with nothing stored lost; and an
earlier answer changed from the summary that now contradicts a later one is shown at the summary and refused at
submission.
"""

from __future__ import annotations

import asyncio
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from docx import Document as Docx
from sqlalchemy import select

from bot.engine import Engine
from bot.events import CommandIn
from bot.replies import DocumentOut, TextOut
from bot.stamps import unstamped
from bot.users import User
from config.campaign import Campaign
from intake.agreement import disagreements
from intake.forms import Form
from intake.queue import Submission
from intake.render import render_form

from . import test_flow
from .factories import AWARDS, add_draft, answers_for, typed_answer
from .test_flow import Entrant, _declare_and_submit, _engine, _text

# The chat's fixtures: the shipped forms, and an engine with the intake flows.
engine, forms = test_flow.engine, test_flow.forms

# For each award, a name for its subject field unlike any other answer, and the one the entrant changes it to
# from the summary.
NAMES = {
    "enterprise_npf": ("上海新质智造科技有限公司", "上海新质智能装备有限公司"),
    "pioneer_engine": ("杭州引擎动力科技有限公司", "杭州引擎新能源有限公司"),
    "rising_potential": ("深圳新锐视觉科技有限公司", "深圳新锐智能科技有限公司"),
    "pioneer_person": ("李思远", "李思源"),
    "innovation_park": ("临港科技城", "临港新片区科技城"),
    "innovation_district": ("大学路创新街区", "大学路科创街区"),
    "pioneer_product": ("灵眸 X2 质检相机", "灵眸 X3 质检相机"),
}


async def fill_until(entrant: Entrant, key: str, *, typed: dict[str, str] | None = None) -> None:
    """Answer every question before the one with this key (`field` or `group.item.field`)."""
    for _ in range(200):
        _, step, data = await entrant.state()
        if step == "more":
            await entrant.press("intake:no")
            continue
        assert step == "ask", f"reached {step} before {key}"
        if data["position"] == key:
            return
        field = entrant.form.field(data["position"].split(".")[-1])
        if field.type == "file_list":
            await entrant.press("intake:skip")
            continue
        await entrant.say(typed_answer(entrant.form, field, typed=typed or {}, long_text=None))
    raise AssertionError(f"{key} never asked")


def summary_number(text: str, label: str) -> str:
    """The number the summary gives the line with this label."""
    line = next(line for line in text.splitlines() if f". {label}：" in line)
    return line.split(".")[0].strip()


# ------------------------------------------------------------------------------------ the entrant's name


@pytest.mark.parametrize("award_id", AWARDS)
async def test_the_entrants_name_follows_the_awards_subject_field(
    sessionmaker, kb, texts, campaign: Campaign, clock, settings, forms: dict[str, Form], award_id: str,
):
    from .test_mail import serve, smtp_settings

    form = forms[award_id]
    subject_field = form.entrant_field
    first, second = NAMES[award_id]
    award = form.award.name.zh
    for collector, port in serve():
        entrant = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, smtp_settings(settings, port), forms),
                          form, user_id="21")
        await entrant.to_form()
        await fill_until(entrant, subject_field.id)
        # The subject field's question says that it names the entrant; no other question asks for a name of it.
        assert "参选者名称" in _text(entrant.log[-1:])
        await entrant.say(first)
        await entrant.fill()
        asked = {r.text.splitlines()[1] for r in entrant.log if isinstance(r, TextOut) and r.text.startswith("第 ")}
        assert "参选者的名称是什么？" not in asked
        # The drafts list names the draft by it.
        listed = await entrant.send(CommandIn("drafts"))
        [button] = [c for c in listed[-1].choices if f"{award} · {first} · " in c.label]  # type: ignore[union-attr]
        await entrant.press(unstamped(button.value)[0])
        # Changed from the summary, the new name is the entrant's name.
        summary = _text(entrant.log[-1:])
        await entrant.say(f"修改 {summary_number(summary, subject_field.label.zh)}")
        assert (await entrant.state())[2]["position"] == subject_field.id
        await entrant.say(second)
        replies = await _declare_and_submit(entrant)
        async with sessionmaker() as session:
            record = await session.scalar(select(Submission).where(Submission.award_id == award_id))
            assert record is not None
        # The queue, the mail subject, the 申报表's file name and its head all name the subject field's answer.
        assert record.entrant_name == second == record.answers[subject_field.id]
        assert record.subject == f"参选类别（{award}）+ {second}" == campaign.subject(award_id, second)
        assert f"编号 {record.reference}" in _text(replies) and record.subject in _text(replies)
        [document] = [r for r in replies if isinstance(r, DocumentOut)]
        assert document.file_name == f"{award}+{second}.docx"
        paragraphs = [p.text for p in (await asyncio.to_thread(Docx, str(document.path))).paragraphs]
        assert any(p.startswith("参选者") and second in p for p in paragraphs), paragraphs
        assert not any(first in p for p in paragraphs)
        [received] = collector.messages
        assert str(make_header(decode_header(received.message["Subject"]))) == record.subject
        status = await entrant.send(CommandIn("status"))
        assert second in _text(status)


async def test_an_entry_queued_under_an_asked_name_keeps_it_and_an_old_draft_follows_its_subject_field(
    engine: Engine, sessionmaker, campaign: Campaign, forms: dict[str, Form], tmp_path: Path,
):
    form = forms["pioneer_person"]
    # The case: a company's name given as 参选者名称 under the old form, a person's under 姓名.
    declarations = {s.field.id for s in form.fields() if s.field.type == "consent"}
    old = {k: v for k, v in answers_for(form).items() if k not in declarations}
    old["entrant_name"] = "上海科创先锋科技有限公司"
    # A record queued then keeps the name it was queued and mailed under, in its re-rendered 申报表 too.
    path = await asyncio.to_thread(render_form, form=form, answers=old, campaign=campaign, reference=None,
                                   submitted_at=None, out_dir=tmp_path)
    assert path.name == f"{form.award.name.zh}+上海科创先锋科技有限公司.docx"
    # A draft begun then, resumed and submitted now, is named by its 姓名: the old answer is not part of the form.
    entrant = Entrant(engine, form, user_id="25")
    assert "还没有申报草稿" in _text(await entrant.send(CommandIn("drafts")))
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.external_id == "25"))
        assert user is not None
        draft = await add_draft(session, user_id=user.id, award_id=form.award_id)
        draft.set_answers(old)
        await session.commit()
    listed = await entrant.send(CommandIn("drafts"))
    [button] = [c for c in listed[-1].choices if "张伟" in c.label]  # type: ignore[union-attr]
    await entrant.press(unstamped(button.value)[0])
    replies = await entrant.press("intake:no")  # no further project
    assert (await entrant.state())[1] == "summary" and "上海科创先锋科技有限公司" not in _text(replies)
    replies = await _declare_and_submit(entrant)
    async with sessionmaker() as session:
        record = await session.scalar(select(Submission))
        assert record is not None
    assert record.entrant_name == old["person_name"] == "张伟"
    assert record.subject == "参选类别（年度科创先锋人物）+ 张伟" and "entrant_name" not in record.answers
    [document] = [r for r in replies if isinstance(r, DocumentOut)]
    assert document.file_name == "年度科创先锋人物+张伟.docx"


# ------------------------------------------------------------------------------ contradicting answers


# Per award, an answer that contradicts an earlier one (or itself), where it is refused, what the refusal names,
# and the answer then taken. Earlier answers are the factories' (320 employees, founded 2018-05-20).
CONTRADICTIONS = [
    pytest.param("enterprise_npf", {}, "rd_staff", "500", ["研发人员数", "不能多于", "员工人数", "320"], "150",
                 id="enterprise_npf-rd-staff-over-headcount"),
    pytest.param("pioneer_engine", {}, "projects.0.project_period", "2016.03-2020.06",
                 ["起止时间", "不能早于", "成立日期", "2018 年 5 月 20 日"], "2018.05-2020.06",
                 id="pioneer_engine-project-before-founding"),
    pytest.param("rising_potential", {"employees": "80"}, "rd_staff", "96", ["研发人员数", "员工人数", "80"], "80",
                 id="rising_potential-rd-staff-over-headcount"),
    pytest.param("pioneer_person", {"nomination": "专家推荐", "recommender_name": "李明华"}, "person_name", "李 明华",
                 ["姓名", "推荐专家姓名", "相同"], "张伟", id="pioneer_person-nominated-by-themself"),
    pytest.param("innovation_park", {}, "projects.0.project_period", "2024.06-2021.03", ["结束时间", "早于开始时间"],
                 "2021.03-2024.06", id="innovation_park-project-ends-before-it-starts"),
    pytest.param("innovation_district", {}, "projects.0.project_period", "2023年9月至2022年1月",
                 ["结束时间", "早于开始时间"], "2022.01至今", id="innovation_district-project-ends-before-it-starts"),
    pytest.param("pioneer_product", {}, "projects.0.project_period", "2022.12-2022.01", ["结束时间", "早于开始时间"],
                 "2022.01-2022.12", id="pioneer_product-project-ends-before-it-starts"),
]


@pytest.mark.parametrize(("award_id", "typed", "key", "bad", "named", "good"), CONTRADICTIONS)
async def test_a_contradicting_answer_is_refused_at_its_question(
    engine: Engine, forms: dict[str, Form], award_id: str, typed: dict[str, str], key: str, bad: str,
    named: list[str], good: str,
):
    assert award_id in AWARDS
    entrant = Entrant(engine, forms[award_id], user_id="22")
    await entrant.to_form()
    await fill_until(entrant, key, typed=typed)
    before = (await entrant.draft()).answers
    replies = await entrant.say(bad)
    refusal = _text(replies[:1])
    assert all(word in refusal for word in named), refusal
    # Asked again, the same question, and nothing stored is lost.
    assert (await entrant.state())[2]["position"] == key
    assert (await entrant.draft()).answers == before
    field = entrant.form.field(key.split(".")[-1])
    assert field.prompt.zh in _text(replies[1:])
    await entrant.say(good)
    assert (await entrant.state())[2]["position"] != key
    await entrant.fill(typed=typed)
    assert (await entrant.state())[1] == "summary"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_refusal_names_the_other_answer_and_offers_to_change_it_instead(
    engine: Engine, forms: dict[str, Form], lang: str,
):
    form = forms["enterprise_npf"]
    entrant = Entrant(engine, form, user_id=f"23{lang}")
    await entrant.to_form()
    await entrant.send(CommandIn("lang", lang))
    await fill_until(entrant, "rd_staff")
    before = (await entrant.draft()).answers
    replies = await entrant.say("500")
    refusal = {"zh": "“研发人员数”（500）不能多于“员工人数”（320）。请重新填写这一项；如果是“员工人数”填错了",
               "en": '"R&D staff" (500) cannot be more than "Employees" (320). Please answer this again; if "Employees"'}
    assert _text(replies[:1]).startswith(refusal[lang])
    label = {"zh": "改“员工人数”", "en": 'Change "Employees"'}[lang]
    [button] = [c for c in replies[-1].choices if c.label == label]  # type: ignore[union-attr]
    # The employees' question comes back with its stored answer kept until it is replaced.
    replies = await entrant.press(unstamped(button.value)[0])
    assert (await entrant.state())[2]["position"] == "employees"
    assert form.field("employees").prompt.get(lang) in _text(replies)
    assert (await entrant.draft()).answers == before
    await entrant.say("800")
    # Then the refused question again, which now takes the same answer.
    assert (await entrant.state())[2]["position"] == "rd_staff"
    await entrant.say("500")
    answers = (await entrant.draft()).answers
    assert answers["employees"] == 800 and answers["rd_staff"] == 500
    assert {k: v for k, v in answers.items() if k not in {"employees", "rd_staff"}} == \
        {k: v for k, v in before.items() if k != "employees"}


async def test_an_earlier_answer_changed_from_the_summary_is_caught_there_and_before_submission(
    engine: Engine, forms: dict[str, Form], sessionmaker,
):
    form = forms["pioneer_engine"]
    entrant = Entrant(engine, form, user_id="24")
    await entrant.to_form()
    await entrant.fill()
    summary = _text(entrant.log[-1:])
    founded = summary_number(summary, "成立日期")
    period = summary_number(summary, "科创项目 1 · 起止时间")
    employees = summary_number(summary, "员工人数")
    rd_staff = summary_number(summary, "研发人员数")
    # Founded after the project started, and fewer employees than R&D staff: each edit is taken, being the
    # earlier answer of its pair...
    await entrant.say(f"修改 {founded}")
    await entrant.say("2022-01-10")
    await entrant.say(f"修改 {employees}")
    replies = await entrant.say("100")
    assert (await entrant.state())[1] == "summary"
    # ...and the summary says which two answers disagree, by their numbers.
    summary = _text(replies)
    assert f"请修改第 {period} 项或第 {founded} 项" in summary and "不能早于" in summary
    assert f"请修改第 {rd_staff} 项或第 {employees} 项" in summary and "不能多于" in summary
    # Confirming is refused with both reasons; every answer stays as it is.
    before = (await entrant.draft()).answers
    replies = await entrant.press("intake:confirm")
    assert "还有几项需要补充" in _text(replies) and "研发人员数" in _text(replies)
    assert (await entrant.state())[1] == "summary" and (await entrant.draft()).answers == before
    async with sessionmaker() as session:
        assert await session.scalar(select(Submission)) is None
    # Changing the later answers makes them agree, and the entry goes through.
    await entrant.say(f"修改 {period}")
    replies = await entrant.say("2021.03-2024.06")  # still before 2022-01-10: refused at its own question
    assert "不能早于" in _text(replies[:1])
    await entrant.say("2022.01-2024.06")
    await entrant.say(f"修改 {rd_staff}")
    replies = await entrant.say("60")
    assert "⚠️" not in _text(replies)
    replies = await _declare_and_submit(entrant)
    assert "KCXF-2024-" in _text(replies)


@pytest.mark.parametrize("award_id", AWARDS)
def test_the_shipped_sample_answers_agree(forms: dict[str, Form], award_id: str):
    form = forms[award_id]
    answers = answers_for(form, projects=3)
    assert disagreements(form, answers) == []
    if "rd_staff" in answers:  # and a count of R&D staff equal to the headcount is fine
        same: dict[str, Any] = answers | {"rd_staff": answers["employees"]}
        assert disagreements(form, same) == []


def test_a_founding_date_agrees_with_a_project_starting_the_same_month(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    answers = answers_for(form)
    answers["founded_on"] = "2021-03-31"
    assert disagreements(form, answers) == []  # the project began 2021.03
    answers["founded_on"] = "2021-04-01"
    [broken] = disagreements(form, answers)
    assert broken.later.key == "projects.0.project_period" and broken.earlier.key == "founded_on"
    assert broken.reason().en == ('"Project 1 · Period" (March 2021 — June 2024) cannot be earlier than '
                                  '"Date of incorporation" (1 April 2021)')
