"""The knowledge pages in real headless Chromium: a group of entrants' unanswered questions becomes an FAQ entry in
a few clicks, and the bot — asked through the test box and through the runtime's engine as an entrant — answers
every wording of it.

Screenshots of the inbox (faq-unanswered.png), the FAQ list (faq.png), the FAQ form and the test box go to
tests/artifacts/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

from bot.events import TextIn
from bot.replies import TextOut
from bot.users import UserRef
from db.base import utcnow
from knowledge.unanswered import DISLIKED, STATEMENT, log_unanswered
from tests.console.conftest import LiveConsole, browser_login, screenshot
from tests.knowledge.inbox_corpus import STATEMENTS, TOPICS, messages
from tests.shipped import shipped_faq_count

SHIPPED_FAQ = shipped_faq_count()

LUNCH_ZH = "论坛现场提供午餐吗"
ENTRANT = UserRef(channel="telegram", external_id="90001", display_name="报名者")


def entrant_asks(live: LiveConsole, text: str) -> str:
    """Send a message to the bot of the console's own runtime, as an entrant in Telegram would."""

    async def ask() -> str:
        engine = await live.runtime.engine()
        [reply] = await engine.handle(ENTRANT, TextIn(text))
        assert isinstance(reply, TextOut)
        return reply.text

    return live.call(ask())


def a_week_of_messages(live: LiveConsole) -> None:
    """The inbox corpus (tests/knowledge/inbox_corpus.py), spread over the last five days as a campaign gets it."""

    async def log() -> None:
        sessions = await live.runtime.sessionmaker()
        statements = {text for text, _ in STATEMENTS}
        sent = list(messages())
        now = utcnow()
        async with sessions() as session, session.begin():
            for n, (text, channel) in enumerate(sent):
                lang = "en" if text.isascii() else "zh"
                row = await log_unanswered(session, edition=2024, question=text, lang=lang, channel=channel,
                                           kind=STATEMENT if text in statements else "declined")
                row.created_at = now - timedelta(days=5) * (1 - n / len(sent)) - timedelta(minutes=3)
            # Answers the askers marked as unhelpful (👎) sit beside the declines, marked.
            for hours in (30, 20, 4):
                row = await log_unanswered(session, edition=2024, question="报名截止时间可以延期吗", lang="zh", channel="telegram",
                                           kind=DISLIKED)
                row.created_at = now - timedelta(hours=hours)

    live.call(log())


