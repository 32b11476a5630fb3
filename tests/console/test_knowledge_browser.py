"""The knowledge pages in real headless Chromium: an entrant's unanswered question becomes an FAQ entry in a few
clicks, and the bot — asked through the test box and through the runtime's engine as an entrant — answers with it.

Screenshots of the FAQ list (faq.png), the FAQ form and the test box go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

from bot.events import TextIn
from bot.replies import TextOut
from bot.users import UserRef
from tests.console.conftest import LiveConsole, browser_login, screenshot

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


def test_a_maintainer_turns_an_unanswered_question_into_an_faq_and_the_bot_answers_with_it(
    live_console: LiveConsole, browser_page
):
    page, live = browser_page, live_console
    declined = entrant_asks(live, LUNCH_ZH)
    assert "kcxf@thepaper.cn" in declined and "午餐" not in declined.split("kcxf")[0]
    live.add_staff("zhao.lei", "maintainer")
    browser_login(page, live, "zhao.lei")

    page.click("nav >> text=知识库")
    page.wait_for_url(live.url + "/knowledge/faq")
    assert "共 40 条" in page.inner_text("main")
    page.click(".kb-tabs >> text=未回答的问题")
    row = page.locator("table.kb-unanswered tr", has_text=LUNCH_ZH)
    assert row.count() == 1 and "telegram" in row.inner_text()
    screenshot(page, "faq-unanswered")
    row.locator("text=设为常见问题").click()

    page.wait_for_url(f"{live.url}/knowledge/faq/new?from=*")
    assert page.input_value("textarea[name=questions_zh]") == LUNCH_ZH
    page.select_option("select[name=section]", "八")
    page.fill("textarea[name=questions_zh]", f"{LUNCH_ZH}\n论坛管饭吗\n论坛当天有午饭吗")
    page.fill("textarea[name=answer_zh]", "论坛当天为入围者提供工作午餐，无需另行报名。")
    page.fill("textarea[name=questions_en]", "Is lunch provided at the forum?\nDo we get lunch on forum day?")
    page.fill("textarea[name=answer_en]", "Finalists are given a working lunch on forum day; no sign-up is needed.")
    page.fill("input[name=id]", "forum_lunch")
    screenshot(page, "faq-form")
    page.click("form.kb-form button[type=submit]")

    page.wait_for_url(live.url + "/knowledge/faq?saved=forum_lunch")
    assert "已保存常见问题 forum_lunch" in page.inner_text(".flash.ok")
    assert "共 41 条" in page.inner_text("main")
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

    # The same runtime's bot, as the entrant who asked, now answers in both languages.
    assert "工作午餐" in entrant_asks(live, LUNCH_ZH)
    assert "working lunch" in entrant_asks(live, "Do we get lunch on forum day?")
    page.click(".kb-tabs >> text=未回答的问题")
    assert LUNCH_ZH not in page.inner_text("main")

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
    assert "共 40 条" in page.inner_text("main")
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
