"""Was this helpful? 👍 / 👎 under answers: as an entrant meets them in Telegram (the Bot API stub) and in the
terminal, and at the engine for what the adapters cannot show (mid-form, a second press that reaches it)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.terminal import run_terminal
from bot.engine import Engine
from bot.events import ChoiceIn, CommandIn, Event, TextIn
from bot.flows import Context
from bot.language import Lang, detect_lang
from bot.replies import Reply, StaleOut, TextOut
from bot.runtime import Runtime
from bot.stamps import unstamped
from bot.users import UserRef
from intake.flow import DeleteFlow
from intake.retention import purge_abandoned
from knowledge.admin import KnowledgeAdmin
from knowledge.answer import Answer, KnowledgeBase
from knowledge.grouping import Similarity
from knowledge.inbox import Inbox
from knowledge.ratings import AnswerRating, Votes, count_votes
from knowledge.revision import DbRevisions
from knowledge.unanswered import DISLIKED, list_logged
from tests.bot.test_telegram import USER, Person, running, stub, tg_settings  # noqa: F401
from tests.bot.test_terminal import scripted
from tests.stubs import BotApiStub, Call

ANSWERS = {"When is the deadline?": "20 October, 24:00.", "截止时间？": "10 月 20 日 24:00。"}


def _inbox(runtime: Runtime, kb: KnowledgeBase) -> Inbox:
    """The maintainers' inbox on the running bot's database, with the shared test index's embedding."""
    admin = KnowledgeAdmin(kb, revisions=DbRevisions(runtime.sessionmaker, edition=runtime.edition.year),
                           sessions=runtime.sessionmaker, uploads_dir=runtime.settings.data_dir / "knowledge-uploads",
                           builtin_docs=runtime.edition.docs_dir)
    return Inbox(admin, similarity=Similarity(kb.retriever.index.embedding))


def _data(call: Call, label: str) -> str:
    [data] = [d for text, d in call.buttons if label in text]
    return data


async def _ratings(maker: async_sessionmaker[AsyncSession]) -> list[AnswerRating]:
    async with maker() as session:
        return list(await session.scalars(select(AnswerRating).order_by(AnswerRating.id)))


async def test_an_entrant_rates_answers_in_telegram(stub: BotApiStub, running: Runtime, kb: KnowledgeBase):  # noqa: F811
    me = Person(stub)
    answer = await me.say("截止时间是什么时候？", expect="10 月 20 日")
    assert [label for label, _ in answer.buttons] == ["👍 有帮助", "👎 没帮助"]
    down, up = _data(answer, "没帮助"), _data(answer, "有帮助")

    thanks = await me.press(unstamped(down)[0], expect="已转给组委会")
    assert not thanks.buttons
    [edit] = [c for c in stub.sent("editMessageText", after=me.mark) if c.params["message_id"] == answer.message_id]
    assert edit.text.endswith("已选择：👎 没帮助") and not edit.params.get("reply_markup")  # the keyboard goes

    # The question and the answer given are in the maintainers' inbox, marked, beside the declined ones.
    inbox = _inbox(running, kb)
    [group] = await inbox.groups()
    assert group.disliked == 1 and group.question == "截止时间是什么时候？"
    [member] = group.members
    assert member.kind == DISLIKED and member.answer == answer.text and "10 月 20 日" in member.answer

    # Pressed again, the same button or the other one (a double tap, a keyboard whose edit was late): a word on
    # the button, no message, and the vote stays as it was.
    for data in (down, up):
        after = len(stub.calls)
        stub.press(USER, answer.message_id, data)
        toast = await stub.wait_for(lambda c: c.method == "answerCallbackQuery" and "text" in c.params, after=after)
        assert toast.params["text"] == "已记录，谢谢。"
        await asyncio.sleep(0.3)
        assert not stub.sent(after=after) and not stub.sent("sendChatAction", after=after)
    assert [g.count for g in await inbox.groups()] == [1]
    assert await inbox.votes() == Votes(helpful=0, unhelpful=1)

    # Another entrant, in English: 👍 counts, and nothing reaches the inbox.
    other = Person(stub, user_id=5, language_code="en")
    english = await other.say("When is the deadline?", expect="20 October")
    assert [label for label, _ in english.buttons] == ["👍 Helpful", "👎 Not helpful"]
    await other.press(unstamped(_data(english, "Helpful"))[0], expect="Thank you for your feedback!")
    assert await inbox.votes() == Votes(helpful=1, unhelpful=1)
    assert [g.count for g in await inbox.groups()] == [1]

    # A declined question carries no buttons.
    declined = await other.say("What will the weather be in Paris tomorrow?", expect="")
    assert not declined.buttons

    # Once rated, an answer kept for a rating holds no text at all.
    third = Person(stub, user_id=7)
    late = await third.say("申报截止到哪天？", expect="10 月 20 日")
    maker = await running.sessionmaker()
    rows = await _ratings(maker)
    assert [(r.vote, r.question, r.answer) for r in rows[:2]] == [("unhelpful", "", ""), ("helpful", "", "")]
    assert rows[2].vote is None and rows[2].question == "申报截止到哪天？" and rows[2].answer == late.text

    # The retention purge forgets the answer nobody rated; its buttons then say so, politely, and count nothing.
    settings = running.settings
    report = await purge_abandoned(maker, now=running.clock.now() + timedelta(days=settings.draft_retention_days + 1),
                                   days=settings.draft_retention_days, files_dir=settings.files_dir)
    assert report.answers == 1
    stale = await third.press(unstamped(_data(late, "有帮助"))[0], expect="已过期")
    assert not stale.buttons
    assert not [c for c in stub.sent("editMessageText", after=third.mark) if c.params["message_id"] == late.message_id]
    assert await inbox.votes() == Votes(helpful=1, unhelpful=1)
    assert len(await _ratings(maker)) == 2


