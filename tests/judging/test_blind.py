"""Blind rounds, tried as a judge would: every page and file a judge of a blind round can reach — their list, the
scoring page, the autosave answer, the 申报表 download, the attachments, the Excel sheet (and its refusal), the
results once the round is closed — searched for the entrant's real name, organisation, people, phone and e-mail,
typed in the fields meant for them and again inside free-text answers and an attachment's file name. The same
crawl over an open (not blind) round finds them, so the search can fail."""

from __future__ import annotations

import html
import io
import re
import zipfile
from urllib.parse import unquote

import httpx
import openpyxl
from sqlalchemy import select

from bot.runtime import Runtime
from console.staff import get_staff
from intake import queue
from intake.files import store_upload
from intake.render import render_form
from judging import rounds
from judging.models import Assignment
from judging.sheets import FIRST_ROW, KEY_ROW, SCORES
from tests.console.conftest import csrf_of, log_in
from tests.console.factories import seed
from tests.judging.conftest import OPENED

AWARD = "pioneer_product"
COMPANY = "上海澄明光子科技有限公司"
PEOPLE = ("欧阳明", "司马华")  # the contact, the legal representative
MOBILE, EMAIL = "13912345678", "ouyang.ming@chengming-photon.cn"


async def identified_entry(runtime: Runtime) -> str:
    """An entry whose identity is in its own fields and, again, in its free text and an attachment's name."""
    form = runtime.forms[AWARD]
    typed = {"product_name": f"{COMPANY}光子芯片", "company_name": COMPANY, "contact_name": PEOPLE[0],
             "legal_representative": PEOPLE[1], "contact_mobile": MOBILE, "contact_email": EMAIL,
             "product_summary": f"{COMPANY}研发的光子芯片。联系人{PEOPLE[0]}，电话 139 1234 5678，邮箱 {EMAIL}。",
             "risk_litigation": f"{COMPANY}无诉讼；法定代表人{PEOPLE[1]}可说明，请致电{MOBILE}。"}
    checked = {k: form.check(form.field(k), v, today=OPENED.date()) for k, v in typed.items()}
    assert all(c.ok for c in checked.values()), {k: c for k, c in checked.items() if not c.ok}
    stored = store_upload(files_dir=runtime.settings.files_dir, owner="7", file_name=f"{COMPANY}-产品手册.pdf",
                          source=b"%PDF-1.7 handbook", mime_type="application/pdf", size=None)
    [entry] = await seed(runtime, 1, awards=(AWARD,), overseas_every=0,
                         answers_override={**{k: c.value for k, c in checked.items()}, "attachments": [stored.as_dict()]})
    files = runtime.settings.files_dir
    async with (await runtime.sessionmaker())() as session, session.begin():
        record = await queue.get_submission(session, entry.reference)
        path = render_form(form=form, answers=record.answers, campaign=runtime.campaign, reference=entry.reference,
                           submitted_at=record.created_at, out_dir=files / "forms" / entry.reference)
        await queue.set_form_file(session, record, str(path.relative_to(files)))
    return entry.reference


def _secrets() -> list[str]:
    return [COMPANY, *PEOPLE, MOBILE, "+86" + MOBILE, "+86 139 1234 5678", "139 1234 5678", EMAIL]


def _texts(body: bytes) -> list[str]:
    """What a person can read in a response: the text itself, or every part of an Office file (raw XML and with
    the tags taken out, so that a value split across runs is found too)."""
    if body[:2] != b"PK":
        text = body.decode("utf-8", "replace")
        return [text, html.unescape(text), unquote(text)]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        # openpyxl writes CJK as character references (&#31185;): read as the application does.
        parts = [html.unescape(archive.read(n).decode("utf-8", "replace")) for n in archive.namelist()]
    return parts + [re.sub(r"<[^>]+>", "", p) for p in parts] + ["".join(archive.namelist())]


