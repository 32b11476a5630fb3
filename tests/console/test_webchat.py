"""The web chat's calls, through the real app (httpx over ASGI) on a real database and a real SMTP server: the
visitor cookie and its CSRF token, the e-mail code (expiry, tries, throttles), a second browser becoming the same
visitor, redelivery and rate limits, documents only for their visitor, the outbox reaching an open page, the
embedding policy and the upload cap."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from bot import outbox
from bot.adapters.web import CHANNEL, Visitor
from bot.replies import DocumentOut, TextOut
from bot.runtime import Runtime
from config.settings import Settings
from console.app import create_app
from console.web_visitors import CODES_PER_ADDRESS, MAX_TRIES
from console.webchat import stop_webchat
from tests.conftest import copy_index
from tests.intake.test_mail import Collector, serve

ADDRESS = "li.hua@pioneer-tech.cn"
TOKEN = re.compile(r'data-csrf="([^"]+)"')


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    yield from serve()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, smtp: tuple[Collector, int]) -> Settings:
    """The call open (1 October 2024), mail through the SMTP server above, a small rate limit, one embedding site."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "var", database_url=database_url,
        now=datetime(2024, 10, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        smtp_host="127.0.0.1", smtp_port=smtp[1], smtp_timeout_s=5.0, smtp_from="kcxf-bot@example.cn",
        webchat_rate_per_minute=12, webchat_origins="https://www.thepaper.cn",
    )


@pytest.fixture
async def chat_app(settings: Settings, kb_template: Path) -> AsyncIterator[FastAPI]:
    runtime = Runtime.open(settings)
    copy_index(kb_template, settings.data_dir)
    app = create_app(runtime)
    async with app.router.lifespan_context(app):
        yield app
    await runtime.close()


class Browser:
    """One browser: its own cookies, the page's token, and the calls the page makes."""

    def __init__(self, app: FastAPI, address: str = "203.0.113.7") -> None:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        self.http = httpx.AsyncClient(transport=transport, base_url="https://chat.test",
                                      headers={"accept-language": "zh-CN,zh;q=0.9", "accept": "application/json"})
        self.token = ""
        self.n = 0

    async def open(self) -> httpx.Response:
        page = await self.http.get("/chat", headers={"accept": "text/html"})
        assert page.status_code == 200
        self.token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
        return page

    def message_id(self) -> str:
        """Unique per browser, as the page's random ids are (two browsers of one visitor never share one)."""
        return f"{id(self):x}-{self.n}"

    async def post(self, path: str, body: dict[str, Any], *, token: str | None = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers={"x-csrf-token": self.token if token is None else token})

    async def say(self, text: str, *, id: str | None = None) -> list[dict[str, Any]]:  # noqa: A002
        self.n += 1
        answer = await self.post("/chat/api/messages", {"id": id or self.message_id(), "text": text})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["replies"])

    async def press(self, reply: dict[str, Any], suffix: str) -> list[dict[str, Any]]:
        value = next(c["value"] for c in reply["choices"] if c["value"].endswith(suffix))
        self.n += 1
        answer = await self.post("/chat/api/messages", {"id": self.message_id(), "choice": value,
                                                         "keyboard": reply["keyboard"]})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["replies"])

    async def prove(self, collector: Collector, address: str = ADDRESS) -> httpx.Response:
        sent = await self.post("/chat/api/email", {"email": address})
        assert sent.status_code == 200, sent.text
        return await self.post("/chat/api/email/verify", {"email": address, "code": last_code(collector, address)})


def last_code(collector: Collector, address: str) -> str:
    mails = [m for m in collector.messages if address in m.rcpt_tos]
    assert mails, f"nothing was mailed to {address}"
    found = re.search(r"\b(\d{6})\b", mails[-1].message.get_content())
    assert found
    return found.group(1)


@pytest.fixture
async def browser(chat_app: FastAPI) -> AsyncIterator[Browser]:
    b = Browser(chat_app)
    await b.open()
    yield b
    await b.http.aclose()


