"""The knowledge-base pages over ASGI: FAQ list/add/edit/delete, the unanswered log, the test box, documents.

Each test runs on its own copy of a built index (tests/console/conftest.py), so a change made through a page
can be checked where it matters: in what the bot of the same runtime answers next.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from bot.events import TextIn
from bot.replies import TextOut
from bot.runtime import Runtime
from bot.users import UserRef
from console.audit import AuditEntry
from knowledge.admin import MAX_UPLOAD_BYTES
from tests.console.conftest import csrf_of
from tests.shipped import shipped_faq_count

SHIPPED_FAQ = shipped_faq_count()

LUNCH_ZH = "论坛现场提供午餐吗"
LUNCH_FORM = {
    "section": "八",
    "questions_zh": f"{LUNCH_ZH}\n论坛管饭吗\n\n",
    "questions_en": "Is lunch provided at the forum?",
    "answer_zh": "论坛当天为入围者提供午餐。",
    "answer_en": "Finalists are given lunch on forum day.",
}
ENTRANT = UserRef(channel="test", external_id="entrant")


async def bot_says(runtime: Runtime, text: str) -> str:
    """What the bot of this runtime replies to an entrant's message."""
    engine = await runtime.engine()
    [reply] = await engine.handle(ENTRANT, TextIn(text))
    assert isinstance(reply, TextOut)
    return reply.text


async def audit_log(runtime: Runtime) -> list[AuditEntry]:
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_the_faq_list_counts_and_searches(client: httpx.AsyncClient, login):
    await login("maintainer")
    assert (await client.get("/knowledge")).headers["location"] == "/knowledge/faq"
    page = await client.get("/knowledge/faq")
    assert page.status_code == 200 and f"共 {SHIPPED_FAQ} 条" in page.text
    assert 'href="/knowledge/faq/deadline"' in page.text and 'aria-current="page">知识库' in page.text
    found = await client.get("/knowledge/faq", params={"q": "报名费"})
    assert f"显示 1 条（共 {SHIPPED_FAQ} 条）" in found.text and 'href="/knowledge/faq/fee"' in found.text
    assert 'href="/knowledge/faq/deadline"' not in found.text
    none = await client.get("/knowledge/faq", params={"q": "停车场"})
    assert "没有符合条件的常见问题" in none.text


async def test_an_faq_added_edited_and_deleted_in_the_console_is_what_the_bot_answers(
    client: httpx.AsyncClient, login, console_runtime: Runtime
):
    token = await login("maintainer", "wang.fang")
    assert "kcxf@thepaper.cn" in await bot_says(console_runtime, LUNCH_ZH)  # declined before

    form = await client.get("/knowledge/faq/new")
    assert form.status_code == 200 and 'name="questions_zh"' in form.text and "八·征集奖励" in form.text
    created = await client.post("/knowledge/faq/new", data={**LUNCH_FORM, "csrf_token": token})
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/knowledge/faq?saved=is_lunch_provided_at_the_forum"
    listed = await client.get(created.headers["location"])
    assert "已保存常见问题 is_lunch_provided_at_the_forum" in listed.text and f"共 {SHIPPED_FAQ + 1} 条" in listed.text
    assert "为入围者提供午餐" in await bot_says(console_runtime, "论坛管饭吗")
    assert "given lunch" in await bot_says(console_runtime, "Is lunch provided at the forum?")

    edit = await client.get("/knowledge/faq/is_lunch_provided_at_the_forum")
    assert edit.status_code == 200 and "论坛管饭吗" in edit.text
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', edit.text)
    assert digest
    saved = await client.post("/knowledge/faq/is_lunch_provided_at_the_forum", data={
        **LUNCH_FORM, "answer_zh": "论坛当天不提供午餐，请自行安排。", "digest": digest.group(1), "csrf_token": token})
    assert saved.status_code == 303
    reply = await bot_says(console_runtime, LUNCH_ZH)
    assert "自行安排" in reply and "为入围者提供" not in reply

    stale = await client.post("/knowledge/faq/is_lunch_provided_at_the_forum", data={
        **LUNCH_FORM, "answer_zh": "旧版本上的修改", "digest": digest.group(1), "csrf_token": token})
    assert stale.status_code == 409 and "被别人修改过" in stale.text and "旧版本上的修改" in stale.text
    assert "自行安排" in await bot_says(console_runtime, LUNCH_ZH)

    deleted = await client.post("/knowledge/faq/is_lunch_provided_at_the_forum/delete", data={"csrf_token": token})
    assert deleted.status_code == 303 and deleted.headers["location"].endswith("deleted=is_lunch_provided_at_the_forum")
    assert "午餐" not in await bot_says(console_runtime, LUNCH_ZH)
    assert (await client.get("/knowledge/faq/is_lunch_provided_at_the_forum")).status_code == 404

    entries = [(e.actor, e.action, e.target) for e in await audit_log(console_runtime)
               if e.action.startswith("faq.")]
    assert entries == [("wang.fang", "faq.add", "is_lunch_provided_at_the_forum"),
                       ("wang.fang", "faq.edit", "is_lunch_provided_at_the_forum"),
                       ("wang.fang", "faq.delete", "is_lunch_provided_at_the_forum")]
    edit_entry = [e for e in await audit_log(console_runtime) if e.action == "faq.edit"][0]
    assert edit_entry.before and edit_entry.after
    assert edit_entry.before["answer"]["zh"] == "论坛当天为入围者提供午餐。"
    assert edit_entry.after["answer"]["zh"] == "论坛当天不提供午餐，请自行安排。"


