"""A 👎 on an answer, seen by a maintainer in real headless Chromium: the question and the answer given in the inbox
beside the declined ones, the vote counts in its header, and the group answered like any other.

Screenshot: tests/artifacts/screenshots/faq-unanswered-disliked.png.
"""

from __future__ import annotations

from bot.events import ChoiceIn, TextIn
from bot.replies import TextOut
from bot.users import UserRef
from tests.console.conftest import LiveConsole, browser_login, screenshot

QUESTION = "截止时间是什么时候？"


def rate(live: LiveConsole, user: str, question: str, *, button: int) -> str:
    """An entrant in Telegram asks `question` and presses the answer's button number `button` (0: 👍, 1: 👎)."""

    async def ask_and_press() -> str:
        engine = await live.runtime.engine()
        ref = UserRef(channel="telegram", external_id=user)
        [answer] = await engine.handle(ref, TextIn(question))
        assert isinstance(answer, TextOut) and len(answer.choices) == 2
        await engine.handle(ref, ChoiceIn(answer.choices[button].value))
        return answer.text

    return live.call(ask_and_press())


def test_a_maintainer_sees_a_disliked_answer_and_answers_it(live_console: LiveConsole, browser_page):
    page, live = browser_page, live_console
    given = rate(live, "90001", QUESTION, button=1)
    rate(live, "90002", "When is the deadline?", button=0)
    rate(live, "90003", "申报要交钱吗？", button=0)
    live.add_staff("zhao.lei", "maintainer")
    browser_login(page, live, "zhao.lei")

    page.goto(live.url + "/knowledge/unanswered")
    assert "回答评价：有帮助 2 · 没帮助 1" in page.inner_text("#inbox-votes")
    group = page.locator("li.kb-group", has_text=QUESTION)
    assert "不满意 ×1" in group.inner_text()
    shown = group.locator("> .kb-group-body > blockquote.kb-answer-given").inner_text()
    assert shown.startswith("当时的回答：") and given.splitlines()[0] in shown
    group.locator("details.kb-members summary").click()
    assert "不满意" in group.locator("details.kb-members tbody tr").inner_text()
    screenshot(page, "faq-unanswered-disliked")

    # Answered like the declined ones: here with the FAQ entry the retrieval suggests.
    group.locator("form.kb-answer-with button").click()
    page.wait_for_url(f"{live.url}/knowledge/unanswered?answered=*")
    assert "解决 1 条消息" in page.inner_text(".flash.ok")
    assert QUESTION not in page.inner_text("main")
