"""The queue list (filters, search, pagination, counts) and the record page (sections, masking, files, escaping)."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.runtime import Runtime
from intake import queue
from intake.files import store_upload
from intake.sensitive import mask
from tests.console.conftest import csrf_of, log_in
from tests.console.factories import HOSTILE_NAME, Seeded, seed
from tests.intake.factories import ID_NUMBER, ZH_LONG

REF = re.compile(r'<td class="mono"><a href="/records/(KCXF-2024-\d{5})">')


def listed(html: str) -> list[str]:
    return REF.findall(html)


@pytest.fixture
async def many(console_runtime: Runtime) -> list[Seeded]:
    """60 entries, five a day from 16 September (Beijing time), every fourth from abroad."""
    return await seed(console_runtime, 60, per_day=5)


async def test_pages_of_25_in_arrival_order_with_newest_first_on_request(client, login, many):
    await login("reviewer")
    first = await client.get("/queue")
    assert listed(first.text) == [s.reference for s in many[:25]]
    assert "符合条件 60 份" in first.text
    third = await client.get("/queue?page=3")
    assert listed(third.text) == [s.reference for s in many[50:]]
    beyond = await client.get("/queue?page=99")  # the last page, not an empty one
    assert listed(beyond.text) == listed(third.text)
    newest = await client.get("/queue?sort=new&per=50")
    assert listed(newest.text) == [s.reference for s in reversed(many[10:])]


async def test_filters_combine_and_keep_their_values(client, login, many):
    await login("reviewer")
    want = [s.reference for s in many if s.award_id == "pioneer_product" and s.overseas]
    assert want  # the seed has some
    page = await client.get("/queue?award=pioneer_product&region=overseas")
    assert listed(page.text) == want
    assert '<option value="pioneer_product" selected>' in page.text
    assert '<option value="overseas" selected>' in page.text
    searched = await client.get("/queue", params={"award": "enterprise_npf", "q": "0001有限公司"})
    assert listed(searched.text) == [many[0].reference]
    assert 'value="0001有限公司"' in searched.text
    # Page links and the export buttons carry the filters.
    paged = await client.get("/queue?award=enterprise_npf&per=25&region=domestic&sort=new")
    assert 'href="/queue/export.csv?award=enterprise_npf&amp;region=domestic&amp;sort=new"' in paged.text
    small = await client.get("/queue?region=domestic")
    assert 'href="/queue?region=domestic&amp;page=2"' in small.text


async def test_dates_are_the_committees_days(client, login, many):
    await login("reviewer")
    # Day 3 is 18 September: entries 10–14, submitted from 09:00 Beijing time (01:00 UTC).
    page = await client.get("/queue?from=2024-09-18&to=2024-09-18")
    assert listed(page.text) == [s.reference for s in many[10:15]]
    span = await client.get("/queue?from=2024-09-18&to=2024-09-19&award=pioneer_engine")
    assert listed(span.text) == [s.reference for s in many[10:20] if s.award_id == "pioneer_engine"]


async def test_search_finds_names_and_references_case_and_wildcards_aside(client, login, many):
    await login("reviewer")
    overseas = next(s for s in many if s.overseas)
    companies = [s.reference for s in many if s.overseas and s.award_id in {"enterprise_npf", "pioneer_engine",
                                                                          "rising_potential"}]
    assert companies and listed((await client.get("/queue", params={"q": "pioneer technologies"})).text) == companies
    assert listed((await client.get("/queue", params={"q": overseas.reference.lower()})).text) == [overseas.reference]
    assert listed((await client.get("/queue", params={"q": "%"})).text) == []  # a literal percent sign
    assert listed((await client.get("/queue", params={"q": "张江科学城"})).text) == \
        [s.reference for s in many if s.entrant.startswith("张江科学城")]


async def test_status_tabs_count_under_the_other_filters(client, login, many, console_runtime):
    sessions = await console_runtime.sessionmaker()
    async with sessions() as session, session.begin():
        for s in many[:3]:
            await queue.change_status(session, reference=s.reference, to_status="first_review", actor="t",
                                      now=datetime(2024, 10, 21, tzinfo=ZoneInfo("UTC")))
    await login("reviewer")
    page = await client.get("/queue?status=first_review")
    assert listed(page.text) == [s.reference for s in many[:3]]
    tabs = re.findall(r'class="badge s-(\w+)">[^<]+</span> <b>(\d+)</b>', page.text)
    assert dict(tabs)["first_review"] == "3" and dict(tabs)["submitted"] == "57"
    product = await client.get("/queue?status=first_review&award=enterprise_npf")
    assert dict(re.findall(r'class="badge s-(\w+)">[^<]+</span> <b>(\d+)</b>', product.text))["first_review"] == "1"


async def test_bad_filter_values_are_explained_not_fatal(client, login, many):
    await login("reviewer", lang="en")
    page = await client.get("/queue?from=2024-13-01&award=best_of_show&to=2024-09-16&page=x&per=7")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'Dates are written year-month-day, e.g. 2024-10-01; "2024-13-01" was ignored.' in text
    assert 'Unknown filter value "best_of_show" was ignored.' in text
    assert listed(page.text) == [s.reference for s in many[:5]]  # what could be read still applies
    zh = await client.get("/queue?from=2024-10-02&to=2024-10-01")
    assert "The start date is after the end date" in zh.text and listed(zh.text) == []


async def test_the_record_page_shows_the_form_as_the_entrant_filled_it(client, login, seeded, console_runtime):
    await login("reviewer")
    entry = next(s for s in seeded if s.award_id == "pioneer_person" and not s.overseas)
    page = await client.get(f"/records/{entry.reference}")
    assert page.status_code == 200
    text = page.text
    for title in ("基本信息", "申报联系人", "近3~5年科创项目", "风险诊断", "声明"):
        assert f"<h2>{title}</h2>" in text
    assert "参选类别（年度科创先锋人物）+ " in text  # the mail subject
    assert f'href="tg://user?id={entry.external_id}"' in text
    assert "完整" in text
    # Identity number and phones masked for a reviewer.
    assert ID_NUMBER not in text and mask(ID_NUMBER) in text
    assert "13812345678" not in text and mask("+8613812345678") in text
    history = text.split("状态历史")[1]
    assert "已提交" in history and "· 申报人" in history


async def test_an_administrator_reads_identity_numbers_in_full(client, login, seeded):
    await login("admin")
    entry = next(s for s in seeded if s.award_id == "pioneer_person" and not s.overseas)
    text = (await client.get(f"/records/{entry.reference}")).text
    assert ID_NUMBER in text and "13812345678" in text.replace(" ", "")


async def test_english_interface_uses_the_forms_english_labels(client, login, seeded):
    await login("reviewer", lang="en")
    text = (await client.get(f"/records/{seeded[0].reference}")).text
    assert "<h2>Basic information</h2>" in text and "Registered company name" in text and "Download the form" in text


async def test_script_in_any_entrant_field_is_shown_as_text(client, login, console_runtime):
    # The intake's validators accept this as a name and as a description: the pages must not run it.
    [entry] = await seed(console_runtime, 1, awards=("pioneer_product",), answers_override={
        "product_name": HOSTILE_NAME, "product_summary": HOSTILE_NAME + ZH_LONG})
    failed = await log_in(client, HOSTILE_NAME, "whatever it is")  # the audit log keeps the name typed
    assert failed.status_code == 401 and "<script>alert" not in failed.text
    await login("admin")
    for url in ("/", "/queue", f"/records/{entry.reference}", f"/queue?q={HOSTILE_NAME[:8]}", "/audit"):
        text = (await client.get(url)).text
        assert "<script>alert" not in text and "<img src=x" not in text, url
    assert "&lt;script&gt;" in (await client.get("/audit")).text
    record_page = (await client.get(f"/records/{entry.reference}")).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in record_page
    # Name (title, answer), subject, and the description.
    assert record_page.count("&lt;img src=x onerror=alert(1)&gt;") >= 4


async def test_form_and_attachments_download_and_are_audited(client, login, seeded, console_runtime):
    settings = console_runtime.settings
    stored = store_upload(files_dir=settings.files_dir, owner="7", file_name="产品手册.pdf",
                          source=b"%PDF-1.7 handbook", mime_type="application/pdf", size=None)
    sessions = await console_runtime.sessionmaker()
    async with sessions() as session, session.begin():
        record = await queue.get_submission(session, seeded[0].reference)
        record.attachments = [stored.as_dict(), {"name": "../../etc/passwd", "path": "../../etc/passwd", "size": 1,
                                                 "sha256": "0", "mime_type": "text/plain"}]
    await login("reviewer", "li.ming")
    page = await client.get(f"/records/{seeded[0].reference}")
    assert "产品手册.pdf" in page.text
    pdf = await client.get(f"/records/{seeded[0].reference}/attachments/0")
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.7 handbook"
    assert "attachment;" in pdf.headers["content-disposition"] and "%E4%BA%A7%E5%93%81" in pdf.headers["content-disposition"]
    assert (await client.get(f"/records/{seeded[0].reference}/attachments/1")).status_code == 404  # outside files
    assert (await client.get(f"/records/{seeded[0].reference}/attachments/7")).status_code == 404
    # No form was rendered for the seeded record: it is rendered on first download and kept.
    form = await client.get(f"/records/{seeded[0].reference}/form")
    assert form.status_code == 200 and form.content[:2] == b"PK"
    async with sessions() as session:
        record = await queue.get_submission(session, seeded[0].reference)
        assert record.form_file and (settings.files_dir / record.form_file).is_file()
    again = await client.get(f"/records/{seeded[0].reference}")
    assert again.text.count("下载附件") == 1 and again.text.count("下载申报表") >= 2  # button + audit entry


async def test_an_unknown_reference_is_a_clear_404(client, login, seeded):
    await login("reviewer")
    missing = await client.get("/records/KCXF-2024-99999")
    assert missing.status_code == 404 and "没有找到这份申报" in missing.text
    malformed = await client.get("/records/<script>")
    assert malformed.status_code == 400 and "请求有误" in malformed.text
    no_button = await client.post(f"/records/{seeded[0].reference}/status", data={"csrf_token": csrf_of(
        (await client.get("/")).text)})
    assert no_button.status_code == 400 and "请求有误" in no_button.text


async def test_a_reviewer_reads_no_identifier_in_free_text_or_in_answers_the_form_no_longer_has(
    client, login, console_runtime,
):
    [entry] = await seed(console_runtime, 1, awards=["pioneer_person"], overseas_every=0,
                         answers_override={"tech_innovation": "详情请致电 13812345678 与我联系"})
    sessions = await console_runtime.sessionmaker()
    async with sessions() as session, session.begin():
        record = await queue.get_submission(session, entry.reference)
        assert record is not None
        # Answers to fields an older form had and this one has not.
        record.answers = {**record.answers, "old_passport": "E12345678",
                          "old_contacts": [{"name": "王丽", "tel": "13912345678"}]}
    await login("reviewer")
    text = (await client.get(f"/records/{entry.reference}")).text
    for plain in ("13812345678", "E12345678", "13912345678"):
        assert plain not in text
    assert "详情请致电 *******5678 与我联系" in text and "******678" in text and "*******5678" in text
    assert "old_passport" in text and "王丽" in text  # shown, not dropped
    await client.post("/logout", data={"csrf_token": csrf_of(text)})
    assert (await log_in(client, await _admin(console_runtime))).status_code == 303
    full = (await client.get(f"/records/{entry.reference}")).text
    assert all(plain in full for plain in ("13812345678", "E12345678", "13912345678"))


async def _admin(runtime: Runtime) -> str:
    from console.staff import add_staff
    from tests.console.conftest import PASSWORD

    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        await add_staff(session, name="admin9", password=PASSWORD, role="admin")
    return "admin9"
