"""The jury chair's sign-off through the console: the committee proposes, only the chair signs off or sends back
(anyone else is told so, in their language), an invited expert in the chair reads a blind round by reference only,
and every step is in the audit log with who and when."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.runtime import Runtime
from console.audit import AuditEntry
from console.staff import get_staff, set_jury_chair
from intake import queue
from judging import rounds, score
from judging.decide import decide
from judging.models import Assignment
from tests.console.conftest import csrf_of, log_in
from tests.console.factories import seed
from tests.judging.conftest import OPENED

AWARD = "pioneer_product"


async def _closed_blind_round(runtime: Runtime) -> tuple[int, list]:
    entries = await seed(runtime, 3, awards=(AWARD,), overseas_every=0)
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        judge = await get_staff(session, "he.judge")
        round_ = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts, award_id=AWARD,
                                         stage_id="first", judges=[judge], blind=True, actor="chair", now=OPENED)
        for n, a in enumerate((await session.scalars(select(Assignment).where(Assignment.round_id == round_.id)
                                                     .order_by(Assignment.id))).all()):
            await score.declare(session, a, conflict=False, note="", actor=a.judge_name, now=OPENED)
            await score.save_card(session, a, score.CardInput(
                scores={d.id: str(9 - n) for d in runtime.scorecards.for_award(AWARD).dimensions},
                risk_levels={r.id: "none" for r in runtime.scorecards.risks}, recommendation="yes"),
                scorecards=runtime.scorecards, award_id=AWARD, submit=True, actor=a.judge_name, now=OPENED)
        await rounds.close_round(session, round_, actor="chair", now=OPENED)
        return round_.id, entries


async def test_the_committee_proposes_and_only_the_chair_signs_off(client: httpx.AsyncClient,
                                                                   console_runtime: Runtime, make_staff):
    runtime = console_runtime
    await make_staff("he.judge", "judge")
    await make_staff("ma.expert", "judge", lang="en")  # the jury chair, an invited expert reading in English
    await make_staff("committee", "reviewer")
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        await set_jury_chair(session, "ma.expert", chair=True)
    round_id, entries = await _closed_blind_round(runtime)

    # The committee proposes: nothing moves; the committee member cannot sign off.
    await log_in(client, "committee")
    results = await client.get(f"/judging/rounds/{round_id}/results")
    assert "提出决定，提交评审团主席签核" in results.text
    proposed = await client.post(f"/judging/rounds/{round_id}/decide",
                                 data={"csrf_token": csrf_of(results.text), "chosen": entries[0].reference,
                                       f"reason:{entries[0].reference}": "综合第一"})
    assert proposed.status_code == 303
    page = await client.get(f"/judging/rounds/{round_id}/results")
    assert "正等待评审团主席签核" in page.text and "查看并签核" not in page.text
    refused = await client.post(f"/judging/rounds/{round_id}/sign-off", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403 and "只有评审团主席有权签核初审决定" in refused.text
    async with sessions() as session:
        assert {r.status for r in await queue.list_submissions(session)} == {"first_review"}
    await client.post("/logout", data={"csrf_token": csrf_of(page.text)})

    # A judge who is not the chair is told who may, in their language.
    await log_in(client, "he.judge")
    assert "等待您签核" not in (await client.get("/judge")).text
    page = await client.get(f"/judging/rounds/{round_id}/sign-off")
    assert page.status_code == 403 and "只有评审团主席" in page.text
    await client.post("/logout", data={"csrf_token": csrf_of((await client.get("/judge")).text)})

    # The chair: finds it on their list, reads it by reference only (blind), sends it back without a reason
    # (refused), with one, then — once proposed again — signs off.
    await log_in(client, "ma.expert")
    home = await client.get("/judge")
    assert "First-review decisions awaiting your sign-off" in home.text
    page = await client.get(f"/judging/rounds/{round_id}/sign-off")
    assert page.status_code == 200 and "综合第一" in page.text and "Proposed by committee" in page.text
    assert all(e.reference in page.text for e in entries) and not [e for e in entries if e.entrant in page.text]
    token = csrf_of(page.text)
    empty = await client.post(f"/judging/rounds/{round_id}/send-back", data={"csrf_token": token, "note": " "})
    assert empty.status_code == 400 and "Say why" in empty.text
    back = await client.post(f"/judging/rounds/{round_id}/send-back", data={"csrf_token": token, "note": "请复核第二名"})
    assert back.status_code == 303
    async with sessions() as session, session.begin():
        round_ = await rounds.get_round(session, round_id)
        assert round_.status == "closed"
        await decide(session, round_, scorecards=runtime.scorecards, texts=runtime.texts,
                     chosen=[entries[0].reference, entries[1].reference], reasons={}, actor="committee", now=OPENED)
    signed = await client.post(f"/judging/rounds/{round_id}/sign-off", data={"csrf_token": token})
    assert signed.status_code == 303
    done = await client.get(signed.headers["location"])
    assert "Signed off by the jury chair ma.expert" in done.text
    again = await client.post(f"/judging/rounds/{round_id}/sign-off", data={"csrf_token": token})
    assert again.status_code == 409 and "no decisions awaiting sign-off" in again.text

    async with sessions() as session:
        statuses = {r.reference: r.status for r in await queue.list_submissions(session)}
        assert [statuses[e.reference] for e in entries] == ["passed_first", "passed_first", "rejected"]
        audit = {a.action: a for a in (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()}
        assert (audit["judging.send_back"].actor, audit["judging.send_back"].note) == ("ma.expert", "请复核第二名")
        assert audit["judging.sign_off"].actor == "ma.expert" and audit["judging.sign_off"].at is not None
        assert audit["judging.sign_off"].address is not None  # where it was signed from, as for every console action
