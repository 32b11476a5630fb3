"""The web chat in real headless Chromium, as an entrant uses it: a rules question, a whole application with
buttons, typed answers, a multi-select, an upload and the summary, the form downloaded, a reload mid-form, and the
draft continued in a second browser after the e-mail code (read from a real SMTP server on loopback).

Screenshots at phone and desktop width go to tests/artifacts/screenshots/webchat-*.png.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from config.settings import Settings
from intake import notify, queue
from intake.forms import Form
from intake.queue import Submission
from tests.console.conftest import SCREENSHOTS, LiveConsole, serving
from tests.intake.factories import typed_answer
from tests.intake.test_mail import Collector, serve

AWARD = "rising_potential"  # an enterprise award: its form has the multi-select 创新评级
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 860}
HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    yield from serve()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serving(settings: Settings, kb_template: Path) -> contextlib.AbstractContextManager[LiveConsole]:
    """The console with the web chat; an open chat page holds a stream, so shutdown waits 2 s at most."""
    return serving(settings, kb_template, timeout_graceful_shutdown=2)


def _settings(tmp_path: Path, smtp_port: int, **extra: Any) -> Settings:
    """The call open, mail to the SMTP server of the test."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "live", now=datetime(2024, 10, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_timeout_s=5.0, smtp_from="kcxf-bot@example.cn",
        webchat_rate_per_minute=1000, **extra,
    )


@pytest.fixture
def live_chat(tmp_path: Path, kb_template: Path, smtp: tuple[Collector, int]) -> Iterator[LiveConsole]:
    """The console (with the web chat) on a free loopback port, the call open, mail to the SMTP server above."""
    with _serving(_settings(tmp_path, smtp[1]), kb_template) as live:
        yield live


def screenshot(page: Any, name: str) -> Path:
    """What the screen shows now (not the whole page: a long chat would shrink past reading)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _context(chromium: Any, viewport: dict[str, int]) -> Any:
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport,
                                   accept_downloads=True)
    context.set_default_timeout(60_000)
    return context


def _bot_count(page: Any) -> int:
    return int(page.locator("#log li.msg.bot").count())


def _wait_answer(page: Any, before: int) -> None:
    """Until the reply to what was just sent is shown (a new assistant message, the typing indicator gone).

    Locators only: the page's Content-Security-Policy forbids the eval that wait_for_function needs."""
    page.locator("#log li.msg.bot").nth(before).wait_for()
    page.locator("#typing").wait_for(state="hidden")


def _say(page: Any, text: str) -> None:
    before = _bot_count(page)
    page.fill("#chat-input", text)
    page.keyboard.press("Enter")
    _wait_answer(page, before)


def _press(page: Any, value_suffix: str) -> None:
    before = _bot_count(page)
    page.locator(f"#log li.msg.bot:last-child .choices button[data-value$='{value_suffix}']").click()
    _wait_answer(page, before)


def _last_bot(page: Any) -> str:
    return str(page.locator("#log li.msg.bot p").last.inner_text())


def _code_from(collector: Collector, address: str) -> str:
    for _ in range(200):
        for received in reversed(collector.messages):
            if address in received.rcpt_tos:
                found = re.search(r"\b(\d{6})\b", received.message.get_content())
                assert found, received.message.get_content()
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no code was mailed to {address}")


def _prove_email(page: Any, collector: Collector, address: str) -> None:
    page.wait_for_selector("#verify:not([hidden])")
    page.fill("#email", address)
    page.click("#email-form button[type=submit]")
    page.wait_for_selector("#code-form:not([hidden])")
    page.fill("#code", _code_from(collector, address))
    with page.expect_navigation():
        page.click("#code-form button[type=submit]")


def _answer_questions(page: Any, form: Form, *, stop_after: int | None = None, upload: Path | None = None) -> int:
    """Answer what the chat asks until the summary (or `stop_after` answers); returns how many were given."""
    prompts = {slot.field.prompt.zh: slot.field for slot in form.fields()}
    given = 0
    for _ in range(200):
        lines = _last_bot(page).split("\n")
        asked = prompts.get(lines[1]) if len(lines) > 1 else None
        if asked is None:
            if page.locator("#log li.msg.bot:last-child .choices button[data-value$='|intake:no']").count():
                _press(page, "|intake:no")  # "another project?"
                continue
            return given
        if stop_after is not None and given >= stop_after:
            return given
        if asked.type == "file_list":
            if upload is not None:
                before = _bot_count(page)
                page.set_input_files("#file", str(upload))
                _wait_answer(page, before)
                assert upload.name in page.locator("#log li.msg.bot p").nth(-2).inner_text()
            _press(page, "|intake:skip")
        elif asked.type == "consent":
            _press(page, "|intake:yes")
        elif asked.type == "choices":  # the multi-select: two toggles, each redrawn in place, then 完成
            for option in asked.choices[:2]:
                toggle = page.locator(f"#log li.msg.bot:last-child .choices button[data-value$='|intake:toggle:{option.id}']")
                toggle.click()
                expect(page.locator(f"#log li.msg.bot:last-child .choices button[aria-pressed=true]"
                                    f"[data-value$='|intake:toggle:{option.id}']")).to_have_count(1)
                page.locator("#typing").wait_for(state="hidden")
            screenshot(page, "webchat-multiselect")
            _press(page, "|intake:done")
        elif asked.type == "choice":
            _press(page, f"|intake:{asked.choices[0].id}")
        else:
            typed = {"contact_email": "li.hua@pioneer-tech.cn", "contact_mobile": "13912345678"}
            _say(page, typed_answer(form, asked, typed=typed, long_text=None))
        given += 1
    raise AssertionError("the form never ended")