@pytest.mark.parametrize(("lang", "expect"), [
    ("zh", ["请选择答案依据的《申报指南》章节", "您填写了英文答案，请同时至少填写一个英文问法"]),
    ("en", ["Choose the guideline section", "You gave an answer in English"]),
])
async def test_a_refused_form_says_why_in_the_readers_language_and_keeps_what_was_typed(
    client: httpx.AsyncClient, login, console_runtime: Runtime, lang: str, expect: list[str]
):
    token = await login("maintainer", lang=lang)
    refused = await client.post("/knowledge/faq/new", data={
        "questions_zh": "论坛管饭吗", "answer_zh": "管。", "answer_en": "Yes.", "section": "", "csrf_token": token})
    assert refused.status_code == 400
    for text in expect:
        assert text in refused.text
    assert ">论坛管饭吗</textarea>" in refused.text and 'class="has-error"' in refused.text
    taken = await client.post("/knowledge/faq/new", data={**LUNCH_FORM, "id": "deadline", "csrf_token": token})
    assert taken.status_code == 400 and "deadline" in taken.text
    assert "管饭" not in await bot_says(console_runtime, "论坛管饭吗")


def group_card(page: str, text: str) -> str:
    """The HTML of the inbox card whose question is `text`."""
    cards = [c for c in page.split('<li class="card kb-group')[1:] if f'class="kb-group-q">{text}' in c]
    assert len(cards) == 1, f"{len(cards)} cards for {text!r}"
    return cards[0].split("</ol>")[0]