async def _crawl(client: httpx.AsyncClient, runtime: Runtime, round_id: int) -> dict[str, bytes]:
    """Everything the judge reaches, keyed by what it is, from their list to the closed round's results."""
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        mine = (await session.scalars(select(Assignment.id).where(Assignment.round_id == round_id))).all()
    [assignment] = mine
    seen: dict[str, bytes] = {}

    async def get(url: str) -> httpx.Response:
        response = await client.get(url)
        seen[f"GET {url} ({response.status_code})"] = response.content + str(response.headers).encode()
        return response

    home = await get("/")
    token = csrf_of(home.text)
    await get("/judge")
    await get(f"/judge/assignments/{assignment}")
    declared = await client.post(f"/judge/assignments/{assignment}/declare", data={"csrf_token": token, "conflict": "no"})
    assert declared.status_code == 303
    page = await get(f"/judge/assignments/{assignment}")
    assert page.status_code == 200
    draft = await client.post(f"/judge/assignments/{assignment}/draft", data={"overall": "ok"},
                              headers={"x-csrf-token": token})
    seen["POST draft"] = draft.content
    saved = await client.post(f"/judge/assignments/{assignment}", data={"csrf_token": token, "action": "draft"})
    seen["POST save"] = saved.content
    form = await get(f"/judge/assignments/{assignment}/form")
    assert form.status_code == 200 and form.content[:2] == b"PK"
    await get(f"/judge/assignments/{assignment}/attachments/0")
    sheet = await get(f"/judge/rounds/{round_id}/sheet.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    rows = book[SCORES]
    keys = {c.value: c.column for c in rows[KEY_ROW] if c.value}
    rows.cell(FIRST_ROW, keys["conflict"], "none")
    rows.cell(FIRST_ROW, keys[next(k for k in keys if k.startswith("score:"))], 99)  # refused: out of scale
    filled = io.BytesIO()
    book.save(filled)
    refused = await client.post(f"/judge/rounds/{round_id}/sheet", data={"csrf_token": token},
                                files={"sheet": ("s.xlsx", filled.getvalue())})
    assert refused.status_code == 400
    seen["POST sheet (refused)"] = refused.content
    async with sessions() as session, session.begin():
        await rounds.close_round(session, await rounds.get_round(session, round_id), actor="chair", now=OPENED)
    results = await get(f"/judge/rounds/{round_id}/results")
    assert results.status_code == 200
    await get("/judge")
    return seen


def _leaks(seen: dict[str, bytes]) -> dict[str, list[str]]:
    return {what: found for what, body in seen.items()
            if (found := [s for s in _secrets() if any(s.lower() in text.lower() for text in _texts(body))])}


async def _open(runtime: Runtime, *, blind: bool) -> int:
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        round_ = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts, award_id=AWARD,
                                         stage_id="first", judges=[await get_staff(session, "he.judge")],
                                         blind=blind, actor="chair", now=OPENED)
        return round_.id


async def test_a_judge_in_a_blind_round_never_sees_who_the_entrant_is(client: httpx.AsyncClient,
                                                                      console_runtime: Runtime, make_staff):
    runtime = console_runtime
    reference = await identified_entry(runtime)
    await make_staff("he.judge", "judge")
    await log_in(client, "he.judge")
    seen = await _crawl(client, runtime, await _open(runtime, blind=True))
    assert _leaks(seen) == {}
    # What the judge does get: the entry's own form, with what was withheld marked, and the files by number.
    form = next(body for what, body in seen.items() if "/form (200)" in what)
    text = "".join(_texts(form))
    assert reference in text and "（盲评隐藏）" in text and "光子芯片" in text
    page = next(body for what, body in seen.items() if re.search(r"assignments/\d+ \(200\)", what)).decode()
    assert "附件 1" in page and "盲评轮次不提供附件下载" in page and "光子芯片" in page
    assert any("(404)" in what and "attachments/0" in what for what in seen)


async def test_the_same_crawl_finds_the_entrant_in_an_open_round(client: httpx.AsyncClient,
                                                                  console_runtime: Runtime, make_staff):
    runtime = console_runtime
    await identified_entry(runtime)
    await make_staff("he.judge", "judge")
    await log_in(client, "he.judge")
    seen = await _crawl(client, runtime, await _open(runtime, blind=False))
    leaks = _leaks(seen)
    assert {what for what, found in leaks.items() if COMPANY in found} >= {
        next(w for w in seen if "/form (200)" in w), next(w for w in seen if "/sheet.xlsx (200)" in w),
        next(w for w in seen if "/results (200)" in w)}
    assert any("attachments/0 (200)" in what for what in seen)
    # The phone stays masked for a judge even then; the e-mail is a contact they may read outside a blind round.
    assert not [what for what, found in leaks.items() if MOBILE in found]


async def test_blind_values_come_from_the_data(console_runtime: Runtime):
    """Which answers are withheld follows the scorecards' `blind` rules and the intake's sensitive types."""
    from judging.blind import hidden_fields

    runtime = console_runtime
    form = runtime.forms[AWARD]
    hidden = hidden_fields(form, runtime.scorecards.blind)
    by_type = {slot.field.id: slot.field.type for slot in form.fields()}
    assert {"product_name", "company_name", "contact_name", "contact_mobile", "contact_email", "credit_code",
            "attachments"} <= hidden
    assert not {f for f in hidden if by_type[f] in ("long_text", "money", "choice")}
    assert "product_summary" not in hidden and "projects" not in hidden
    async with (await runtime.sessionmaker())() as session:
        assert await session.scalar(select(queue.Submission.id)) is None