# -- the terminal ------------------------------------------------------------------------------------------------
class Known:
    """A real, minimal Answerer: answers a question holding one of ANSWERS, declines the rest."""

    async def answer(self, question: str, lang: Lang | None = None) -> Answer:
        lang = lang or detect_lang(question)
        for known, text in ANSWERS.items():
            if known in question:
                return Answer(question=question, lang=lang, answered=True, answer=text, via="faq")
        return Answer(question=question, lang=lang, answered=False, answer="Sorry.", via="none")


class Form:
    """One step that waits for a name; a question typed instead is answered, and the step asked again."""

    name = "form"
    commands = frozenset({"form"})

    async def start(self, ctx: Context) -> list[Reply]:
        ctx.state.step = "name"
        return [TextOut("name?")]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        if isinstance(event, TextIn) and event.text.endswith("?"):
            answer = await ctx.ask(event.text)
            return [TextOut(answer.answer), TextOut("name?")]
        ctx.finish()
        return [TextOut("thanks")]


@pytest.fixture
def engine(sessionmaker, texts, campaign, clock, settings) -> Engine:
    return Engine(sessionmaker=sessionmaker, answerer=Known(), texts=texts, campaign=campaign, clock=clock,
                  settings=settings, flows=(Form(),))


async def test_the_terminal_shows_the_buttons_and_a_number_rates(engine: Engine, sessionmaker):
    out = Console(record=True, width=120, color_system=None)
    read, _ = scripted(["When is the deadline?", "2", "2"])
    await run_terminal(engine, console=out, input_fn=read, lang="en", greet=False)
    text = out.export_text()
    assert "20 October, 24:00.\n  1. 👍 Helpful\n  2. 👎 Not helpful\n" in text
    assert "It has gone to the committee's staff" in text
    async with sessionmaker() as session:
        [logged] = await list_logged(session, kinds=(DISLIKED,))
        assert (logged.question, logged.answer) == ("When is the deadline?", "20 October, 24:00.")
        # The second "2" was typed with no buttons on screen: a message, not a second vote.
        assert await count_votes(session) == Votes(helpful=0, unhelpful=1)


async def test_the_buttons_under_an_answer_in_traditional_characters_are_in_them(
        stub: BotApiStub, running: Runtime):  # noqa: F811
    answer = await Person(stub).say("申報截止時間是甚麼時候？", expect="10 月 20 日")
    assert "截止時間" in answer.text
    assert [label for label, _ in answer.buttons] == ["👍 有幫助", "👎 沒幫助"]


# -- the engine --------------------------------------------------------------------------------------------------
ME = UserRef(channel="test", external_id="me")


def _one(replies: list[Reply]) -> TextOut:
    [reply] = replies
    assert isinstance(reply, TextOut)
    return reply


async def test_only_an_answer_outside_a_form_is_offered_for_rating(engine: Engine, sessionmaker):
    answered = _one(await engine.handle(ME, TextIn("截止时间？")))
    assert [c.label for c in answered.choices] == ["👍 有帮助", "👎 没帮助"]
    assert not _one(await engine.handle(ME, TextIn("评委是谁？"))).choices  # declined
    assert not _one(await engine.handle(ME, TextIn("你好"))).choices  # a statement
    await engine.handle(ME, CommandIn("form"))
    mid_form = await engine.handle(ME, TextIn("When is the deadline?"))
    assert [r.text for r in mid_form] == ["20 October, 24:00.", "name?"]  # type: ignore[union-attr]
    assert not any(r.choices for r in mid_form)  # type: ignore[union-attr]

    # The rating of the answer before the form is still taken mid-form (it names its answer), and the form
    # stays where it was.
    up = answered.choices[0].value
    assert "谢谢您的反馈" in _one(await engine.handle(ME, ChoiceIn(up))).text
    assert _one(await engine.handle(ME, TextIn("星河"))).text == "thanks"
    async with sessionmaker() as session:
        assert await count_votes(session) == Votes(helpful=1, unhelpful=0)
        assert await session.scalar(select(func.count(AnswerRating.id))) == 1


