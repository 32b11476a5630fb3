"""Review through the console: 初审 to 入围, 需补充材料 reopening the draft, notices to the entrant, audit, conflicts."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select

from bot.runtime import Runtime
from console.audit import AuditEntry
from intake import queue
from intake.drafts import OPEN, Draft
from intake.notify import Notification
from tests.console.factories import Seeded


async def move(client: httpx.AsyncClient, token: str, reference: str, to: str, note: str = "") -> httpx.Response:
    """Press a status button on the record page, as the browser does (with what the page knew of the record)."""
    page = await client.get(f"/records/{reference}")
    seen = re.search(r'name="seen" value="([^"]+)"', page.text)
    assert seen, "no review form on the page"
    return await client.post(f"/records/{reference}/status",
                             data={"to": to, "note": note, "seen": seen.group(1), "csrf_token": token})


async def rows(runtime: Runtime, model, *where):
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        return list((await session.scalars(select(model).where(*where).order_by(model.id))).all())


async def test_an_entry_goes_through_first_and_final_review_to_finalist(
    client: httpx.AsyncClient, login, seeded: list[Seeded], console_runtime: Runtime
):
    token = await login("reviewer", "wang.fang")
    entry = seeded[0]  # Chinese-speaking entrant
    steps = [("first_review", ""), ("passed_first", "材料齐全，进入终审"), ("final_review", ""),
             ("finalist", "恭喜入围")]
    for to, note in steps:
        done = await move(client, token, entry.reference, to, note)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/records/{entry.reference}?changed={to}"
    page = await client.get(f"/records/{entry.reference}?changed=finalist")
    assert "状态已改为「入围」，已通知申报人" in page.text
    assert "这份申报已是最终状态" in page.text and 'name="to"' not in page.text

    sessions = await console_runtime.sessionmaker()
    async with sessions() as session:
        record = await queue.get_submission(session, entry.reference)
        history = await queue.history_of(session, record)
    assert record.status == "finalist"
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [
        (None, "submitted", f"user:{entry.user_id}"),
        ("submitted", "first_review", "staff:wang.fang"),
        ("first_review", "passed_first", "staff:wang.fang"),
        ("passed_first", "final_review", "staff:wang.fang"),
        ("final_review", "finalist", "staff:wang.fang"),
    ]
    notices = await rows(console_runtime, Notification, Notification.external_id == entry.external_id)
    assert [n.channel for n in notices] == ["telegram"] * 4
    assert "初审通过" in notices[1].text and "材料齐全，进入终审" in notices[1].text
    assert "「入围」" in notices[3].text and entry.reference in notices[3].text
    audit = await rows(console_runtime, AuditEntry, AuditEntry.target == entry.reference)
    assert [(a.actor, a.action, a.before["status"], a.after["status"]) for a in audit] == [
        ("wang.fang", "status.change", "submitted", "first_review"),
        ("wang.fang", "status.change", "first_review", "passed_first"),
        ("wang.fang", "status.change", "passed_first", "final_review"),
        ("wang.fang", "status.change", "final_review", "finalist"),
    ]
    assert audit[1].note == "材料齐全，进入终审" and audit[0].address == "203.0.113.7"
    # Shown on the record, oldest last.
    assert page.text.count("更改状态") == 4


async def test_the_entrant_is_told_in_their_own_language(
    client: httpx.AsyncClient, login, seeded: list[Seeded], console_runtime: Runtime
):
    token = await login("admin")
    entry = next(s for s in seeded if s.overseas)  # applied in English
    assert (await move(client, token, entry.reference, "rejected", "Outside the scope of the award")).status_code == 303
    [notice] = await rows(console_runtime, Notification, Notification.external_id == entry.external_id)
    assert 'is now "Not passed"' in notice.text and "Outside the scope of the award" in notice.text


async def test_needs_more_reopens_the_draft_and_says_what_is_missing(
    client: httpx.AsyncClient, login, seeded: list[Seeded], console_runtime: Runtime
):
    token = await login("reviewer")
    entry = seeded[1]
    refused = await move(client, token, entry.reference, "needs_more", "")
    assert refused.status_code == 400 and "请在说明中写明需要补充的材料" in refused.text
    done = await move(client, token, entry.reference, "needs_more", "请补充近三年的研发投入证明")
    assert done.status_code == 303
    [draft] = await rows(console_runtime, Draft, Draft.user_id == entry.user_id)
    assert draft.status == OPEN
    [notice] = await rows(console_runtime, Notification, Notification.external_id == entry.external_id)
    assert "请补充近三年的研发投入证明" in notice.text and "/drafts" in notice.text


async def test_a_move_the_process_does_not_allow_is_refused_with_the_reason(
    client: httpx.AsyncClient, login, seeded: list[Seeded], console_runtime: Runtime
):
    token = await login("reviewer")
    entry = seeded[2]
    page = await client.get(f"/records/{entry.reference}")
    assert 'value="finalist"' not in page.text  # only the allowed moves have buttons
    seen = re.search(r'name="seen" value="([^"]+)"', page.text).group(1)
    forged = await client.post(f"/records/{entry.reference}/status",
                               data={"to": "finalist", "seen": seen, "csrf_token": token})
    assert forged.status_code == 400
    assert "不能改为“入围”" in forged.text
    unknown = await client.post(f"/records/{entry.reference}/status",
                                data={"to": "approved", "seen": seen, "csrf_token": token})
    assert unknown.status_code == 400 and "未知状态" in unknown.text
    assert await rows(console_runtime, Notification, Notification.external_id == entry.external_id) == []
    assert await rows(console_runtime, AuditEntry, AuditEntry.target == entry.reference) == []


async def test_a_page_loaded_before_someone_else_changed_the_entry_gets_a_clear_message(
    client: httpx.AsyncClient, login, seeded: list[Seeded]
):
    token = await login("reviewer")
    entry = seeded[3]
    stale = await client.get(f"/records/{entry.reference}")
    seen = re.search(r'name="seen" value="([^"]+)"', stale.text).group(1)
    assert (await move(client, token, entry.reference, "first_review")).status_code == 303  # a colleague
    late = await client.post(f"/records/{entry.reference}/status",
                             data={"to": "rejected", "seen": seen, "note": "不符合条件", "csrf_token": token})
    assert late.status_code == 409
    assert "这份申报刚刚已被他人更改（现为「初审中」" in late.text
    assert "不符合条件" in late.text  # the note typed is kept in the form


async def test_two_reviewers_pressing_at_the_same_moment_one_wins_the_other_is_told(
    app, make_staff, seeded: list[Seeded], console_runtime: Runtime
):
    from tests.console.conftest import csrf_of, log_in

    entry = seeded[4]
    clients = []
    for name in ("a.reviewer", "b.reviewer"):
        await make_staff(name, "reviewer")
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test",
                              headers={"accept": "text/html"})
        assert (await log_in(c, name)).status_code == 303
        clients.append(c)
    try:
        pages = [(await c.get(f"/records/{entry.reference}")).text for c in clients]
        tokens = [csrf_of(p) for p in pages]
        seen = re.search(r'name="seen" value="([^"]+)"', pages[0]).group(1)
        results = await asyncio.gather(*(
            c.post(f"/records/{entry.reference}/status",
                   data={"to": to, "seen": seen, "csrf_token": t})
            for c, t, to in zip(clients, tokens, ("passed_first", "rejected"), strict=True)
        ))
    finally:
        for c in clients:
            await c.aclose()
    assert sorted(r.status_code for r in results) == [303, 409]
    assert "刚刚已被他人更改" in next(r for r in results if r.status_code == 409).text
    notices = await rows(console_runtime, Notification, Notification.external_id == entry.external_id)
    assert len(notices) == 1  # the losing change told nobody anything


async def test_downloading_the_form_between_loading_and_pressing_is_no_conflict(
    client: httpx.AsyncClient, login, seeded: list[Seeded]
):
    token = await login("reviewer")
    entry = seeded[5]
    page = await client.get(f"/records/{entry.reference}")
    seen = re.search(r'name="seen" value="([^"]+)"', page.text).group(1)
    assert (await client.get(f"/records/{entry.reference}/form")).status_code == 200  # renders and stores it
    done = await client.post(f"/records/{entry.reference}/status",
                             data={"to": "first_review", "seen": seen, "csrf_token": token})
    assert done.status_code == 303
