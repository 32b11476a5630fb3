"""The real python-telegram-bot Application, polling a local Bot API stub over HTTP, on the real engine."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.adapters.telegram import COMMANDS, build_application
from bot.runtime import Runtime
from bot.state import ConversationState
from bot.users import User
from config.settings import Settings
from knowledge.answer import KnowledgeBase
from tests.intake.factories import typed_answer
from tests.stubs import BotApiStub, Call

PREFIX = "intake:"
USER = 4242
GROUP = -100777


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.close()


@pytest.fixture
def tg_settings(stub: BotApiStub, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        now=datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        telegram_token=stub.token,
        telegram_base_url=f"{stub.url}/bot",
        telegram_base_file_url=f"{stub.url}/file/bot",
    )


@pytest.fixture
async def running(stub: BotApiStub, tg_settings: Settings, kb: KnowledgeBase) -> AsyncIterator[Runtime]:
    """The bot polling the stub, as `kcxf bot` runs it (post_init included)."""
    runtime = Runtime.open(tg_settings)
    engine = await runtime.engine(answerer=kb)
    app = build_application(engine, settings=tg_settings)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.05, timeout=1)
    try:
        yield runtime
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await runtime.close()


class Person:
    """One Telegram user driving the bot through the stub."""

    async def act(self, action: Callable[[], object]) -> Call:
        """Do `action` and wait for the first message the bot sends for it.

        The adapter sends ChatAction.TYPING before each update it hands to the engine and handles one user's
        updates in order, so the reply to this action is the first message after the next chat action.
        """
        after = self._begin()
        action()
        typing = await self.stub.wait_for(lambda c: c.method == "sendChatAction", after=after)
        start = next(n for n in range(after, len(self.stub.calls)) if self.stub.calls[n] is typing)
        return await self.stub.wait_for(lambda c: c.method in {"sendMessage", "sendDocument"}, after=start)

    async def act_press(self, value: str) -> Call:
        offers = [c for c in self.stub.sent() if value in [data for _, data in c.buttons]]
        assert offers, f"no button offers {value}"
        return await self.act(lambda: self.stub.press(self.user_id, offers[-1].message_id, value))

    def __init__(self, stub: BotApiStub, user_id: int = USER, language_code: str = "zh-hans") -> None:
        self.stub, self.user_id, self.language_code = stub, user_id, language_code
        self.mark = 0

    def _begin(self) -> int:
        self.mark = len(self.stub.calls)
        return self.mark

    async def say(self, text: str, *, expect: str) -> Call:
        """Send `text` and wait for a reply containing `expect`."""
        after = self._begin()
        self.stub.send_text(self.user_id, text, language_code=self.language_code)
        return await self.reply(expect, after=after)

    async def reply(self, expect: str, *, after: int) -> Call:
        return await self.stub.wait_for(lambda c: c.method == "sendMessage" and expect in c.text, after=after)

    async def press(self, value: str, *, expect: str = "") -> Call:
        """Press the newest button offering `value`, and wait for the next reply (containing `expect`)."""
        offer = await self.stub.wait_for(
            lambda c: c.method == "sendMessage" and value in [data for _, data in c.buttons], after=0,
        )
        offers = [c for c in self.stub.sent() if value in [data for _, data in c.buttons]]
        after = self._begin()
        self.stub.press(self.user_id, (offers[-1] if offers else offer).message_id, value,
                        language_code=self.language_code)
        await self.stub.wait_for(lambda c: c.method == "answerCallbackQuery", after=after)
        return await self.reply(expect, after=after)


async def test_start_sends_the_welcome_and_the_menu_is_set(stub: BotApiStub, running: Runtime):
    reply = await Person(stub).say("/start", expect=running.campaign.name.zh)
    assert reply.params["chat_id"] == USER
    assert any(c.method == "sendChatAction" and c.params["action"] == "typing" for c in stub.calls)
    menus = {c.params.get("language_code"): c.params["commands"] for c in stub.sent("setMyCommands")}
    assert set(menus) == {None, "zh", "en"}
    assert [cmd["command"] for cmd in menus["en"]] == list(COMMANDS)
    assert menus["en"][2]["description"] == "Apply online" and menus["zh"][2]["description"] == "在线申报"


async def test_a_rules_question_gets_a_cited_answer(stub: BotApiStub, running: Runtime):
    reply = await Person(stub).say("截止时间是什么时候？", expect="10 月 20 日")
    assert "《申报指南》" in reply.text
    english = await Person(stub, user_id=5, language_code="en").say("Is there an entry fee?", expect="")
    assert english.params["chat_id"] == 5 and english.text


async def test_apply_by_buttons_then_type_answers_and_upload_a_file(stub: BotApiStub, running: Runtime):
    me = Person(stub)
    await me.say("/apply", expect="")
    await me.press(f"{PREFIX}group:enterprise")
    await me.press(f"{PREFIX}track:next_gen_it")
    pressed = await me.press(f"{PREFIX}yes")
    # the pressed keyboard is replaced by the choice, so the question cannot be answered twice
    edit = await stub.wait_for(lambda c: c.method == "editMessageText", after=0)
    assert "reply_markup" not in edit.params and "已选择" in edit.text
    assert pressed.buttons
    await me.press(f"{PREFIX}no")
    await me.press(f"{PREFIX}award:enterprise_npf")
    await me.press(f"{PREFIX}agree", expect="第 1/")
    form = running.forms["enterprise_npf"]
    first = form.field((await _state(running, USER))[2]["position"].split(".")[-1])
    second_q = await me.say(typed_answer(form, first, typed={}, long_text=None), expect="第 2/")
    assert second_q.text
    # an attachment, downloaded through getFile and the file URL, acknowledged by the form
    after = len(stub.calls)
    stub.send_document(USER, "产品手册.pdf", b"%PDF-1.4 demo", "application/pdf")
    ack = await me.reply("产品手册.pdf", after=after)
    assert "已收到" in ack.text
    assert [c.params["file_id"] for c in stub.sent("getFile", after=after)] == [next(iter(stub.files))]
    incoming = running.settings.data_dir / "incoming"
    assert not any(incoming.iterdir())  # the temporary download is gone; the engine kept its own copy


async def test_an_oversize_document_is_refused_before_any_download(stub: BotApiStub, running: Runtime):
    after = len(stub.calls)
    stub.send_document(USER, "video.mp4", b"tiny", "video/mp4", file_size=25 * 1024 * 1024)
    refusal = await Person(stub).reply("20 MB", after=after)
    assert "video.mp4" in refusal.text and "26.2 MB" in refusal.text
    assert not stub.sent("getFile")
    english_after = len(stub.calls)
    stub.send_document(6, "big.zip", b"x", "application/zip", file_size=21_000_000, language_code="en-US")
    english = await Person(stub, user_id=6).reply("20 MB", after=english_after)
    assert "Telegram bot can receive" in english.text


async def test_stale_buttons_are_answered_politely(stub: BotApiStub, running: Runtime):
    me = Person(stub)
    # a value no keyboard of this bot carries (left from an old version): the engine's own words
    after = len(stub.calls)
    stub.press(USER, 1, "intake:group:gone")
    await stub.wait_for(lambda c: c.method == "answerCallbackQuery", after=after)
    await me.reply("按钮已失效", after=after)
    # a long-value token from before a restart: an alert on the button, nothing sent to the engine
    after = len(stub.calls)
    stub.press(USER, 1, "#" + "0" * 32)
    answer = await stub.wait_for(lambda c: c.method == "answerCallbackQuery", after=after)
    assert "已失效" in answer.params["text"] and answer.params["show_alert"] is True
    assert not stub.sent(after=after)


async def test_in_a_group_only_mentions_are_answered_and_applying_is_private(stub: BotApiStub, running: Runtime):
    after = len(stub.calls)
    stub.send_text(USER, "截止时间是什么时候？", chat_id=GROUP, chat_type="supergroup")
    stub.send_text(USER, "/apply@kcxf_test_bot", chat_id=GROUP, chat_type="supergroup")
    private = await stub.wait_for(lambda c: c.method == "sendMessage" and "私聊" in c.text, after=after)
    assert private.params["chat_id"] == GROUP and "@kcxf_test_bot" in private.text
    mention = stub.send_text(USER, "@kcxf_test_bot 截止时间是什么时候？", chat_id=GROUP, chat_type="supergroup")
    answer = await stub.wait_for(lambda c: c.method == "sendMessage" and "10 月 20 日" in c.text, after=after)
    assert answer.params["chat_id"] == GROUP and answer.params["reply_parameters"]["message_id"] == mention
    # replying to the bot's message counts as addressing it
    follow_up = stub.send_text(USER, "有报名费吗？", chat_id=GROUP, chat_type="supergroup",
                               reply_to=answer.message_id)
    await stub.wait_for(lambda c: c.method == "sendMessage"
                        and c.params.get("reply_parameters", {}).get("message_id") == follow_up, after=after)
    answered = stub.sent(after=after)
    assert len(answered) == 3, [c.text for c in answered]  # the unaddressed question got nothing


async def test_status_with_no_entries(stub: BotApiStub, running: Runtime):
    reply = await Person(stub).say("/status", expect="")
    assert reply.params["chat_id"] == USER and reply.text
    assert "还没有提交过申报" in reply.text


async def _state(runtime: Runtime, user_id: int) -> tuple[str | None, str | None, dict]:
    """Where the conversation of a Telegram user stands, read from the database."""
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        state = await session.scalar(
            select(ConversationState).join(User)
            .where(User.channel == "telegram", User.external_id == str(user_id))
        )
        assert state is not None
        return state.flow, state.step, dict(state.data)


def test_kcxf_bot_without_a_token_fails_with_a_clear_message(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCXF_")}
    done = subprocess.run([sys.executable, "-m", "bot", "bot"], capture_output=True, text=True, timeout=60,
                          env={**env, "KCXF_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200"}, cwd=tmp_path)
    assert done.returncode == 2
    assert "KCXF_TELEGRAM_TOKEN is not set" in done.stderr and "Traceback" not in done.stderr


async def test_a_whole_application_to_submission_gets_the_docx(stub: BotApiStub, running: Runtime):
    me = Person(stub, user_id=77)
    form = running.forms["pioneer_person"]
    await me.act(lambda: stub.send_text(77, "/apply"))
    for value in ("group:person", "track:next_gen_it", "yes", "no", f"award:{form.award_id}", "agree"):
        if _offered(stub, f"{PREFIX}{value}", after=me.mark):
            await me.act_press(f"{PREFIX}{value}")
    for _ in range(400):
        flow, step, data = await _state(running, 77)
        if flow is None:
            break
        if step == "ask":
            field = form.field(data["position"].split(".")[-1])
            if field.type == "file_list" or (field.type != "declaration" and not field.required):
                await me.act_press(f"{PREFIX}skip")
            else:
                answer = typed_answer(form, field, typed={}, long_text=None)
                await me.act(lambda answer=answer: stub.send_text(77, answer))
        elif step == "more":
            await me.act_press(f"{PREFIX}no")
        elif step == "summary":
            await me.act_press(f"{PREFIX}confirm")
        else:
            await me.act_press(f"{PREFIX}yes")
    else:
        raise AssertionError("the application never ended")
    sent = await stub.wait_for(lambda c: c.method == "sendDocument")
    [upload] = sent.files.values()
    assert upload.file_name.startswith(form.award.name.zh) and upload.file_name.endswith(".docx")
    assert upload.data[:2] == b"PK"  # a .docx is a zip
    assert any("KCXF-2024-" in c.text for c in stub.sent())


def _offered(stub: BotApiStub, value: str, *, after: int) -> bool:
    return any(value in [data for _, data in c.buttons] for c in stub.sent(after=after))


def test_long_texts_are_split_at_line_breaks_and_long_values_travel_as_tokens(texts):
    from bot.adapters.telegram import _Adapter, _split

    lines = [f"{n:04d} " + "字" * 95 for n in range(100)]  # 100 lines of 100 characters
    parts = _split("\n".join(lines))
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert "\n".join(parts).splitlines() == lines  # nothing lost, no line cut in two
    assert [len(p) for p in _split("x" * 5000)] == [4096, 904]

    class Engine:
        pass

    adapter = _Adapter(Engine(), incoming_dir=Path("unused"))  # type: ignore[arg-type]
    assert adapter._data("intake:yes") == "intake:yes"
    long_value = "intake:award:" + "很长的奖项编号" * 5
    token = adapter._data(long_value)
    assert len(token.encode()) <= 64 and token.startswith("#") and adapter._long_values[token] == long_value


async def test_one_users_updates_are_answered_in_order(stub: BotApiStub, running: Runtime):
    after = len(stub.calls)
    for command in ("/start", "/help", "/status", "/drafts"):
        stub.send_text(USER, command)
    await stub.wait_for(lambda c: c.method == "sendMessage" and "草稿" in c.text and "/apply" in c.text
                        and "还没有申报草稿" in c.text, after=after)
    texts = [c.text for c in stub.sent(after=after)]
    assert running.campaign.name.zh in texts[0] and "/cancel" in texts[1] and "还没有提交过申报" in texts[2]