def test_an_entrant_asks_applies_resumes_and_continues_on_another_device(
    live_chat: LiveConsole, chromium: Any, smtp: tuple[Collector, int], tmp_path: Path,
) -> None:
    collector, _ = smtp
    live = live_chat
    form = live.runtime.forms[AWARD]
    phone = _context(chromium, PHONE)
    page = phone.new_page()
    page.goto(live.url + "/chat")
    page.wait_for_selector("#log li.msg.bot")  # the welcome, for a first visit
    assert page.locator("h1").inner_text() == live.runtime.campaign.name.zh
    assert "2024" in page.locator(".deadline").inner_text()

    # A rules question, and something hostile typed: shown as text, never run.
    _say(page, "申报截止时间是什么时候？")
    assert "10 月 20 日" in _last_bot(page) or "10月20日" in _last_bot(page)
    _say(page, HOSTILE)
    assert page.title() != "pwned"
    assert page.locator("#log img").count() == 0
    assert HOSTILE in page.locator("#log li.msg.me p").last.inner_text()
    screenshot(page, "webchat-phone-question")

    # /apply needs a proven e-mail address first; then the chat carries on with /apply by itself.
    page.click("nav.commands button[data-command=apply]")
    _prove_email(page, collector, "li.hua@pioneer-tech.cn")
    page.wait_for_selector("#log li.msg.bot .choices button")
    _press(page, f"|intake:group:{form.award.group}")
    if page.locator("#log li.msg.bot:last-child .choices button[data-value*='|intake:track:']").count():
        before = _bot_count(page)
        page.locator("#log li.msg.bot:last-child .choices button[data-value*='|intake:track:']").first.click()
        _wait_answer(page, before)
    _press(page, "|intake:yes")
    _press(page, "|intake:no")
    _press(page, f"|intake:award:{AWARD}")
    _press(page, "|intake:agree")
    given = _answer_questions(page, form, stop_after=6)
    asked_before = _last_bot(page)

    # Reload mid-form: the conversation is still there, and the same question still answers.
    page.reload()
    page.wait_for_selector("#log li.msg.bot")
    assert _last_bot(page) == asked_before
    screenshot(page, "webchat-phone-form")

    # A second device: the same address, the code from the mail, and the draft continues there.
    desktop = _context(chromium, DESKTOP)
    other = desktop.new_page()
    other.goto(live.url + "/chat")
    other.wait_for_selector("#log li.msg.bot")
    other.click("nav.commands button[data-command=drafts]")
    _prove_email(other, collector, "li.hua@pioneer-tech.cn")
    other.wait_for_selector("#log li.msg.bot .choices button[data-value*='|intake:draft:']")
    _press(other, "|intake:draft:" + other.locator(
        "#log li.msg.bot:last-child .choices button[data-value*='|intake:draft:']").first.get_attribute(
            "data-value").rsplit(":", 1)[1])
    upload = tmp_path / "营业执照.pdf"
    upload.write_bytes(b"%PDF-1.7\n% a small but real-looking PDF\n%%EOF\n")
    given += _answer_questions(other, form, upload=upload)
    assert given > 30
    screenshot(other, "webchat-desktop-summary")

    # The summary, confirmed; the declarations; the form comes back as a download.
    _press(other, "|intake:confirm")
    while other.locator("#log li.msg.bot:last-child .choices button[data-value$='|intake:yes']").count():
        _press(other, "|intake:yes")
    other.wait_for_selector("#log a.document")
    with other.expect_download() as download:
        other.locator("#log a.document").last.click()
    assert download.value.suggested_filename.endswith(".docx")
    assert download.value.path().read_bytes()[:2] == b"PK"
    screenshot(other, "webchat-desktop-submitted")

    # /status on the first device shows the entry; the other device's link does not open for a stranger.
    _say(page, "/status")
    reference = live.call(_reference(live))
    assert reference in _last_bot(page)
    # The committee moves the entry to 初审: the notice reaches the open page through the outbox and the stream.
    before = _bot_count(page)
    live.call(_review(live, reference))
    page.locator("#log li.msg.bot").nth(before).wait_for()
    assert "初审" in _last_bot(page)
    link = other.locator("#log a.document").last.get_attribute("href")
    stranger = _context(chromium, PHONE)
    try:
        stranger_page = stranger.new_page()
        stranger_page.goto(live.url + "/chat")
        response = stranger_page.request.get(live.url + link)
        assert response.status == 404
    finally:
        stranger.close()
    desktop.close()
    phone.close()


