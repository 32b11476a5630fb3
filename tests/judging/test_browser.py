"""A whole round in headless Chromium, as the committee and two judges do it: open and assign, one judge declares a
conflict and scores in the browser (the draft saved as they type), the other fills the Excel sheet and uploads it,
the committee closes, ranks and proposes its decisions, the jury chair signs them off, a judge reads the results,
and the committee exports the finalists. Screenshots go to tests/artifacts/screenshots/."""

from __future__ import annotations

import csv
import io

import openpyxl
from sqlalchemy import select

from console.staff import get_staff, set_jury_chair
from intake import queue
from judging import rounds
from judging.models import Assignment
from judging.sheets import FIRST_ROW, KEY_ROW, SCORES
from tests.console.conftest import SCREENSHOTS, LiveConsole, browser_login, screenshot
from tests.console.factories import seed
from tests.judging.conftest import OPENED
from tests.judging.test_blind import COMPANY, EMAIL, MOBILE, PEOPLE, identified_entry


async def _make_chair(live: LiveConsole, name: str) -> None:
    sessions = await live.runtime.sessionmaker()
    async with sessions() as session, session.begin():
        await set_jury_chair(session, name, chair=True)


async def _statuses(live: LiveConsole) -> dict[str, str]:
    sessions = await live.runtime.sessionmaker()
    async with sessions() as session:
        return {r.reference: r.status for r in await queue.list_submissions(session)}


def test_a_whole_round_in_the_browser(live_console: LiveConsole, browser_page, chromium, tmp_path):
    live, chair = live_console, browser_page
    entries = live.call(seed(live.runtime, 3, awards=("pioneer_product",), overseas_every=0))
    live.add_staff("chair", "reviewer")
    live.add_staff("expert.a", "judge")
    live.add_staff("expert.b", "judge")
    live.add_staff("jury.chair", "judge")
    live.call(_make_chair(live, "jury.chair"))
    card = live.runtime.scorecards.for_award("pioneer_product")
    risks = live.runtime.scorecards.risks
    chair.on("dialog", lambda dialog: dialog.accept())

    # The committee opens a first round: every judge on every entry.
    browser_login(chair, live, "chair")
    chair.click("nav >> text=评审轮次")
    chair.select_option("select[name=award]", "pioneer_product")
    chair.select_option("select[name=stage]", "first")
    chair.check("input[name=judges][value='expert.a']")
    chair.check("input[name=judges][value='expert.b']")
    chair.click("text=开启并分配")
    chair.wait_for_url("**/judging/rounds/1?opened=1")
    assert chair.locator("table.judges tbody tr").count() == 2

    # Judge A: a conflict on the first entry, scores the others on the page.
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    judge = context.new_page()
    judge.on("dialog", lambda dialog: dialog.accept())
    browser_login(judge, live, "expert.a")
    assert judge.locator("h1").inner_text() == "我的评审"
    first = judge.locator("table.mine tbody tr").nth(0)
    first.locator("input[name=note]").fill("曾为该企业提供咨询")
    first.locator("button[value=yes]").click()
    judge.wait_for_url("**/judge")
    assert "已声明利益冲突" in judge.locator("table.mine tbody tr").nth(0).inner_text()
    for n in (1, 2):
        judge.locator("table.mine tbody tr").nth(n).locator("button[value=no]").click()
        judge.wait_for_url("**/judge/assignments/*")
        for d in card.dimensions:
            judge.fill(f"input[name='score:{d.id}']", str(9 - n))
        judge.fill(f"textarea[name='comment:{card.dimensions[0].id}']", "思路新颖")
        judge.wait_for_selector("#autosave-status:has-text('草稿已保存')")  # saved as they typed
        for r in risks:
            judge.check(f"input[name='risk:{r.id}'][value=none]")
        judge.select_option("select[name=recommendation]", "yes")
        if n == 1:
            screenshot(judge, "judging-score")
        judge.click("button[value=submit]")
        judge.wait_for_url("**?submitted=1")
        judge.goto(live.url + "/judge")

    # Judge B scores in Excel: download the sheet, fill it, upload it.
    other = context.new_page()
    other.context.clear_cookies()
    browser_login(other, live, "expert.b")
    with other.expect_download() as download:
        other.click("text=下载 Excel 评分表")
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = book[SCORES]
    keys = {c.value: c.column for c in sheet[KEY_ROW] if c.value}
    for row in range(FIRST_ROW, FIRST_ROW + 3):
        values = {"conflict": "none", "recommendation": "neutral", **{f"risk:{r.id}": "none" for r in risks},
                  **{f"score:{d.id}": 4 + row - FIRST_ROW for d in card.dimensions}}
        for key, value in values.items():
            sheet.cell(row, keys[key], value)
    sheet.cell(FIRST_ROW, keys[f"risk:{risks[1].id}"], "concern")
    sheet.cell(FIRST_ROW, keys[f"risk_note:{risks[1].id}"], "核心专利为独占许可")
    filled = tmp_path / "expert.b.xlsx"
    book.save(filled)
    other.set_input_files("input[name=sheet]", str(filled))
    other.click("form.upload button")
    other.wait_for_url("**/judge?flash=*")
    assert "提交 3 份" in other.inner_text(".flash")
    context.close()

    # The committee: progress, close, rank, decide, export.
    chair.goto(live.url + "/judging/rounds/1")
    assert "曾为该企业提供咨询" in chair.inner_text("table.entries")
    screenshot(chair, "judging-round")
    chair.click("text=关闭本轮评分")
    chair.wait_for_url("**/results")
    chair.goto(live.url + "/judging/rounds/1/compare")
    screenshot(chair, "judging-compare")
    chair.goto(live.url + "/judging/rounds/1/results?by=normalised")
    rows = chair.locator("table.results tbody tr")
    assert rows.count() == 3
    top = rows.nth(0).locator("a").first.inner_text()
    rows.nth(0).locator("input[name=chosen]").check()
    rows.nth(0).locator("input[type=text]").fill("创新性与应用性突出")
    screenshot(chair, "judging-results")
    chair.click("button.decide")
    chair.wait_for_url("**/results?decided=1")
    # 初审: the committee's decisions wait for the jury chair; nothing has moved yet.
    assert "正等待评审团主席签核" in chair.inner_text(".awaiting")
    assert live.call(_statuses(live))[top] == "first_review"
    screenshot(chair, "judging-proposed")
    refused = chair.goto(live.url + "/judging/rounds/1/sign-off")
    assert refused.status == 403 and "只有评审团主席" in chair.inner_text("main")

    # The jury chair (an invited expert) signs off from their own list.
    judges = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    jury = judges.new_page()
    jury.on("dialog", lambda dialog: dialog.accept())
    browser_login(jury, live, "jury.chair")
    assert "等待您签核的初审决定" in jury.inner_text("section.awaiting")
    jury.click("section.awaiting >> text=查看并签核")
    jury.wait_for_url("**/judging/rounds/1/sign-off")
    assert "创新性与应用性突出" in jury.inner_text("table.sign-off") and "chair" in jury.inner_text("main")
    screenshot(jury, "judging-sign-off")
    jury.click("text=签核并生效")
    jury.wait_for_url("**/sign-off?done=signed")
    assert "评审团主席 jury.chair" in jury.inner_text("main")
    # A judge of the round sees its results now that it is closed: the ranking, their own scores marked.
    judges.clear_cookies()  # the chair is done; the same browser, another person
    expert = judges.new_page()
    browser_login(expert, live, "expert.a")
    expert.click("section.closed-rounds >> text=查看结果")
    expert.wait_for_url("**/judge/rounds/1/results")
    assert expert.locator("table.verdict tbody tr").count() == 3
    assert expert.locator("tr.mine-row").count() == 2 and "expert.b" not in expert.inner_text("main")
    screenshot(expert, "judging-judge-results")
    judges.close()

    chair.goto(live.url + "/judging/rounds/1/results")
    assert "评审团主席 jury.chair" in chair.inner_text("main")
    with chair.expect_download() as csv_file:
        chair.click("text=导出入围名单 CSV")
    listed = list(csv.DictReader(io.StringIO(csv_file.value.path().read_bytes().decode("utf-8-sig"))))
    assert [(r["reference"], r["reason"], r["status_label"]) for r in listed] == [(top, "创新性与应用性突出", "初审通过")]
    with chair.expect_download() as xlsx_file:
        chair.click("text=导出入围名单 Excel")
    assert list(openpyxl.load_workbook(io.BytesIO(xlsx_file.value.path().read_bytes()))["finalists"].values)[1][1] == top

    async def outcome() -> tuple[dict[str, str], int]:
        sessions = await live.runtime.sessionmaker()
        async with sessions() as session:
            statuses = {r.reference: r.status for r in await queue.list_submissions(session)}
            cards = len((await session.scalars(select(Assignment).where(Assignment.state == "submitted"))).all())
            return statuses, cards

    statuses, cards = live.call(outcome())
    assert cards == 5 and statuses.pop(top) == "passed_first" and set(statuses.values()) == {"rejected"}
    assert {e.reference for e in entries} >= {top}


