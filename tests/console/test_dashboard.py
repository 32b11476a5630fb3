"""The dashboard's counts and chart, and the chart's day buckets."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from console.chart import daily_counts, stacked_bars
from intake import queue
from tests.console.factories import seed

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_counts_by_award_and_status_and_a_chart(client, login, console_runtime):
    await seed(console_runtime, 10, per_day=4)
    sessions = await console_runtime.sessionmaker()
    async with sessions() as session, session.begin():
        await queue.change_status(session, reference="KCXF-2024-00001", to_status="first_review", actor="t",
                                  now=datetime(2024, 10, 21, tzinfo=UTC))
    await login("reviewer")
    page = (await client.get("/")).text
    assert "共 10 份申报" in page
    assert '<a href="/queue?award=enterprise_npf&amp;status=first_review">1</a>' in page
    assert '<a href="/queue?award=enterprise_npf&amp;status=submitted">1</a>' in page
    svg = page[page.index("<svg"):page.index("</svg>")]
    # Ten entries over three days: one bar segment per award and day that has any.
    assert len(re.findall(r"<rect ", svg)) == 10
    assert "2024-09-16 · 年度新质生产力科创企业: 1" in svg
    assert "<script" not in svg


async def test_a_maintainer_sees_the_figures_without_links_into_the_queue(client, login, console_runtime):
    await seed(console_runtime, 3)
    await login("maintainer")
    page = (await client.get("/")).text
    assert "共 3 份申报" in page and 'href="/queue' not in page


async def test_an_empty_dashboard_says_so(client, login):
    await login("admin", lang="en")
    page = (await client.get("/")).text
    assert "0 entries in all" in page and "No entries yet." in page and "<svg" not in page


def test_days_are_counted_in_beijing_time():
    rows = [
        ("pioneer_product", datetime(2024, 9, 30, 15, 59, tzinfo=UTC)),  # 23:59 on 30 September in Beijing
        ("pioneer_product", datetime(2024, 9, 30, 16, 0, tzinfo=UTC)),  # 00:00 on 1 October
        ("pioneer_person", datetime(2024, 10, 3, 2, 0, tzinfo=UTC)),
    ]
    days, series = daily_counts(rows, awards=[("pioneer_person", "人物"), ("pioneer_product", "产品")], tz=SHANGHAI)
    assert days == [date(2024, 9, 30), date(2024, 10, 1), date(2024, 10, 2), date(2024, 10, 3)]
    assert [(s.key, s.counts) for s in series] == [("pioneer_person", (0, 0, 0, 1)), ("pioneer_product", (1, 1, 0, 0))]
    svg = str(stacked_bars(days, series, title="每日提交 <b>"))
    assert "每日提交 &lt;b&gt;" in svg and svg.count("<rect ") == 3


def test_a_long_campaign_shows_its_last_sixty_days():
    rows = [("x", datetime(2024, 1, 1, tzinfo=UTC)), ("x", datetime(2024, 6, 1, tzinfo=UTC))]
    days, series = daily_counts(rows, awards=[("x", "X")], tz=SHANGHAI)
    assert len(days) == 60 and days[-1] == date(2024, 6, 1) and series[0].counts[-1] == 1