async def test_a_rules_question_is_answered_in_the_visitors_language(browser: Browser) -> None:
    replies = await browser.say("申报截止时间是什么时候？")
    assert "10 月 20 日" in replies[0]["text"]
    assert [c["label"] for c in replies[0]["choices"]] == ["👍 有帮助", "👎 没帮助"]
    cookie = browser.http.cookies.get("kcxf_visitor")
    assert cookie and browser.token not in cookie  # the token is derived from the cookie, not the cookie itself


async def test_a_call_without_the_visitors_own_token_changes_nothing(chat_app: FastAPI, browser: Browser) -> None:
    assert (await browser.post("/chat/api/messages", {"id": "x", "text": "/apply"}, token="")).status_code == 403
    other = Browser(chat_app)
    await other.open()
    # Another visitor's token does not pass for this one, nor does a cookie-less call.
    assert (await browser.post("/chat/api/messages", {"id": "x", "text": "hi"}, token=other.token)).status_code == 403
    assert (await browser.post("/chat/api/email", {"email": ADDRESS}, token=other.token)).status_code == 403
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=chat_app), base_url="https://chat.test")
    answer = await anonymous.post("/chat/api/messages", json={"text": "hi"}, headers={"x-csrf-token": browser.token})
    assert answer.status_code == 403 and "刷新" in answer.json()["detail"]
    await other.http.aclose()
    await anonymous.aclose()


async def test_apply_waits_for_a_proven_address_and_a_second_browser_continues_the_draft(
    chat_app: FastAPI, browser: Browser, smtp: tuple[Collector, int],
) -> None:
    collector, _ = smtp
    [verify] = await browser.say("/apply")
    assert verify["type"] == "verify" and verify["then"] == "apply" and "邮箱" in verify["text"]
    proven = await browser.prove(collector)
    assert proven.json() == {"ok": True, "text": "邮箱验证成功。", "switched": False}
    [group] = await browser.say("/apply")
    assert group["choices"] and "group:" in group["choices"][0]["value"]
    [track] = await browser.press(group, "|intake:group:enterprise")
    [ip] = await browser.press(track, "|intake:track:" + track["choices"][0]["value"].rsplit(":", 1)[1])
    [incidents] = await browser.press(ip, "|intake:yes")
    [award] = await browser.press(incidents, "|intake:no")
    [privacy] = await browser.press(award, "|intake:award:rising_potential")
    await browser.press(privacy, "|intake:agree")  # the draft exists from here

    other = Browser(chat_app, address="198.51.100.9")
    await other.open()
    assert (await other.say("/drafts"))[0]["type"] == "verify"
    switched = await other.prove(collector)
    assert switched.json()["switched"] is True
    # The second browser is now the same visitor: its draft is offered there.
    await other.open()
    [offer] = await other.say("/drafts")
    assert any("|intake:draft:" in c["value"] for c in offer.get("choices", [])), offer
    mail = [m for m in collector.messages if ADDRESS in m.rcpt_tos][-1].message
    assert "/chat/signin/" in mail.get_content()
    await other.http.aclose()


async def test_codes_expire_after_a_few_wrong_tries_and_are_throttled(
    chat_app: FastAPI, browser: Browser, smtp: tuple[Collector, int],
) -> None:
    collector, _ = smtp
    assert (await browser.post("/chat/api/email", {"email": "not an address"})).status_code == 400
    assert (await browser.post("/chat/api/email", {"email": ADDRESS})).status_code == 200
    code = last_code(collector, ADDRESS)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in range(MAX_TRIES - 1, 0, -1):
        answer = await browser.post("/chat/api/email/verify", {"email": ADDRESS, "code": wrong})
        assert answer.status_code == 400 and f"还可尝试 {left} 次" in answer.json()["text"]
    last = await browser.post("/chat/api/email/verify", {"email": ADDRESS, "code": wrong})
    assert "过期" in last.json()["text"]
    # Out of tries, the right code opens nothing either.
    assert (await browser.post("/chat/api/email/verify", {"email": ADDRESS, "code": code})).status_code == 400
    for _ in range(CODES_PER_ADDRESS - 1):
        assert (await browser.post("/chat/api/email", {"email": ADDRESS})).status_code == 200
    throttled = await browser.post("/chat/api/email", {"email": ADDRESS.upper()})  # the same address in any case
    assert throttled.status_code == 400 and "分钟后再试" in throttled.json()["text"]
    # Per client address too: one address may not mail codes to many mailboxes.
    answers = [await browser.post("/chat/api/email", {"email": f"a{n}@pioneer-tech.cn"}) for n in range(12)]
    assert [a.status_code for a in answers].count(200) == 10 - CODES_PER_ADDRESS


