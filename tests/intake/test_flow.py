"""Whole applications through the engine alone: every award, as an entrant types them, with the detours people take."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document as Docx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import ChoiceIn, CommandIn, Event, FileIn, TextIn
from bot.replies import DocumentOut, Reply, TextOut
from bot.stamps import unstamped
from bot.state import ConversationState
from bot.texts import Texts
from bot.users import User, UserRef
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from intake.drafts import Draft
from intake.flow import PREFIX, DraftsFlow, IntakeFlow, StatusFlow
from intake.forms import Form, load_forms
from intake.queue import Submission
from knowledge.answer import KnowledgeBase

from .factories import AWARDS, typed_answer, with_position

# One refused answer per field type, typed before the right one.
INVALID = {
    "text": "x", "long_text": "We answer in English only.",  # 境内 entries must be in Chinese
    "person_name": "小王", "org_name": "腾讯", "mobile": "12345",
    "email": "wang at example", "credit_code": "91350100M000100Y44", "id_number": "110105194912310021",
    "passport": "护", "money": "很多钱", "percentage": "一大半", "integer": "好多", "date": "2023年2月30日",
    "year": "九九", "period": "去年那会儿", "url": "not a link", "choice": "都不是", "choices": "都不是",
}


@pytest.fixture
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign)


@pytest.fixture
async def engine(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, forms: dict[str, Form],
) -> AsyncIterator[Engine]:
    yield _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)


def _engine(sessionmaker, kb, texts, campaign, clock, settings, forms) -> Engine:  # type: ignore[no-untyped-def]
    intake = IntakeFlow(forms)
    return Engine(sessionmaker=sessionmaker, answerer=kb, texts=texts, campaign=campaign, clock=clock,
                  settings=settings, flows=[intake, DraftsFlow(intake), StatusFlow()])


class Entrant:
    """One person chatting with the engine, who can look at where the conversation stands."""

    def __init__(self, engine: Engine, form: Form, user_id: str = "1") -> None:
        self.engine, self.form = engine, form
        self.user = UserRef(channel="test", external_id=user_id, display_name="小王 🚀")
        self.log: list[Reply] = []

    async def send(self, event: Event) -> list[Reply]:
        replies = await self.engine.handle(self.user, event)
        self.log += replies
        return replies

    async def say(self, text: str) -> list[Reply]:
        return await self.send(TextIn(text))

    async def press(self, value: str) -> list[Reply]:
        return await self.send(ChoiceIn(value))

    async def state(self) -> tuple[str | None, str | None, dict]:
        async with self.engine.sessionmaker() as session:
            state = await session.scalar(
                select(ConversationState).join(User).where(User.external_id == self.user.external_id))
            assert state is not None
            return state.flow, state.step, await with_position(session, state.data)

    async def draft(self) -> Draft:
        async with self.engine.sessionmaker() as session:
            draft = await session.scalar(select(Draft).join(User).where(User.external_id == self.user.external_id)
                                         .order_by(Draft.id.desc()))
            assert draft is not None
            return draft

    async def to_form(self) -> None:
        """Pre-check, award choice and privacy consent, by pressing buttons."""
        group = self.form.award.group
        await self.send(CommandIn("apply"))
        await self.press(f"{PREFIX}group:{group}")
        _, step, _ = await self.state()
        if step == "precheck:track":
            await self.press(f"{PREFIX}track:next_gen_it")
        await self.press(f"{PREFIX}yes")  # own IP, no disputes
        await self.press(f"{PREFIX}no")  # no serious incident
        await self.press(f"{PREFIX}award:{self.form.award_id}")
        replies = await self.press(f"{PREFIX}agree")
        assert "第 1/" in _text(replies), _text(replies)

    async def fill(self, *, invalid_first: bool = False, seen: set[str] | None = None, limit: int = 400,
                   typed: dict[str, str] | None = None,
                   after_each: Callable[[], Awaitable[None]] | None = None) -> None:
        """Answer every question until the summary, optionally typing one wrong answer per field type first;
        `after_each` is awaited after every answer."""
        seen = seen if seen is not None else set()
        for _ in range(limit):
            flow, step, data = await self.state()
            if step == "more":
                await self.press(f"{PREFIX}no")
                continue
            if step != "ask":
                return
            field = self.form.field(data["position"].split(".")[-1])
            if field.type == "file_list":
                await self.press(f"{PREFIX}skip")
                continue
            if invalid_first and field.type in INVALID and field.type not in seen:
                seen.add(field.type)
                replies = await self.say(INVALID[field.type])
                assert (await self.state())[2]["position"] == data["position"], f"{field.id} took {INVALID[field.type]!r}"
                assert len(replies) == 2 and replies[1].text.endswith(tuple(_question_tails(field))), replies
            await self.say(typed_answer(self.form, field, typed=typed or {}, long_text=None))
            if after_each is not None:
                await after_each()
        raise AssertionError("the form never ended")


def _question_tails(field) -> list[str]:  # type: ignore[no-untyped-def]
    tails = [field.prompt.zh]
    if field.help is not None:
        tails.append(field.help.zh)
    if field.type == "choices":  # how to pick with the toggles, or by typing
        tails.append("例如：1、3")
    return [t.strip()[-6:] for t in tails]


def _text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, TextOut))


async def _declare_and_submit(entrant: Entrant) -> list[Reply]:
    replies = await entrant.press(f"{PREFIX}confirm")
    position = (await entrant.state())[2]["position"]
    assert [(c.label, unstamped(c.value)[0]) for c in replies[-1].choices][:2] == [
        ("同意", f"{PREFIX}yes"), ("不同意", f"{PREFIX}no")]
    refused = await entrant.say("不同意")  # a declaration refused is asked again, nothing submitted
    assert "需要同意全部声明" in _text(refused) and (await entrant.state())[2]["position"] == position
    refused = await entrant.press(f"{PREFIX}no")  # so is its button
    assert "需要同意全部声明" in _text(refused) and (await entrant.state())[2]["position"] == position
    for _ in range(10):
        flow, step, _ = await entrant.state()
        if flow is None:
            return replies
        replies = await entrant.press(f"{PREFIX}yes")
    raise AssertionError("declarations never ended")


@pytest.mark.parametrize("award_id", AWARDS)
async def test_full_intake_of_every_award(engine: Engine, forms: dict[str, Form], award_id: str, settings: Settings):
    entrant = Entrant(engine, forms[award_id])
    await entrant.to_form()
    await entrant.fill(invalid_first=True)
    _, step, _ = await entrant.state()
    assert step == "summary"
    summary = entrant.log[-1]
    assert isinstance(summary, TextOut) and "【" in summary.text and "1. " in summary.text
    replies = await _declare_and_submit(entrant)
    assert "KCXF-2024-" in _text(replies)
    [document] = [r for r in replies if isinstance(r, DocumentOut)]
    award = forms[award_id].award.name.zh
    assert document.file_name.startswith(award) and document.file_name.endswith(".docx")
    assert settings.files_dir in Path(document.path).parents
    doc_text = "\n".join(p.text for p in (await asyncio.to_thread(Docx, str(document.path))).paragraphs)
    assert award in doc_text
    async with engine.sessionmaker() as session:
        record = await session.scalar(select(Submission))
        assert record is not None and record.award_id == award_id and record.status == "submitted"
        assert record.subject == f"参选类别（{award}）+ {record.entrant_name}"
    status = await entrant.send(CommandIn("status"))
    assert record.reference in _text(status)


@pytest.mark.parametrize("award_id", AWARDS)
async def test_detours_back_skip_edit_question_file_and_resume(
    engine: Engine, forms: dict[str, Form], sessionmaker, kb, texts, campaign, clock, settings, tmp_path: Path,
    award_id: str,
):
    form = forms[award_id]
    entrant = Entrant(engine, form, user_id="2")
    await entrant.to_form()
    first = (await entrant.state())[2]["position"]
    await entrant.say(typed_answer(form, form.field(first), typed={}, long_text=None))
    second = (await entrant.state())[2]["position"]
    assert second != first
    # back: the previous question again, its answer withdrawn
    replies = await entrant.press(f"{PREFIX}back")
    assert (await entrant.state())[2]["position"] == first
    assert form.field(first).prompt.zh in _text(replies)
    # a question typed mid-form is answered from the guideline, then the form asks again
    replies = await entrant.say("截止时间是什么时候？")
    assert "10 月 20 日" in _text(replies) and form.field(first).prompt.zh in _text(replies)
    assert (await entrant.state())[2]["position"] == first
    # an attachment, and one that is too large (refused before anything is stored)
    pdf = tmp_path / "产品手册.pdf"
    pdf.write_bytes(b"%PDF-1.4 demo")
    replies = await entrant.send(FileIn(file_name="产品手册.pdf", mime_type="application/pdf", size=13, path=pdf))
    assert "产品手册.pdf" in _text(replies)
    replies = await entrant.send(FileIn(file_name="video.mp4", mime_type="video/mp4", size=25 * 1024 * 1024,
                                        path=pdf))
    assert "20" in _text(replies) and "其他申报材料说明" in _text(replies)
    assert [a["name"] for a in (await entrant.draft()).answers["attachments"]] == ["产品手册.pdf"]
    # resume after the engine is rebuilt from the database (a restart)
    rebuilt = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, settings, forms), form, user_id="2")
    await rebuilt.say(typed_answer(form, form.field(first), typed={}, long_text=None))
    assert (await rebuilt.state())[2]["position"] == second
    # skip the optional field when it comes
    for _ in range(200):
        _, step, data = await rebuilt.state()
        if step == "more":
            await rebuilt.press(f"{PREFIX}no")
            continue
        if step != "ask":
            break
        field = form.field(data["position"].split(".")[-1])
        if not field.required:
            await rebuilt.press(f"{PREFIX}skip")
            continue
        await rebuilt.say(typed_answer(form, field, typed={}, long_text=None))
    draft = await rebuilt.draft()
    assert "materials_note" in draft.answers and draft.answers["materials_note"] is None
    # edit from the summary: change the contact's position, then back at the summary
    summary = _text(rebuilt.log[-1:])
    line = next(line for line in summary.splitlines() if form.field("contact_position").label.zh in line)
    number = line.split(".")[0].strip()
    await rebuilt.say(f"修改 {number}")
    assert (await rebuilt.state())[2]["position"] == "contact_position"
    replies = await rebuilt.say("首席技术官")
    assert (await rebuilt.state())[1] == "summary" and "首席技术官" in _text(replies)
    replies = await _declare_and_submit(rebuilt)
    assert "KCXF-2024-" in _text(replies)
    async with sessionmaker() as session:
        record = await session.scalar(select(Submission).where(Submission.user_id == draft.user_id))
        assert record is not None and record.answers["contact_position"] == "首席技术官"
        assert [a["name"] for a in record.answers["attachments"]] == ["产品手册.pdf"]


async def test_precheck_refusals_explain_the_guideline_reason(engine: Engine, forms: dict[str, Form]):
    entrant = Entrant(engine, forms["enterprise_npf"], user_id="3")
    await entrant.send(CommandIn("apply"))
    await entrant.press(f"{PREFIX}group:enterprise")
    replies = await entrant.press(f"{PREFIX}track:none")
    assert "二·征集范围" in _text(replies) and (await entrant.state())[0] is None
    await entrant.send(CommandIn("apply"))
    await entrant.press(f"{PREFIX}group:product")
    await entrant.press(f"{PREFIX}yes")
    replies = await entrant.press(f"{PREFIX}yes")  # there was a serious incident
    assert "九·其他说明" in _text(replies) and (await entrant.state())[0] is None


async def test_closed_after_the_deadline(engine: Engine, forms: dict[str, Form], clock: FixedClock):
    clock.set(datetime(2024, 10, 21, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    entrant = Entrant(engine, forms["pioneer_product"], user_id="4")
    replies = await entrant.send(CommandIn("apply"))
    assert "截止" in _text(replies) and (await entrant.state())[0] is None


async def test_several_drafts_and_picking_one(engine: Engine, forms: dict[str, Form]):
    entrant = Entrant(engine, forms["pioneer_product"], user_id="5")
    await entrant.to_form()
    await entrant.say(typed_answer(entrant.form, entrant.form.field((await entrant.state())[2]["position"]),
                                   typed={}, long_text=None))
    await entrant.send(CommandIn("cancel"))
    replies = await entrant.send(CommandIn("drafts"))
    [offer] = [r for r in replies if isinstance(r, TextOut)]
    draft_buttons = [c for c in offer.choices
                     if unstamped(c.value)[0].startswith(f"{PREFIX}draft:") and c.value[-1].isdigit()]
    assert len(draft_buttons) == 1
    replies = await entrant.press(draft_buttons[0].value)
    assert "继续填写" in _text(replies) and "第 2/" in _text(replies)


async def test_submission_is_mailed_to_the_committee_after_commit(
    sessionmaker, kb, texts, campaign, clock, settings, forms: dict[str, Form],
):
    from .test_mail import serve, smtp_settings

    for collector, port in serve():
        mailing = smtp_settings(settings, port)
        entrant = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, mailing, forms), forms["pioneer_product"],
                          user_id="6")
        await entrant.to_form()
        await entrant.fill()
        replies = await _declare_and_submit(entrant)
        assert "KCXF-2024-" in _text(replies)
        [received] = collector.messages
        message = received.message
        assert received.rcpt_tos == [campaign.committee.mailbox]
        async with sessionmaker() as session:
            record = await session.scalar(select(Submission).where(Submission.award_id == "pioneer_product"))
            assert record is not None and record.mailed_at is not None
        assert message["Subject"] == record.subject
        assert any(part.get_filename() == Path(record.form_file).name for part in message.iter_attachments())


async def test_passport_holder_and_every_field_type_refused_once(engine: Engine, forms: dict[str, Form]):
    """Across the forms every field type is asked; a passport holder brings the passport field in."""
    entrant = Entrant(engine, forms["pioneer_person"], user_id="7")
    await entrant.to_form()
    seen: set[str] = set()
    await entrant.fill(invalid_first=True, seen=seen, typed={"id_type": "护照"})
    assert "passport" in seen
    for award_id in AWARDS:
        other = Entrant(engine, forms[award_id], user_id=f"types-{award_id}")
        await other.to_form()
        await other.fill(invalid_first=True, seen=seen)
    asked = {slot.field.type for form in forms.values() for slot in form.fields()}
    assert asked - {"consent", "file_list"} <= seen, asked - seen


async def test_question_between_buttons_is_answered_and_the_step_repeats(engine: Engine, forms: dict[str, Form]):
    entrant = Entrant(engine, forms["innovation_park"], user_id="8")
    await entrant.send(CommandIn("apply"))
    await entrant.press(f"{PREFIX}group:city")
    assert (await entrant.state())[1] == "precheck:ip"  # parks are not limited to the industry tracks
    replies = await entrant.say("报名要交费吗？")
    assert "不收取" in _text(replies) and (await entrant.state())[1] == "precheck:ip"
    assert replies[-1].choices and unstamped(replies[-1].choices[0].value)[0] == f"{PREFIX}yes"


async def test_an_answer_writes_only_the_draft_and_reads_only_what_this_worker_did_not_write(
    engine: Engine, forms: dict[str, Form], sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase,
    texts: Texts, campaign: Campaign, clock: FixedClock, settings: Settings,
) -> None:
    # The path every message takes: a statement costs about as much as SQLite's own work, so the count is kept.
    # The state is not written: it still says "ask" (the question is kept in the draft, written with a version
    # check of the draft and of the state).
    entrant = Entrant(engine, forms["pioneer_person"])
    await entrant.to_form()

    async def answer(on: Engine) -> list[str]:
        _, _, data = await entrant.state()
        field = entrant.form.field(data["position"].split(".")[-1])
        statements: list[str] = []

        def note(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            statements.append(" ".join(statement.split()[:3]))

        event.listen(on.db.sync_engine, "before_cursor_execute", note)
        try:
            entrant.engine = on
            replies = await entrant.say(typed_answer(entrant.form, field, typed={}, long_text=None))
        finally:
            event.remove(on.db.sync_engine, "before_cursor_execute", note)
        assert "第 " in _text(replies) and (await entrant.draft()).answers[field.id], _text(replies)
        return statements

    # The engine that committed the entrant's last step goes on from what it wrote: one UPDATE.
    assert await answer(engine) == ["UPDATE drafts SET"]
    # Another worker (or this one after a restart) reads the conversation and the draft in one query first.
    other = _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)
    statements = await answer(other)
    assert [s.split(" ")[0] for s in statements] == ["SELECT", "UPDATE"] and statements[1] == "UPDATE drafts SET"
    # The first worker's copy is now stale: its next answer conflicts, reads afresh and is stored once.
    statements = await answer(engine)
    assert statements == ["UPDATE drafts SET", "SELECT users.id, users.display_name,", "UPDATE drafts SET"], statements
    # A webhook worker, which may share the entrant's updates with others, keeps no copy: it reads every time.
    webhook = settings.model_copy(update={"telegram_webhook_url": "https://bot.example.org/tg"})
    worker = _engine(sessionmaker, kb, texts, campaign, clock, webhook, forms)
    for _ in range(2):
        statements = await answer(worker)
        assert [s.split(" ")[0] for s in statements] == ["SELECT", "UPDATE"], statements


async def test_a_worker_does_not_answer_from_its_copy_of_a_conversation_another_worker_ended(
    engine: Engine, forms: dict[str, Form], sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase,
    texts: Texts, campaign: Campaign, clock: FixedClock, settings: Settings,
) -> None:
    entrant = Entrant(engine, forms["pioneer_person"])
    await entrant.to_form()  # on the first worker, which keeps the conversation as it committed it
    before = dict((await entrant.draft()).answers)
    entrant.engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)
    await entrant.send(CommandIn("cancel"))  # on a second worker
    entrant.engine = engine
    replies = await entrant.say("王小明")  # back on the first: not an answer to a form they left
    assert "第 " not in _text(replies), _text(replies)
    assert (await entrant.state())[0] is None
    assert (await entrant.draft()).answers == before


async def test_an_answer_to_a_question_asked_before_an_upgrade_is_taken(
    engine: Engine, forms: dict[str, Form]
) -> None:
    # Earlier versions kept the question asked in the conversation state; an entrant mid-form at the upgrade
    # answers it and the answer is stored, not met with the same question again.
    entrant = Entrant(engine, forms["pioneer_person"])
    await entrant.to_form()
    _, _, data = await entrant.state()
    position = data["position"]
    async with engine.sessionmaker() as session, session.begin():
        state = await session.scalar(select(ConversationState).join(User)
                                     .where(User.external_id == entrant.user.external_id))
        draft = await session.scalar(select(Draft).where(Draft.id == data["draft"]))
        assert state is not None and draft is not None
        state.data = {"draft": draft.id, "position": position}
        draft.set_progress({k: v for k, v in draft.progress.items() if k != "position"})
    field = entrant.form.field(position.split(".")[-1])
    replies = await entrant.say(typed_answer(entrant.form, field, typed={}, long_text=None))
    assert "第 2/" in _text(replies), _text(replies)
    assert field.id in (await entrant.draft()).answers