def test_a_blind_round_in_the_browser(live_console: LiveConsole, browser_page):
    """A judge of a blind round reads the entry, its risk answers and its files without learning who entered."""
    live, judge = live_console, browser_page
    reference = live.call(identified_entry(live.runtime))
    live.add_staff("expert.c", "judge")

    async def open_blind() -> None:
        sessions = await live.runtime.sessionmaker()
        async with sessions() as session, session.begin():
            await rounds.open_round(session, scorecards=live.runtime.scorecards, texts=live.runtime.texts,
                                    award_id="pioneer_product", stage_id="first",
                                    judges=[await get_staff(session, "expert.c")], blind=True, actor="chair",
                                    now=OPENED)

    live.call(open_blind())
    judge.on("dialog", lambda dialog: dialog.accept())
    browser_login(judge, live, "expert.c")
    judge.locator("table.mine tbody tr").nth(0).locator("button[value=no]").click()
    judge.wait_for_url("**/judge/assignments/*")
    shown = judge.inner_text("body")
    assert reference in shown and "光子芯片" in shown and "（盲评隐藏）" in shown and "附件 1" in shown
    assert not [s for s in (COMPANY, *PEOPLE, MOBILE, EMAIL, "139 1234 5678") if s in shown]
    assert COMPANY not in judge.title()
    screenshot(judge, "judging-score-blind")
    with judge.expect_download() as download:
        judge.click("text=下载申报表（已隐去参选者身份）")
    assert download.value.suggested_filename == f"{reference}.docx"
    # Kept beside the screenshots, to be rendered and looked at (LibreOffice → PDF → PNG).
    download.value.save_as(SCREENSHOTS.parent / "judging-blind-form.docx")