def test_a_maintainer_answers_a_group_of_unanswered_questions_and_the_bot_answers_its_members(
    live_console: LiveConsole, browser_page
):
    page, live = browser_page, live_console
    a_week_of_messages(live)
    live.add_staff("zhao.lei", "maintainer")
    browser_login(page, live, "zhao.lei")
    # The maintainer looked yesterday-ish; what came after is new to them. Then one more entrant asks.
    page.goto(live.url + "/knowledge/unanswered")
    declined = entrant_asks(live, "论坛当天提供午餐吗")
    assert "kcxf@thepaper.cn" in declined and "午餐" not in declined.split("kcxf")[0]

    page.click("nav >> text=知识库")
    page.wait_for_url(live.url + "/knowledge/faq")
    assert f"共 {SHIPPED_FAQ} 条" in page.inner_text("main") and "待处理的未回答问题：10" in page.inner_text("main")
    page.click(".kb-tabs >> text=未回答的问题")
    lunch_count = TOPICS[0].count + 1
    questions = sum(t.count for t in TOPICS) + 1 + 3
    assert f"10 个问题 · {questions} 条消息" in page.inner_text("#inbox-summary")
    assert "以来新增 1 条消息" in page.inner_text("#since")
    first = page.locator("li.kb-group").first
    assert LUNCH_ZH in first.locator(".kb-group-q").inner_text()
    assert first.locator(".kb-count b").inner_text() == str(lunch_count) and "新 +1" in first.inner_text()
    assert page.locator("details.kb-statements").get_attribute("open") is None  # the bin starts collapsed
    screenshot(page, "faq-unanswered")
    first.locator("details.kb-members summary").click()
    assert first.locator("details.kb-members tbody tr").count() == lunch_count
    page.locator("details.kb-statements summary").click()
    assert page.locator("details.kb-statements tbody tr").count() == len(STATEMENTS)
    screenshot(page, "faq-unanswered-open")
    first.locator("text=写新答案").click()

    page.wait_for_url(f"{live.url}/knowledge/faq/new?group=*")
    assert page.input_value("textarea[name=questions_zh]").splitlines() == [
        LUNCH_ZH, "论坛当天提供午餐吗", "请问论坛现场有午餐吗"]
    assert f"{lunch_count} 条消息" in page.inner_text(".flash.info")
    page.select_option("select[name=section]", "八")
    page.fill("textarea[name=questions_zh]", page.input_value("textarea[name=questions_zh]") + "\n论坛管饭吗")
    page.fill("textarea[name=answer_zh]", "论坛当天为入围者提供工作午餐，无需另行报名。")
    page.fill("textarea[name=questions_en]", "Do we get lunch on forum day?")
    page.fill("textarea[name=answer_en]", "Finalists are given a working lunch on forum day; no sign-up is needed.")
    page.fill("input[name=id]", "forum_lunch")
    screenshot(page, "faq-form")
    page.click("form.kb-form button[type=submit]")

    # Back in the inbox: the whole group is resolved, and the English group suggests the new entry first.
    page.wait_for_url(f"{live.url}/knowledge/unanswered?answered=forum_lunch*")
    assert f"已用常见问题 forum_lunch 解决 {lunch_count} 条消息" in page.inner_text(".flash.ok")
    assert "不满意 ×3" in page.locator("li.kb-group", has_text="报名截止时间可以延期吗").inner_text()
    assert f"9 个问题 · {questions - lunch_count} 条消息" in page.inner_text("#inbox-summary")
    english = page.locator("li.kb-group", has_text="Is lunch provided at the forum?")
    assert english.locator("select[name=faq_id] option").first.get_attribute("value") == "forum_lunch"
    english.locator("form.kb-answer-with button").click()
    page.wait_for_url(f"{live.url}/knowledge/unanswered?answered=forum_lunch*")
    assert "新问法" in page.inner_text(".flash.ok")
    # The bot now answers every member of both groups, in their languages.
    for wording, _ in TOPICS[0].wordings:
        assert "工作午餐" in entrant_asks(live, wording), wording
    for wording, _ in TOPICS[4].wordings:
        assert "working lunch" in entrant_asks(live, wording), wording

    page.click(".kb-tabs >> text=常见问题")
    assert f"共 {SHIPPED_FAQ + 1} 条" in page.inner_text("main")
    assert page.locator("table.kb-faq a", has_text="forum_lunch").count() == 1
    shot = screenshot(page, "faq")
    assert shot.stat().st_size > 20_000

    # The test box answers from the new entry and shows it was the FAQ candidate used.
    page.click(".kb-tabs >> text=测试提问")
    page.fill("input[name=q]", "论坛管饭吗")
    page.click("form.kb-ask button")
    page.wait_for_selector("#answer")
    assert "工作午餐" in page.inner_text("blockquote.kb-answer-text")
    assert "常见问题" in page.inner_text(".kb-result-head .badge")
    used = page.locator("#faq-candidates tr.used")
    assert used.count() == 1 and "forum_lunch" in used.inner_text()
    screenshot(page, "faq-test")

    assert "working lunch" in entrant_asks(live, "Do we get lunch on forum day?")
    page.click(".kb-tabs >> text=未回答的问题")
    assert LUNCH_ZH not in page.inner_text("ol.kb-groups")

    # Edit, then delete: the bot follows each change at once.
    page.goto(live.url + "/knowledge/faq/forum_lunch")
    page.fill("textarea[name=answer_zh]", "论坛当天不提供午餐，请自行安排。")
    page.click("form.kb-form button[type=submit]")
    page.wait_for_url(live.url + "/knowledge/faq?saved=forum_lunch")
    assert "自行安排" in entrant_asks(live, LUNCH_ZH)
    page.goto(live.url + "/knowledge/faq/forum_lunch")
    page.click("details.kb-danger summary")
    page.click("details.kb-danger button[type=submit]")
    page.wait_for_url(live.url + "/knowledge/faq?deleted=forum_lunch")
    assert f"共 {SHIPPED_FAQ} 条" in page.inner_text("main")
    assert "午餐" not in entrant_asks(live, LUNCH_ZH).split("kcxf")[0]

    # Documents: a notice uploaded through the form is answered from.
    notice = live.runtime.settings.data_dir / "论坛交通通知.md"
    notice.write_text("# 论坛交通通知\n\n## 接驳班车\n\n论坛当天组委会在人民广场地铁站安排接驳班车，每 20 分钟一班。\n",
                      encoding="utf-8")
    page.click(".kb-tabs >> text=文档")
    page.set_input_files("input[type=file]", str(notice))
    page.click("form.kb-upload button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "已索引文档" in page.inner_text(".flash.ok") and "论坛交通通知" in page.inner_text("table.kb-docs")
    screenshot(page, "faq-documents")
    assert "人民广场" in entrant_asks(live, "论坛那天有接驳班车吗")


def test_a_refused_faq_form_shows_the_reasons_next_to_the_fields(live_console: LiveConsole, browser_page):
    page, live = browser_page, live_console
    live.add_staff("zhao.lei", "maintainer", lang="en")
    browser_login(page, live, "zhao.lei")
    page.goto(live.url + "/knowledge/faq/new")
    # Without a section the browser itself holds the form back (the select is required).
    page.click("form.kb-form button[type=submit]")
    assert page.url == live.url + "/knowledge/faq/new"
    page.select_option("select[name=section]", "五")
    page.fill("textarea[name=questions_zh]", "截止时间是什么时候？")
    page.fill("textarea[name=answer_en]", "Ask the committee.")
    page.click("form.kb-form button[type=submit]")
    problems = page.inner_text(".flash.error")
    assert "already belongs to FAQ entry deadline" in problems
    assert "give the answer in Chinese too" in problems
    assert page.locator("label.has-error").count() >= 2
    assert page.input_value("textarea[name=answer_en]") == "Ask the committee."
    screenshot(page, "faq-form-errors")