async def test_the_inbox_groups_questions_and_answering_a_group_resolves_all_of_it(
    client: httpx.AsyncClient, login, console_runtime: Runtime
):
    token = await login("maintainer", "li.na")
    for question in (LUNCH_ZH, LUNCH_ZH, "论坛现场提供午餐吗？", "论坛当天提供午餐吗", "评委名单会公布吗",
                     "评委名单会公布吗", "Will lunch be provided at the forum?"):
        assert not (await console_runtime.ask_and_log(question, channel="telegram")).answered
    assert "/apply" in await bot_says(console_runtime, "谢谢")  # a statement: not in the inbox

    inbox = await client.get("/knowledge/unanswered")
    assert "3 个问题 · 7 条消息" in inbox.text and "第一次打开" in inbox.text
    lunch = group_card(inbox.text, LUNCH_ZH)
    assert '<b>4</b>' in lunch and "2 种问法" in lunch and "论坛当天提供午餐吗" in lunch and "新 +4" in lunch
    assert "不是问题的消息（问候、确认、贴来的介绍等）：1 条" in inbox.text
    assert "待处理的未回答问题：3" in (await client.get("/knowledge/faq")).text
    link = re.search(r'href="(/knowledge/faq/new\?group=(\d+))"', lunch)
    assert link
    form = await client.get(link.group(1))
    assert f">{LUNCH_ZH}\n论坛当天提供午餐吗</textarea>" in form.text and "4 条消息" in form.text
    seen = re.search(r'name="seen" value="([\d,]+)"', form.text)
    assert seen and len(seen.group(1).split(",")) == 4

    created = await client.post("/knowledge/faq/new", data={
        **LUNCH_FORM, "questions_en": "", "answer_en": "", "from_group": link.group(2), "seen": seen.group(1),
        "csrf_token": token})
    assert created.status_code == 303, created.text
    assert created.headers["location"].startswith("/knowledge/unanswered?answered=")
    after = await client.get(created.headers["location"])
    assert "解决 4 条消息" in after.text and "2 个问题 · 3 条消息" in after.text
    for question in (LUNCH_ZH, "论坛当天提供午餐吗"):
        assert "为入围者提供午餐" in await bot_says(console_runtime, question)
    faq_id = created.headers["location"].split("answered=")[1].split("&")[0]

    # The English group is answered with the entry just made, chosen from the suggestions ranked by similarity;
    # the entry takes an English answer first (an entry answers only in the languages it has).
    entry = await client.get(f"/knowledge/faq/{faq_id}")
    digest = re.search(r'name="digest" value="(\w+)"', entry.text)
    assert digest
    await client.post(f"/knowledge/faq/{faq_id}", data={
        **LUNCH_FORM, "questions_en": "Is lunch served at the forum?", "digest": digest.group(1),
        "csrf_token": token})
    english = group_card((await client.get("/knowledge/unanswered")).text, "Will lunch be provided at the forum?")
    first = re.search(r'<option value="(\w+)"', english)
    assert first and first.group(1) == faq_id
    anchor = re.search(r'action="/knowledge/unanswered/(\d+)/answer"', english)
    assert anchor
    answered = await client.post(f"/knowledge/unanswered/{anchor.group(1)}/answer",
                                 data={"faq_id": faq_id, "seen": anchor.group(1), "csrf_token": token})
    assert "并把 1 种新问法加进了这条常见问题" in (await client.get(answered.headers["location"])).text
    assert "Finalists are given lunch" in await bot_says(console_runtime, "Will lunch be provided at the forum?")

    # What came in since this maintainer last looked is marked; a colleague sees it all as new.
    assert not (await console_runtime.ask_and_log("评委名单会公布吗？", channel="telegram")).answered
    again = await client.get("/knowledge/unanswered")
    assert "以来新增 1 条消息" in again.text and "新 +1" in group_card(again.text, "评委名单会公布吗")
    assert "以来没有新消息" in (await client.get("/knowledge/unanswered")).text

    judges = re.search(r'action="/knowledge/unanswered/(\d+)/ignore"', group_card(again.text, "评委名单会公布吗"))
    assert judges
    ignored = await client.post(f"/knowledge/unanswered/{judges.group(1)}/ignore", data={"csrf_token": token})
    assert "已忽略 3 条消息" in (await client.get(ignored.headers["location"])).text
    empty = await client.get("/knowledge/unanswered")
    assert "没有待处理的问题" in empty.text and "0 个问题 · 0 条消息" in empty.text
    everything = await client.get("/knowledge/unanswered", params={"all": "1"})
    assert f'href="/knowledge/faq/{faq_id}"' in group_card(everything.text, LUNCH_ZH)
    assert "已忽略" in group_card(everything.text, "评委名单会公布吗")

    statement = re.search(r'id="statement-(\d+)"', empty.text)
    assert statement
    await client.post(f"/knowledge/unanswered/{statement.group(1)}/ignore", data={"csrf_token": token})
    assert "：0 条" in (await client.get("/knowledge/unanswered")).text

    assert (await client.post("/knowledge/unanswered/999999/ignore", data={"csrf_token": token})).status_code == 404
    unknown_faq = await client.post(f"/knowledge/unanswered/{judges.group(1)}/answer",
                                    data={"faq_id": "no_such_entry", "csrf_token": token})
    assert unknown_faq.status_code == 404
    actions = [e.action for e in await audit_log(console_runtime)]
    assert {"faq.add", "unanswered.answer", "unanswered.ignore"} <= set(actions)


async def test_the_test_box_shows_route_citation_passages_and_faq_candidates(
    client: httpx.AsyncClient, login, console_runtime: Runtime
):
    await login("maintainer")
    faq = await client.get("/knowledge/test", params={"q": "报名截止时间是什么时候？"})
    assert faq.status_code == 200
    assert "2024 年 10 月 20 日" in faq.text and "route-faq" in faq.text and "（见《申报指南》五·申报方式）" in faq.text
    candidates = faq.text.split('id="faq-candidates"')[1].split("</table>")[0]
    assert 'href="/knowledge/faq/deadline"' in candidates and "已采用" in candidates
    passages = faq.text.split('id="passages"')[1].split("</table>")[0]
    assert "guideline-2024" in passages and passages.count("<tr>") >= 3 and "第 1 名" in passages

    english = await client.get("/knowledge/test", params={"q": "We are a chip startup, which award can we enter?",
                                                          "lang": "en"})
    assert "route-eligibility" in english.text and "资格匹配" in english.text
    declined = await client.get("/knowledge/test", params={"q": LUNCH_ZH})
    assert "route-declined" in declined.text and "为这个问题新增常见问题" in declined.text
    # A maintainer's test is not an entrant's question: nothing is logged.
    assert LUNCH_ZH not in (await client.get("/knowledge/unanswered")).text
    empty = await client.get("/knowledge/test")
    assert empty.status_code == 200 and 'id="answer"' not in empty.text