async def test_the_sign_in_link_signs_a_new_browser_in_as_the_same_visitor(
    chat_app: FastAPI, browser: Browser, smtp: tuple[Collector, int],
) -> None:
    collector, _ = smtp
    assert (await browser.prove(collector)).json()["ok"]
    first = browser.http.cookies.get("kcxf_visitor")
    await browser.post("/chat/api/email", {"email": ADDRESS})
    mail = collector.messages[-1].message.get_content()
    link = re.search(r"/chat/signin/(\S+)", mail).group(1)  # type: ignore[union-attr]
    other = Browser(chat_app)
    page = await other.http.get(f"/chat/signin/{link}", headers={"accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    done = await other.http.post(f"/chat/signin/{link}", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/chat"
    assert other.http.cookies.get("kcxf_visitor") == first
    page = await other.http.get(f"/chat/signin/{link}", headers={"accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    again = await other.http.post(f"/chat/signin/{link}", data={"csrf_token": token})
    assert again.status_code == 400  # a link signs in once
    await other.http.aclose()


async def test_a_message_sent_twice_and_a_keyboard_pressed_twice_count_once(browser: Browser) -> None:
    [first] = await browser.say("/lang", id="same")
    assert await browser.say("/lang", id="same") == []
    english = await browser.press(first, "lang:en")
    assert "English" in english[0]["text"] or "english" in english[0]["text"].lower()
    browser.n -= 1  # the same keyboard again, as a double click sends it
    again = await browser.press(first, "lang:zh")
    assert again == [{"type": "text", "text": "已记录，谢谢。", "stale": True}]


async def test_a_visitor_sending_too_fast_is_told_once(browser: Browser) -> None:
    answers = [await browser.say(f"你好 {n}") for n in range(14)]
    assert all(a and "有点快" not in a[0]["text"] for a in answers[:12])
    assert "每分钟最多处理 12 条" in answers[12][0]["text"]
    assert answers[13] == []


async def test_a_document_opens_only_for_its_visitor(chat_app: FastAPI, browser: Browser) -> None:
    runtime = chat_app.state.runtime
    form = runtime.settings.files_dir / "forms" / "申报表.docx"
    form.parent.mkdir(parents=True, exist_ok=True)
    form.write_bytes(b"PK\x03\x04 a form")
    await browser.say("你好")  # the adapter is made on first use
    chat = chat_app.state.webchat
    external_id = chat_app.state.signer.unsign(browser.http.cookies.get("kcxf_visitor"), salt="kcxf.webchat.visitor")
    [item] = chat.render(Visitor(external_id), [DocumentOut(path=form, file_name="申报表.docx", caption="")])
    mine = await browser.http.get(item["url"])
    assert mine.status_code == 200 and mine.content == b"PK\x03\x04 a form"
    stranger = Browser(chat_app)
    await stranger.open()
    assert (await stranger.http.get(item["url"])).status_code == 404
    forged = item["url"][:-3] + ("aaa" if not item["url"].endswith("aaa") else "bbb")
    assert (await browser.http.get(forged)).status_code == 404
    [outside] = chat.render(Visitor(external_id), [DocumentOut(path=Path("/etc/passwd"), file_name="x")])
    assert (await browser.http.get(outside["url"])).status_code == 404
    await stranger.http.aclose()


async def test_the_outbox_reaches_an_open_page_and_waits_for_a_closed_one(chat_app: FastAPI, browser: Browser) -> None:
    await browser.say("你好")
    chat = chat_app.state.webchat  # made by the first message
    # This test delivers itself: the app's own round, every 3 s, could send "入围" between the queueing and the
    # test's deliver, which then counted 0 (seen once in CI).
    await stop_webchat(chat_app)
    sessions = chat.engine.sessionmaker
    await outbox.queue_replies(sessions, channel=CHANNEL, external_id="v1", replies=[TextOut("初审通过")])
    assert await outbox.deliver(sessions, channel=CHANNEL, send=chat.send) == 0  # no page open: it waits
    stream = chat.open_stream("v2")
    await outbox.queue_replies(sessions, channel=CHANNEL, external_id="v2", replies=[TextOut("入围")])
    assert await outbox.deliver(sessions, channel=CHANNEL, send=chat.send) == 1
    assert stream.get_nowait() == {"type": "text", "text": "入围"}
    chat.close_stream("v2", stream)


async def test_only_listed_sites_may_frame_the_chat(chat_app: FastAPI) -> None:
    page = await Browser(chat_app).open()
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://www.thepaper.cn;" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "SameSite=none" in page.headers["set-cookie"] and "Secure" in page.headers["set-cookie"]
    for unsafe in ("*", "https://a.cn/path", "https://a.cn; script-src *"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, webchat_origins=unsafe)  # type: ignore[call-arg]


async def test_an_upload_over_the_cap_is_refused_before_it_is_read(chat_app: FastAPI, browser: Browser) -> None:
    big = b"0" * (21 * 1024 * 1024)
    answer = await browser.http.post("/chat/api/upload", files={"file": ("big.pdf", big, "application/pdf")},
                                     headers={"x-csrf-token": browser.token})
    assert answer.status_code == 413 and "20 MB" in answer.text
    small = await browser.http.post("/chat/api/upload", data={"id": "u1"},
                                    files={"file": ("plan.pdf", b"%PDF-1.7 plan", "application/pdf")},
                                    headers={"x-csrf-token": browser.token})
    assert small.status_code == 200 and small.json()["replies"]  # outside a form: the engine says what to do


async def test_a_stranger_sees_no_draft_of_anothers_and_delete_works_as_in_telegram(
    chat_app: FastAPI, browser: Browser, smtp: tuple[Collector, int],
) -> None:
    collector, _ = smtp
    await browser.prove(collector)
    [group] = await browser.say("/apply")
    [track] = await browser.press(group, "|intake:group:enterprise")
    [ip] = await browser.press(track, "|intake:track:" + track["choices"][0]["value"].rsplit(":", 1)[1])
    [incidents] = await browser.press(ip, "|intake:yes")
    [award] = await browser.press(incidents, "|intake:no")
    [privacy] = await browser.press(award, "|intake:award:rising_potential")
    await browser.press(privacy, "|intake:agree")

    # Another visitor, even with an address of their own proven, has no draft, and no way to name this one's.
    stranger = Browser(chat_app, address="198.51.100.20")
    await stranger.open()
    await stranger.prove(collector, "someone.else@example.cn")
    assert "还没有申报草稿" in (await stranger.say("/drafts"))[0]["text"]
    [offer] = await browser.say("/drafts")
    mine = next(c["value"] for c in offer["choices"] if "|intake:draft:" in c["value"])
    taken = await stranger.post("/chat/api/messages", {"id": "steal", "choice": mine, "keyboard": "k"})
    # Pressed by the stranger, the other visitor's button is refused as stale: nothing of the draft shows.
    assert taken.json()["replies"] == [{"type": "text", "stale": True, "text": "这个按钮属于之前的问题，已失效，什么也没有改变。请回答最新的问题，或重新发送指令、直接提问。"}]

    # /delete asks, then withdraws the draft; /drafts then has none.
    [ask] = await browser.say("/delete")
    [done] = await browser.press(ask, "|delete:confirm")
    assert done["text"].startswith("已撤回 1 份草稿")
    assert "还没有申报草稿" in (await browser.say("/drafts"))[0]["text"]
    await stranger.http.aclose()
