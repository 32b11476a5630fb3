"""The console in real headless Chromium: log in, filter, open a record, review it to 入围, export; screenshots.

Screenshots of the dashboard, the queue and a record go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from intake import queue
from intake.files import store_upload
from intake.notify import Notification
from tests.console.conftest import LiveConsole, browser_login, screenshot
from tests.console.factories import HOSTILE_NAME, seed


def notices_for(live: LiveConsole, external_id: str) -> list[str]:
    async def read() -> list[str]:
        sessions = await live.runtime.sessionmaker()
        async with sessions() as session:
            rows = await session.scalars(select(Notification.text).where(Notification.external_id == external_id)
                                         .order_by(Notification.id))
            return list(rows.all())

    return live.call(read())


async def _spread_statuses(live: LiveConsole, references: list[str]) -> None:
    """Move some entries along, so the dashboard shows a review under way."""
    paths = [["first_review"], ["first_review", "needs_more"], ["passed_first"], ["rejected"],
             ["passed_first", "final_review"], ["passed_first", "final_review", "not_selected"]]
    sessions = await live.runtime.sessionmaker()
    async with sessions() as session, session.begin():
        for n, reference in enumerate(references):
            for to in paths[n % len(paths)]:
                await queue.change_status(session, reference=reference, to_status=to, actor="staff:seed",
                                          now=datetime(2024, 10, 21, 10, tzinfo=UTC))


async def _attach(live: LiveConsole, reference: str) -> None:
    """Give the record an attachment stored as the bot stores uploads."""
    stored = store_upload(files_dir=live.runtime.settings.files_dir, owner="7", file_name="产品手册.pdf",
                          source=b"%PDF-1.7 handbook", mime_type="application/pdf", size=None)
    sessions = await live.runtime.sessionmaker()
    async with sessions() as session, session.begin():
        record = await queue.get_submission(session, reference)
        record.attachments = [stored.as_dict()]


def test_a_reviewer_filters_reviews_to_finalist_and_exports(live_console: LiveConsole, browser_page):
    page, live = browser_page, live_console
    entries = live.call(seed(live.runtime, 60, per_day=4))
    live.call(_spread_statuses(live, [s.reference for s in entries[20:44] if s.award_id != "pioneer_person"]))
    live.add_staff("wang.fang", "reviewer")

    browser_login(page, live, "wang.fang")
    assert page.locator("h1").inner_text() == "概览"
    assert "共 60 份申报" in page.inner_text("main")
    assert page.locator("svg.chart rect").count() == 60
    screenshot(page, "dashboard")

    page.click("nav >> text=申报列表")
    page.wait_for_url("**/queue")
    assert page.locator("table.queue tbody tr").count() == 25
    page.select_option("select[name=award]", "pioneer_person")
    page.select_option("select[name=region]", "domestic")
    page.click("form.filters button.primary")
    page.wait_for_url(re.compile(r"/queue\?award=pioneer_person&region=domestic&per=25$"))  # no empty fields
    people = [s for s in entries if s.award_id == "pioneer_person" and not s.overseas]
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == len(people)
    assert page.locator("select[name=award]").input_value() == "pioneer_person"  # the filter keeps its value
    screenshot(page, "queue")

    target = people[0]
    live.call(_attach(live, target.reference))
    page.click(f"text={target.entrant}")
    page.wait_for_url(f"**/records/{target.reference}")
    assert page.locator("h1").inner_text() == target.entrant
    assert page.locator(".form-section h2").first.inner_text() == "基本信息"
    with page.expect_download() as form_download:
        page.click("text=下载申报表")
    assert form_download.value.suggested_filename == "年度科创先锋人物+" + target.entrant + ".docx"
    assert form_download.value.path().read_bytes()[:2] == b"PK"

    confirmations: list[str] = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    for to, note in [("first_review", ""), ("passed_first", "材料齐全，进入终审"), ("final_review", ""),
                     ("finalist", "恭喜入围，请留意颁奖典礼通知")]:
        if note:
            page.fill("textarea[name=note]", note)
        page.click(f"button[name=to][value={to}]")
        page.wait_for_url(f"**/records/{target.reference}?changed={to}")
        assert "已通知申报人" in page.inner_text(".flash.ok")
    assert confirmations == ["确定改为「入围」吗？这是最终决定，之后不能再更改。"]  # asked for the final step only
    assert page.locator(".record-head .badge").inner_text() == "入围"
    assert page.locator("button[name=to]").count() == 0
    assert page.locator(".record-side .timeline li").first.inner_text().startswith("入围")
    notices = notices_for(live, target.external_id)
    assert len(notices) == 4 and "恭喜入围" in notices[-1]
    assert page.locator(".timeline.audit li").count() == 5  # the form download and four changes
    screenshot(page, "record")

    page.goto(live.url + "/queue?award=pioneer_person&region=domestic")
    with page.expect_download() as xlsx_download:
        page.click("text=导出 Excel")
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes())).active
    header, *rows_ = list(sheet.iter_rows(values_only=True))
    exported = {r[header.index("reference")]: r for r in rows_}
    assert set(exported) == {s.reference for s in people}
    assert exported[target.reference][header.index("status")] == "finalist"
    assert "*" in exported[target.reference][header.index("answers.contact_mobile")]  # masked for a reviewer
    with page.expect_download() as csv_download:
        page.click("text=导出 CSV")
    text = csv_download.value.path().read_bytes().decode("utf-8-sig")
    assert {r["reference"] for r in csv.DictReader(io.StringIO(text))} == {s.reference for s in people}
    assert csv_download.value.suggested_filename.endswith(".csv")

    async def status() -> str:
        sessions = await live.runtime.sessionmaker()
        async with sessions() as session:
            return (await queue.get_submission(session, target.reference)).status

    assert live.call(status()) == "finalist"


def test_markup_typed_by_an_entrant_never_runs_in_the_browser(live_console: LiveConsole, browser_page):
    page, live = browser_page, live_console
    [entry] = live.call(seed(live.runtime, 1, awards=("pioneer_product",),
                                answers_override={"product_name": HOSTILE_NAME}))
    live.add_staff("admin", "admin")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser_login(page, live, "admin")
    page.goto(live.url + "/queue")
    assert HOSTILE_NAME in page.inner_text("table.queue")
    page.goto(f"{live.url}/records/{entry.reference}")
    assert page.locator("h1").inner_text() == HOSTILE_NAME
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    assert dialogs == []


def test_the_interface_switches_to_english_and_stays(live_console: LiveConsole, browser_page):
    page, live = browser_page, live_console
    live.call(seed(live.runtime, 3))
    live.add_staff("jane", "reviewer")
    browser_login(page, live, "jane")
    page.click("button[name=lang][value=en]")
    page.wait_for_url(live.url + "/")
    assert page.locator("h1").inner_text() == "Overview"
    page.click("nav >> text=Entries")
    assert page.locator("h1").inner_text() == "Entries"
    assert "Submitted" in page.inner_text("table.queue thead")


@pytest.mark.parametrize("role", ["maintainer"])
def test_a_maintainer_sees_the_dashboard_but_not_the_queue(live_console: LiveConsole, browser_page, role: str):
    page, live = browser_page, live_console
    live.add_staff("li.wei", role)
    browser_login(page, live, "li.wei")
    assert page.locator("nav >> text=申报列表").count() == 0
    page.goto(live.url + "/queue")
    assert "您的角色无权查看此页面" in page.inner_text("main")