async def test_a_document_uploaded_in_the_console_is_answered_from_and_removed(
    client: httpx.AsyncClient, login, console_runtime: Runtime
):
    token = await login("maintainer", "li.na")
    notice = "# 论坛交通通知\n\n## 接驳班车\n\n论坛当天组委会在人民广场地铁站安排接驳班车，每 20 分钟一班。\n"
    page = await client.get("/knowledge/documents")
    assert "guideline-2024" in page.text and "随机器人发布" in page.text and 'enctype="multipart/form-data"' in page.text
    uploaded = await client.post("/knowledge/documents", data={"csrf_token": token},
                                 files={"file": ("Shuttle Notice.md", notice.encode(), "text/markdown")})
    assert uploaded.status_code == 303, uploaded.text
    listed = await client.get(uploaded.headers["location"])
    assert "已索引文档 shuttle-notice（1 段）" in listed.text and "action=\"/knowledge/documents/shuttle-notice/delete\"" in listed.text
    assert "人民广场" in await bot_says(console_runtime, "论坛那天有接驳班车吗")
    again = await client.post("/knowledge/documents", data={"csrf_token": token},
                              files={"file": ("Shuttle Notice.md", notice.encode(), "text/markdown")})
    assert "未做改动" in (await client.get(again.headers["location"])).text

    bad = await client.post("/knowledge/documents", data={"csrf_token": token},
                            files={"file": ("setup.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert bad.status_code == 400 and "只能上传 Markdown" in bad.text
    shipped = await client.post("/knowledge/documents/guideline-2024/delete", data={"csrf_token": token})
    assert shipped.status_code == 400 and "随机器人一起发布" in shipped.text

    removed = await client.post("/knowledge/documents/shuttle-notice/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert "人民广场" not in await bot_says(console_runtime, "论坛那天有接驳班车吗")
    entries = [(e.action, e.target) for e in await audit_log(console_runtime) if e.action.startswith("doc.")]
    assert entries == [("doc.upload", "shuttle-notice"), ("doc.upload", "shuttle-notice"),
                       ("doc.remove", "shuttle-notice")]


async def test_an_oversized_upload_is_refused_before_it_is_read(client: httpx.AsyncClient, login):
    token = await login("maintainer")
    huge = b"a" * (MAX_UPLOAD_BYTES + 512 * 1024)
    declared = await client.post("/knowledge/documents", data={"csrf_token": token},
                                 files={"file": ("big.txt", huge, "text/plain")})
    assert declared.status_code == 413
    assert "文件太大：最多 10 MB" in declared.text and "at most 10 MB" in declared.text

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield (b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
               b"Content-Type: text/plain\r\n\r\n")
        for _ in range(12):
            yield b"b" * (1024 * 1024)

    streamed = await client.post("/knowledge/documents", content=chunks(),
                                 headers={"content-type": "multipart/form-data; boundary=x", "x-csrf-token": token})
    assert streamed.status_code == 413
    assert "big" not in (await client.get("/knowledge/documents")).text


async def test_what_maintainers_type_is_shown_escaped(client: httpx.AsyncClient, login):
    token = await login("maintainer")
    hostile = '<script>alert("x")</script>'
    created = await client.post("/knowledge/faq/new", data={
        "section": "十一", "questions_zh": f"{hostile}能报名吗", "answer_zh": f"{hostile}可以。", "csrf_token": token})
    assert created.status_code == 303
    page = await client.get("/knowledge/faq", params={"q": "alert"})
    assert hostile not in page.text and "&lt;script&gt;" in page.text


PAGES = ["/knowledge/faq", "/knowledge/unanswered", "/knowledge/test?q=x", "/knowledge/documents",
         "/knowledge/faq/new", "/knowledge/faq/deadline"]


async def test_reviewers_are_kept_out_of_every_knowledge_page(client: httpx.AsyncClient, login):
    await login("reviewer")
    for path in PAGES:
        refused = await client.get(path)
        assert refused.status_code == 403 and "无权" in refused.text, path
        assert 'href="/knowledge"' not in refused.text  # no nav entry for them either


@pytest.mark.parametrize("role", ["maintainer", "admin"])
async def test_maintainers_and_admins_open_every_knowledge_page(client: httpx.AsyncClient, login, role: str):
    await login(role)
    for path in PAGES:
        opened = await client.get(path)
        assert opened.status_code == 200, path
        assert 'href="/knowledge" class="active"' in opened.text


async def test_a_post_with_a_stale_token_changes_nothing(client: httpx.AsyncClient, login, console_runtime: Runtime):
    token = await login("maintainer")
    refused = await client.post("/knowledge/faq/deadline/delete", data={"csrf_token": token[::-1]})
    assert refused.status_code == 403
    assert (await client.get("/knowledge/faq/deadline")).status_code == 200
    assert csrf_of((await client.get("/knowledge/faq")).text) == token