async def test_an_answer_kept_for_rating_holds_no_phone_or_identity_number(engine: Engine, sessionmaker):
    """As the unanswered log: what is kept, and what a 👎 logs, is redacted."""
    answered = _one(await engine.handle(ME, TextIn("截止时间？我的手机 13812345678，身份证 110101199003070019")))
    [kept] = await _ratings(sessionmaker)
    assert "截止时间" in kept.question and "13812345678" not in kept.question
    assert "110101199003070019" not in kept.question
    await engine.handle(ME, ChoiceIn(answered.choices[1].value))
    async with sessionmaker() as session:
        [logged] = await list_logged(session, kinds=(DISLIKED,))
    assert logged.question == kept.question and logged.answer == "10 月 20 日 24:00。"


async def test_a_second_press_reaching_the_engine_changes_nothing(engine: Engine, sessionmaker):
    """Telegram drops a keyboard's second press in the adapter; any other way one arrives, the engine answers."""
    answered = _one(await engine.handle(ME, TextIn("截止时间？")))
    up, down = (c.value for c in answered.choices)
    assert "已转给组委会" in _one(await engine.handle(ME, ChoiceIn(down))).text
    for value in (down, up):
        again = _one(await engine.handle(ME, ChoiceIn(value)))
        assert isinstance(again, StaleOut) and again.text.startswith("已记录，谢谢")
    # Someone else's answer, or one that never was: no vote.
    other = UserRef(channel="test", external_id="other")
    answered_other = _one(await engine.handle(other, TextIn("截止时间？")))
    assert "已过期" in _one(await engine.handle(ME, ChoiceIn(answered_other.choices[0].value))).text
    assert "已过期" in _one(await engine.handle(ME, ChoiceIn("rate:999999:up"))).text
    async with sessionmaker() as session:
        assert len(await list_logged(session, kinds=(DISLIKED,))) == 1
        assert await count_votes(session) == Votes(helpful=0, unhelpful=1)


async def test_the_purge_keeps_what_was_rated(engine: Engine, sessionmaker, clock, settings, tmp_path: Path):
    rated = _one(await engine.handle(ME, TextIn("截止时间？")))
    await engine.handle(ME, ChoiceIn(rated.choices[0].value))
    await engine.handle(ME, TextIn("When is the deadline?"))
    days = settings.draft_retention_days
    dry = await purge_abandoned(sessionmaker, now=clock.now() + timedelta(days=days + 1), days=days,
                                files_dir=settings.files_dir, dry_run=True)
    assert dry.answers == 1 and len(await _ratings(sessionmaker)) == 2
    report = await purge_abandoned(sessionmaker, now=clock.now() + timedelta(days=days), days=days,
                                   files_dir=settings.files_dir)
    assert report.answers == 0  # exactly the period: not yet
    report = await purge_abandoned(sessionmaker, now=clock.now() + timedelta(days=days + 1), days=days,
                                   files_dir=settings.files_dir)
    assert report.answers == 1
    [kept] = await _ratings(sessionmaker)
    assert kept.vote == "helpful"


async def test_delete_forgets_the_answers_kept_for_rating(sessionmaker, texts, campaign, clock, settings):
    """/delete erases what the user asked, so the answers kept for their 👍/👎 go too (a cast vote stays counted)."""
    engine = Engine(sessionmaker=sessionmaker, answerer=Known(), texts=texts, campaign=campaign, clock=clock,
                    settings=settings, flows=(DeleteFlow(),))
    rated = _one(await engine.handle(ME, TextIn("截止时间？")))
    await engine.handle(ME, ChoiceIn(rated.choices[0].value))
    unrated = _one(await engine.handle(ME, TextIn("When is the deadline?")))
    assert len(await _ratings(sessionmaker)) == 2
    confirm = _one(await engine.handle(ME, CommandIn("delete")))
    await engine.handle(ME, ChoiceIn(confirm.choices[0].value))
    [left] = await _ratings(sessionmaker)
    assert left.vote is not None and not left.question
    assert "已过期" in _one(await engine.handle(ME, ChoiceIn(unrated.choices[1].value))).text
    async with sessionmaker() as session:
        assert await count_votes(session) == Votes(helpful=1, unhelpful=0)