async def _reference(live: LiveConsole) -> str:
    sessions = await live.runtime.sessionmaker()
    async with sessions() as session:
        return str((await session.scalars(select(Submission.reference))).one())


def test_the_chat_works_by_keyboard_alone_and_reads_at_320px_and_200_percent(
    live_chat: LiveConsole, chromium: Any,
) -> None:
    live = live_chat
    narrow = _context(chromium, {"width": 320, "height": 640})
    page = narrow.new_page()
    page.goto(live.url + "/chat")
    page.wait_for_selector("#log li.msg.bot")
    # Everything is named for a screen reader: the message box, the file input, the commands, the log.
    assert page.get_by_label("您的消息").count() == 1
    assert page.get_by_label("上传文件").count() == 1
    assert page.get_by_role("button", name="在线申报").count() == 1
    assert page.get_by_role("log").count() == 1
    # Keyboard alone: the skip link first, to the message box; Enter sends.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "chat-input"
    before = _bot_count(page)
    page.keyboard.type("/lang")
    page.keyboard.press("Enter")
    _wait_answer(page, before)
    # Tab reaches the answer's buttons (after the page's own controls), and Space presses one.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("(document.activeElement.dataset || {}).value || ''").endswith("lang:en"):
            break
    else:
        raise AssertionError("the English button was never reached by Tab")
    before = _bot_count(page)
    page.keyboard.press("Space")
    _wait_answer(page, before)
    assert "English" in _last_bot(page)
    # Nothing wider than the screen at 320 px, nor at 200 % zoom of a 1280 px window (640 CSS px, 430 high).
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "webchat-320px")
    zoomed = chromium.new_context(locale="zh-CN", viewport={"width": 640, "height": 430}, device_scale_factor=2)
    try:
        big = zoomed.new_page()
        big.goto(live.url + "/chat")
        big.wait_for_selector("#log li.msg.bot")
        assert big.evaluate("document.documentElement.scrollWidth") <= 640
        assert big.locator("#chat-input").is_visible()
        screenshot(big, "webchat-zoom-200")
    finally:
        zoomed.close()
    narrow.close()


async def _review(live: LiveConsole, reference: str) -> None:
    """What the console's review page does for a status change: the change, and the entrant's notice."""
    sessions = await live.runtime.sessionmaker()
    async with sessions() as session, session.begin():
        changed = await queue.change_status(session, reference=reference, to_status="first_review",
                                            actor="staff:wang.fang", now=datetime(2024, 10, 21, 9, tzinfo=UTC))
        await notify.notify_status(session, submission=changed, note="", texts=live.runtime.texts)


class _HostPage(http.server.BaseHTTPRequestHandler):
    """Another site's page, with the one-line embed of the chat."""

    chat_url = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>澎湃新闻</title></head>'
                f'<body><h1>科创先锋案例征集</h1><script src="{self.chat_url}/static/chat-embed.js" defer></script>'
                f"</body></html>").encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_listed_site_embeds_the_chat_and_an_unlisted_one_cannot(
    tmp_path: Path, kb_template: Path, smtp: tuple[Collector, int], chromium: Any,
) -> None:
    host_port = _free_port()
    # The chat is served as http://localhost:… (browsers keep a Secure cookie over plain HTTP only there), the
    # listed site is http://127.0.0.1:HOST, and the same page reached as http://localhost:HOST is another origin.
    settings = _settings(tmp_path, smtp[1], webchat_origins=f"http://127.0.0.1:{host_port}")
    with _serving(settings, kb_template) as live:
        handler = type("Host", (_HostPage,), {"chat_url": live.url.replace("127.0.0.1", "localhost")})
        site = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), handler)
        threading.Thread(target=site.serve_forever, daemon=True).start()
        context = _context(chromium, DESKTOP)
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{host_port}/")
            page.get_by_role("button", name="咨询申报助手").click()
            frame = page.frame_locator("#kcxf-chat-frame")
            frame.locator("#log li.msg.bot").first.wait_for()  # the welcome: cookie and token work in the frame
            frame.locator("#chat-input").fill("申报截止时间是什么时候？")
            frame.locator("#chat-input").press("Enter")
            frame.locator("#log li.msg.bot").nth(1).wait_for()
            assert "10 月 20 日" in frame.locator("#log li.msg.bot p").nth(1).inner_text()
            screenshot(page, "webchat-embedded")
            page.get_by_role("button", name="关闭对话").click()
            assert page.get_by_role("button", name="咨询申报助手").get_attribute("aria-expanded") == "false"

            unlisted = context.new_page()
            unlisted.goto(f"http://localhost:{host_port}/")
            unlisted.get_by_role("button", name="咨询申报助手").click()
            element = unlisted.locator("#kcxf-chat-frame").element_handle()
            framed = element.content_frame()
            assert framed is not None
            framed.wait_for_load_state()
            assert framed.locator("#log").count() == 0  # refused by frame-ancestors: no chat inside
        finally:
            context.close()
            site.shutdown()
            site.server_close()
