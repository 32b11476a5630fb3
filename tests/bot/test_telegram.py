"""The real python-telegram-bot Application, polling a local Bot API stub over HTTP, on the real engine."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from telegram.ext import Application

from bot.adapters.telegram import CHANNEL, COMMANDS, WebhookOptions, build_application, webhook_options
from bot.runtime import Runtime
from bot.state import ConversationState
from bot.users import User
from config.settings import Settings
from intake.drafts import Draft
from intake.queue import Submission
from knowledge.answer import KnowledgeBase
from tests.bot.applicants import Action, Applicant, assert_holds_exactly
from tests.conftest import copy_index
from tests.databases import kcxf_env
from tests.intake.factories import typed_answer, with_position
from tests.processes import child_env, listening
from tests.stubs import BotApiStub, Call

PREFIX = "intake:"
USER = 4242
GROUP = -100777
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.close()


def _settings(stub: BotApiStub, tmp_path: Path, database_url: str | None, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=database_url,
        now=datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        telegram_token=stub.token,
        telegram_base_url=f"{stub.url}/bot",
        telegram_base_file_url=f"{stub.url}/file/bot",
        **extra,
    )


@pytest.fixture
def tg_settings(stub: BotApiStub, tmp_path: Path, database_url: str | None) -> Settings:
    # A scripted user answers faster than any person; the limit meant for people is tested on its own.
    return _settings(stub, tmp_path, database_url, telegram_rate_per_minute=1000)


@asynccontextmanager
async def _serving(
    settings: Settings, kb: KnowledgeBase, *, webhook: WebhookOptions | None = None, outbox_interval_s: float = 3.0,
) -> AsyncIterator[tuple[Runtime, Application]]:
    """The bot taking updates from the stub (polling) or on a local webhook, as `kcxf bot` runs it."""
    runtime = Runtime.open(settings)
    engine = await runtime.engine(answerer=kb)
    app = build_application(engine, settings=settings, background=lambda send: runtime.background(
        engine, channel=CHANNEL, send=send, outbox_interval_s=outbox_interval_s))
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None and app.updater is not None
    await app.post_init(app)
    await app.start()
    if webhook is None:
        await app.updater.start_polling(poll_interval=0.05, timeout=1)
    else:
        await app.updater.start_webhook(**dataclasses.asdict(webhook))
    try:
        yield runtime, app
    finally:  # the order of run_polling's own shutdown
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
        await runtime.close()


@pytest.fixture
async def running(tg_settings: Settings, kb: KnowledgeBase) -> AsyncIterator[Runtime]:
    """The bot polling the stub, as `kcxf bot` runs it (post_init included)."""
    async with _serving(tg_settings, kb) as (runtime, _):
        yield runtime


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
        offers = [c for c in self.stub.sent() if c.offering(value)]
        assert offers, f"no button offers {value}"
        data = offers[-1].offering(value)
        assert data is not None
        return await self.act(lambda: self.stub.press(self.user_id, offers[-1].message_id, data))

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
        offer = await self.stub.wait_for(lambda c: c.method == "sendMessage" and c.offering(value) is not None,
                                         after=0)
        offers = [c for c in self.stub.sent() if c.offering(value)]
        newest = offers[-1] if offers else offer
        after = self._begin()
        self.stub.press(self.user_id, newest.message_id, newest.offering(value) or value,
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
    await me.reply("按钮属于之前的问题", after=after)
    assert not stub.sent("editMessageText", after=after)


async def test_a_button_of_an_earlier_question_does_not_answer_the_current_one(stub: BotApiStub, running: Runtime):
    """Issue 18 item 1: 自荐 typed instead of pressed; 专家推荐 pressed later on that keyboard, while 境内/境外 is
    asked, is refused as stale and stored nowhere; so is an old /delete confirmation."""
    me = Person(stub)
    await me.say("/delete", expect="撤回全部未提交的草稿")  # left unanswered
    await me.say("/apply", expect="资格确认")
    for value in ("group:enterprise", "track:next_gen_it", "yes", "no", "award:enterprise_npf"):
        await me.press(f"{PREFIX}{value}")
    first = await me.press(f"{PREFIX}agree", expect="第 1/")
    assert first.offering(f"{PREFIX}expert") and "自荐" in first.text
    await me.say("自荐", expect="境内还是境外")
    before = await _state(running, USER)
    assert before[2]["position"] == "region"

    for old, value in ((first, f"{PREFIX}expert"), (await stub.wait_for(lambda c: c.offering("delete:confirm")),
                                                     "delete:confirm")):
        after = len(stub.calls)
        stub.press(USER, old.message_id, old.offering(value) or "")
        stale = await me.reply("按钮属于之前的问题", after=after)
        assert stale.params["chat_id"] == USER
        assert not stub.sent("editMessageText", after=after)  # the old keyboard is not marked as chosen
        assert await _state(running, USER) == before  # still at 境内/境外, nothing stored, nothing erased
    sessions = await running.sessionmaker()
    async with sessions() as session:
        draft = await session.scalar(select(Draft))
    assert draft is not None and draft.status == "open"
    assert draft.answers["nomination"] == "self" and "region" not in draft.answers
    # The current question's own keyboard still answers it.
    await me.press(f"{PREFIX}domestic", expect="联系人的真实姓名")


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
        return state.flow, state.step, await with_position(session, state.data)


def test_kcxf_bot_without_a_token_fails_with_a_clear_message(tmp_path: Path):
    env = child_env()
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
    return any(c.offering(value) for c in stub.sent(after=after))


def test_long_texts_are_split_at_line_breaks():
    from bot.adapters.telegram import _split

    lines = [f"{n:04d} " + "字" * 95 for n in range(100)]  # 100 lines of 100 characters
    parts = _split("\n".join(lines))
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert "\n".join(parts).splitlines() == lines  # nothing lost, no line cut in two
    assert [len(p) for p in _split("x" * 5000)] == [4096, 904]


async def test_one_users_updates_are_answered_in_order(stub: BotApiStub, running: Runtime):
    after = len(stub.calls)
    for command in ("/start", "/help", "/status", "/drafts"):
        stub.send_text(USER, command)
    await stub.wait_for(lambda c: c.method == "sendMessage" and "草稿" in c.text and "/apply" in c.text
                        and "还没有申报草稿" in c.text, after=after)
    texts = [c.text for c in stub.sent(after=after)]
    assert running.campaign.name.zh in texts[0] and "/cancel" in texts[1] and "还没有提交过申报" in texts[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_webhook_needs_https_and_a_valid_secret(stub: BotApiStub, tmp_path: Path):
    assert webhook_options(_settings(stub, tmp_path, None)) is None  # no URL: long polling
    with pytest.raises(ValueError, match="KCXF_TELEGRAM_WEBHOOK_SECRET is not set"):
        webhook_options(_settings(stub, tmp_path, None, telegram_webhook_url="https://kcxf.example.org"))
    with pytest.raises(ValueError, match="https://"):
        webhook_options(_settings(stub, tmp_path, None, telegram_webhook_url="http://kcxf.example.org",
                                  telegram_webhook_secret="abc"))
    with pytest.raises(ValueError, match="A-Z"):
        webhook_options(_settings(stub, tmp_path, None, telegram_webhook_url="https://kcxf.example.org",
                                  telegram_webhook_secret="has spaces"))


async def test_a_webhook_takes_only_updates_with_the_secret_and_each_of_them_once(
    stub: BotApiStub, tmp_path: Path, database_url: str | None, kb: KnowledgeBase,
):
    secret, port = "S3cret_token-42", _free_port()
    settings = _settings(stub, tmp_path, database_url, telegram_webhook_url="https://kcxf.example.org/tg/",
                         telegram_webhook_secret=secret, telegram_webhook_port=port)
    webhook = webhook_options(settings)
    assert webhook is not None and webhook.listen == "127.0.0.1" and secret not in webhook.url_path
    assert webhook.webhook_url == f"https://kcxf.example.org/tg/{webhook.url_path}"
    path = f"/{webhook.url_path}"
    async with (
        _serving(settings, kb, webhook=webhook) as (runtime, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        assert stub.webhook["url"] == webhook.webhook_url and stub.webhook["secret_token"] == secret
        after = len(stub.calls)
        forged = stub.text_update(USER, "/start")
        assert (await client.post(path, json=forged)).status_code == 403
        assert (await client.post(path, json=forged, headers={SECRET_HEADER: "guess"})).status_code == 403
        start = stub.text_update(USER, "/start")
        for _ in range(2):  # Telegram delivers an update again when it missed the answer to it
            assert (await client.post(path, json=start, headers={SECRET_HEADER: secret})).status_code == 200
        status = stub.text_update(USER, "/status")
        assert (await client.post(path, json=status, headers={SECRET_HEADER: secret})).status_code == 200
        await stub.wait_for(lambda c: c.method == "sendMessage" and "还没有提交过申报" in c.text, after=after)
        welcome = runtime.campaign.name.zh
    # The adapter sends one chat action per update it hands to the engine: /start once, /status once.
    assert len(stub.sent("sendChatAction", after=after)) == 2
    assert any(welcome in c.text for c in stub.sent(after=after))


async def test_a_user_over_the_rate_limit_is_told_once_and_others_are_unaffected(
    stub: BotApiStub, tmp_path: Path, database_url: str | None, kb: KnowledgeBase,
):
    async with _serving(_settings(stub, tmp_path, database_url, telegram_rate_per_minute=3), kb):
        after = len(stub.calls)
        for _ in range(5):
            stub.send_text(USER, "/help")
        for _ in range(4):
            stub.send_text(6, "/help", language_code="en")
        stub.send_text(7, "/help")

        def to(chat: int, method: str = "sendMessage") -> list[Call]:
            return [c for c in stub.sent(method, after=after) if c.params["chat_id"] == chat]

        await stub.wait_until(lambda: len(to(USER)) == 4 and len(to(6)) == 4 and len(to(7)) == 1)
        await asyncio.sleep(0.2)  # room for a wrong extra answer to show up
    assert [len(to(chat, "sendChatAction")) for chat in (USER, 6, 7)] == [3, 3, 1]  # what reached the engine
    limited = [c.text for c in to(USER) if "每分钟最多处理 3 条" in c.text]
    assert len(limited) == 1 and len(to(USER)) == 4
    assert sum("at most 3 messages a minute" in c.text for c in to(6)) == 1
    assert "/cancel" in to(7)[0].text


async def test_stopping_finishes_the_update_in_hand_and_leaves_no_download(
    stub: BotApiStub, tg_settings: Settings, kb: KnowledgeBase,
):
    stub.delays["getFile"] = 0.5  # the download is under way when the stop comes
    async with _serving(tg_settings, kb) as (runtime, app):
        after = len(stub.calls)
        stub.send_document(USER, "产品手册.pdf", b"%PDF-1.4 demo", "application/pdf")
        await stub.wait_for(lambda c: c.method == "sendChatAction", after=after)
        assert app.updater is not None
        await app.updater.stop()  # what run_polling does on SIGTERM
        await app.stop()
        assert stub.sent("getFile", after=after) and stub.sent(after=after)  # answered before stop returned
        incoming = runtime.settings.data_dir / "incoming"
        assert not any(incoming.iterdir())


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_kcxf_run_starts_the_bot_when_a_token_is_set_and_sigterm_stops_it(
    stub: BotApiStub, settings: Settings, kb_template: Path, mode: str,
):
    # A copy of the session's built index: the process's start, not the index's first build (which
    # tests/console/test_server.py's `kcxf run` on an empty folder goes through), is what is tested here.
    copy_index(kb_template, settings.data_dir)
    env = child_env()
    env |= {**kcxf_env(settings), "KCXF_TELEGRAM_TOKEN": stub.token,
            "KCXF_TELEGRAM_BASE_URL": f"{stub.url}/bot", "KCXF_TELEGRAM_BASE_FILE_URL": f"{stub.url}/file/bot",
            "KCXF_CONSOLE_PORT": str(_free_port())}  # kcxf run serves the console beside the bot
    secret, port = "kcxf-run-secret", _free_port()
    if mode == "webhook":
        env |= {"KCXF_TELEGRAM_WEBHOOK_URL": "https://kcxf.example.org", "KCXF_TELEGRAM_WEBHOOK_SECRET": secret,
                "KCXF_TELEGRAM_WEBHOOK_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=settings.data_dir.parent,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        await stub.wait_for(lambda c: c.method == "setMyCommands", within=120)
        after = len(stub.calls)
        if mode == "polling":
            stub.send_text(USER, "/status")
        else:
            await stub.wait_for(lambda c: c.method == "setWebhook", within=30)
            await listening(port, within=30)  # the bot listens only after its setWebhook
            path = stub.webhook["url"].removeprefix("https://kcxf.example.org")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                posted = await client.post(path, json=stub.text_update(USER, "/status"),
                                           headers={SECRET_HEADER: secret})
            assert posted.status_code == 200
        await Person(stub).reply("还没有提交过申报", after=after)
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    assert process.returncode == 0, err.decode()
    assert bool(stub.sent("deleteWebhook")) is (mode == "polling")


def test_kcxf_run_without_a_token_chats_in_the_terminal(settings: Settings, kb_template: Path):
    copy_index(kb_template, settings.data_dir)  # as above: the chat's start, not the index's first build
    env = child_env()
    done = subprocess.run([sys.executable, "-m", "bot", "run"], input="/quit\n", capture_output=True, text=True,
                          timeout=120, env={**env, **kcxf_env(settings), "COLUMNS": "200",
                                                                "KCXF_CONSOLE_PORT": str(_free_port())},
                          cwd=settings.data_dir.parent)
    assert done.returncode == 0, done.stderr
    assert "/apply" in done.stdout and "Traceback" not in done.stderr


async def test_queued_notifications_reach_the_entrant(stub: BotApiStub, tg_settings: Settings, kb: KnowledgeBase):
    """A status change written by another process (the CLI) is delivered by the running bot."""
    from intake.notify import Notification, notify_user

    async with _serving(tg_settings, kb, outbox_interval_s=0.05) as (runtime, _):
        await Person(stub).say("/start", expect=runtime.campaign.name.zh)
        sessions = await runtime.sessionmaker()
        async with sessions() as session, session.begin():
            user_id = await session.scalar(select(User.id).where(User.external_id == str(USER)))
            assert user_id is not None
            await notify_user(session, user_id=user_id, text="您的申报 KCXF-2024-00001 状态更新为「初审通过」")
        call = await stub.wait_for(lambda c: c.method == "sendMessage" and "初审通过" in c.text)
        assert str(call.params.get("chat_id")) == str(USER)
        for _ in range(100):  # marked sent in the same transaction, just after the send returns
            async with sessions() as session:
                note = await session.scalar(select(Notification))
            if note is not None and note.sent_at is not None:
                break
            await asyncio.sleep(0.05)
        assert note is not None and note.sent_at is not None


async def test_delete_over_telegram_withdraws_the_draft(stub: BotApiStub, running: Runtime):
    person = Person(stub)
    await person.say("/apply", expect="资格确认")
    await person.press("intake:group:product", expect="知识产权")
    await person.say("/delete", expect="撤回全部未提交的草稿")
    await person.press("delete:confirm", expect="已撤回")


async def test_a_reply_that_fails_to_send_is_delivered_from_the_outbox(
    stub: BotApiStub, tg_settings: Settings, kb: KnowledgeBase,
):
    """Issue 18 item 8: the press is committed; its reply, refused by the network, arrives from the outbox, with
    its buttons, and no error tells the entrant to send again."""
    async with _serving(tg_settings, kb, outbox_interval_s=0.05) as (runtime, _):
        me = Person(stub)
        await me.say("/apply", expect="资格确认")
        after = len(stub.calls)
        stub.failures["sendMessage"] = 1  # the next message to the entrant meets a 502 Bad Gateway
        offer = [c for c in stub.sent() if c.offering(f"{PREFIX}group:enterprise")][-1]
        stub.press(USER, offer.message_id, offer.offering(f"{PREFIX}group:enterprise") or "")
        track = await stub.wait_for(lambda c: c.method == "sendMessage" and "赛道" in c.text, after=after)
        assert stub.refused == ["sendMessage"]
        assert (await _state(runtime, USER))[1] == "precheck:track"
        edit = await stub.wait_for(lambda c: c.method == "editMessageText", after=after)
        assert "已选择" in edit.text  # the press counted
        # Its buttons answer the question it asks.
        await me.press(f"{PREFIX}track:next_gen_it", expect="知识产权")
        error = runtime.texts.t("engine.error", "zh")
        assert not any(error in c.text for c in stub.sent(after=after))
        assert track.offering(f"{PREFIX}track:next_gen_it")


async def test_a_message_whose_typing_indicator_fails_is_still_answered(
    stub: BotApiStub, tg_settings: Settings, kb: KnowledgeBase,
):
    """The typing indicator is a courtesy: the Bot API refusing it must not drop the entrant's message."""
    async with _serving(tg_settings, kb) as (runtime, _):
        me = Person(stub)
        stub.failures["sendChatAction"] = 1
        await me.say("/apply", expect="资格确认")
        assert stub.refused == ["sendChatAction"]


