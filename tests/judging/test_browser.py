"""A whole round in headless Chromium, as the committee and two judges do it: open and assign, one judge declares a
conflict and scores in the browser (the draft saved as they type), the other fills the Excel sheet and uploads it,
the committee closes, ranks, decides and exports the finalists. Screenshots go to tests/artifacts/screenshots/."""

from __future__ import annotations

import csv
import io

import openpyxl
from sqlalchemy import select

from intake import queue
from judging.models import Assignment
from judging.sheets import FIRST_ROW, KEY_ROW, SCORES
from tests.console.conftest import LiveConsole, browser_login, screenshot
from tests.console.factories import seed


def test_a_whole_round_in_the_browser(live_console: LiveConsole, browser_page, chromium, tmp_path):
    live, chair = live_console, browser_page
    entries = live.call(seed(live.runtime, 3, awards=("pioneer_product",), overseas_every=0))
    live.add_staff("chair", "reviewer")
    live.add_staff("expert.a", "judge")
    live.add_staff("expert.b", "judge")
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