async def test_a_late_update_is_refused_by_the_webhook(
    stub: BotApiStub, tmp_path: Path, database_url: str | None, kb: KnowledgeBase,
):
    """Issue 18 item 9 through the adapter: an update posted after a later one of the same user is refused."""
    secret, port = "late-secret", _free_port()
    settings = _settings(stub, tmp_path, database_url, telegram_webhook_url="https://kcxf.example.org/tg/",
                         telegram_webhook_secret=secret, telegram_webhook_port=port)
    webhook = webhook_options(settings)
    assert webhook is not None
    async with (
        _serving(settings, kb, webhook=webhook) as (runtime, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        earlier, later = stub.text_update(USER, "/start"), stub.text_update(USER, "/status")
        after = len(stub.calls)
        for n, update in enumerate((later, earlier), start=1):  # as two workers might deliver them
            posted = await client.post(f"/{webhook.url_path}", json=update, headers={SECRET_HEADER: secret})
            assert posted.status_code == 200
            await stub.wait_until(lambda n=n: len(stub.sent(after=after)) >= n)
        texts = [c.text for c in stub.sent(after=after)]
        assert "还没有提交过申报" in texts[0] and texts[1] == runtime.texts.t("engine.out_of_order", "zh")
        assert not any(runtime.campaign.name.zh in t for t in texts)  # /start was not applied


async def _apply_as(stub: BotApiStub, me: Applicant, *, before: Callable[[Action], None] = lambda action: None) -> None:
    """Drive `me` through a whole application over the stub, each update once the last one is stored; `before` is
    called with each action before it is done."""
    kinds = {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
    user = me.user_id
    mark, update = 0, lambda: stub.send_text(user, "/apply")
    for _ in range(400):
        saves = (await me.where())[3]
        update()
        # Answered once the bot has stored the update (a press of a toggle saves the draft, and nothing else).
        for _ in range(3000):
            if (await me.where())[3] > saves:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("an update was never handled")
        action = await me.next_action()
        if action is None:
            break
        before(action)
        if action.kind == "type":
            update = lambda text=action.value: stub.send_text(user, text)  # noqa: E731
        else:
            # The keyboard now offering it: sent with the reply to the last update, or edited in place by it.
            offer = await stub.wait_for(lambda c, v=action.value: c.method in kinds and c.offering(v) is not None
                                        and c.params.get("chat_id") == user, after=mark)
            data = offer.offering(action.value)
            assert data is not None
            update = lambda m=offer.message_id, d=data: stub.press(user, m, d)  # noqa: E731
        mark = len(stub.calls)
    else:
        raise AssertionError("the application never ended")
    await stub.wait_for(lambda c: c.method == "sendDocument" and c.params.get("chat_id") == user)


async def test_an_applicant_completes_an_enterprise_award_pressing_the_toggles(stub: BotApiStub, running: Runtime):
    """Issue 15: the multi-select 创新评级 answered with its toggle buttons (✓ on the chosen, the message edited in
    place) and 完成, by an applicant who reads only what the bot stored; a late toggle of a pressed keyboard is
    refused."""
    user = 88
    form = running.forms["enterprise_npf"]
    me = Applicant(user, form, await running.sessionmaker())
    await _apply_as(stub, me)
    assert me.pressed == {"innovation_rating": ["high_tech", "little_giant"]}

    # What the entrant saw: one question, its keyboard edited in place at each toggle, ✓ on the chosen ones.
    question = next(c for c in stub.sent() if "可多选" in c.text and c.params.get("chat_id") == user)
    edits = [c for c in stub.calls if c.method.startswith("editMessage") and c.message_id == question.message_id]
    assert [c.method for c in edits] == ["editMessageReplyMarkup"] * 2 + ["editMessageText"]
    assert [label for label, _ in edits[1].buttons][:3] == ["✓ 高新技术企业", "专精特新", "✓ 专精特新“小巨人”"]
    assert edits[-1].text.endswith("已选择：高新技术企业、专精特新“小巨人”") and not edits[-1].buttons
    assert sum("可多选" in c.text for c in stub.sent() if c.params.get("chat_id") == user) == 1

    sessions = await running.sessionmaker()
    async with sessions() as session:
        [record] = (await session.scalars(select(Submission))).all()
    assert_holds_exactly(form, record.answers, me.typed, pressed=me.pressed, today=record.created_at.date())

    # A toggle of that keyboard as it stood before 完成 (a press that arrives late) changes nothing: that keyboard
    # answered once already (the engine would refuse it as stale, tests/intake/test_choices.py).
    after = len(stub.calls)
    stub.press(user, question.message_id, edits[1].offering(f"{PREFIX}toggle:specialised") or "")
    said = await stub.wait_for(lambda c: c.method == "answerCallbackQuery", after=after)
    assert said.params.get("text") == "已记录，谢谢。"
    # The user's updates are handled in order: whatever the press caused comes before the answer to /status.
    status = await Person(stub, user_id=user).say("/status", expect="KCXF-2024-")
    between = stub.calls[after:stub.calls.index(status)]
    assert [c.method for c in between] == ["answerCallbackQuery", "sendChatAction"], between
    async with sessions() as session:
        assert (await session.scalar(select(Submission))).answers["innovation_rating"] == ["high_tech", "little_giant"]


async def test_a_toggle_whose_edit_telegram_refuses_comes_as_a_new_message(stub: BotApiStub, running: Runtime):
    user = 89
    me = Applicant(user, running.forms["enterprise_npf"], await running.sessionmaker())

    def fail_first_edit(action: Action) -> None:
        if action.value.endswith(":toggle:high_tech"):
            stub.failures["editMessageReplyMarkup"] = 1  # a 502: the edit is not made

    await _apply_as(stub, me, before=fail_first_edit)
    assert stub.refused == ["editMessageReplyMarkup"]
    # The question with the toggle marked came as a message of its own, and the next toggle was pressed there.
    [again] = [c for c in stub.sent() if "可多选" in c.text and c.params.get("chat_id") == user][1:]
    assert [label for label, _ in again.buttons][:2] == ["✓ 高新技术企业", "专精特新"]
    assert any(c.method == "editMessageReplyMarkup" and c.message_id == again.message_id for c in stub.calls)
    assert me.pressed == {"innovation_rating": ["high_tech", "little_giant"]}
