"""The judging pages over ASGI: a judge reaches only their own assignments in open rounds (another judge's, a
conflicted one, a closed round's: the same 404), sees no queue at /, and a blind round shows no names; the
scoring page saves a draft as the judge types and submits a complete card."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from bot.runtime import Runtime
from console.staff import get_staff
from intake import queue
from judging import rounds, score
from judging.models import Assignment
from tests.console.conftest import csrf_of, log_in
from tests.console.factories import seed
from tests.judging.conftest import OPENED


async def test_a_judge_reaches_only_their_own_assignments(client: httpx.AsyncClient, console_runtime: Runtime,
                                                          make_staff):
    runtime = console_runtime
    entries = await seed(runtime, 2, awards=("pioneer_product",), overseas_every=0)
    for name in ("he.judge", "lu.judge"):
        await make_staff(name, "judge")
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        judges = [await get_staff(session, n) for n in ("he.judge", "lu.judge")]
        round_ = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts,
                                         award_id="pioneer_product", stage_id="first", judges=judges, per_entry=1,
                                         blind=True, actor="chair", now=OPENED)
    async with sessions() as session:
        rows = (await session.scalars(select(Assignment).order_by(Assignment.id))).all()
        mine = [a.id for a in rows if a.judge_name == "he.judge"]
        mine_reference = await session.scalar(select(queue.Submission.reference).join(
            Assignment, Assignment.submission_id == queue.Submission.id).where(Assignment.id == mine[0]))
        theirs = [a.id for a in rows if a.judge_name == "lu.judge"]
    assert len(mine) == len(theirs) == 1

    await log_in(client, "he.judge")
    home = await client.get("/")
    assert home.status_code == 200 and "我的评审" in home.text and "每日提交数量" not in home.text
    assert all(e.entrant not in home.text for e in entries)  # blind: references only
    token = csrf_of(home.text)
    for url in ("/queue", f"/records/{entries[0].reference}", "/judging", f"/judging/rounds/{round_.id}/results",
                "/queue/export.csv", "/audit", "/knowledge"):
        assert (await client.get(url)).status_code == 403, url
    for url in (f"/judge/assignments/{theirs[0]}", f"/judge/assignments/{theirs[0]}/form",
                f"/judge/assignments/{theirs[0]}/attachments/0", f"/judge/rounds/{round_.id}/results"):
        assert (await client.get(url)).status_code == 404, url  # another's entry; results of an open round
    # Blind: one's own entry's form is a rendering without the names (tests/judging/test_blind.py searches it all).
    form = await client.get(f"/judge/assignments/{mine[0]}/form")
    assert form.status_code == 200 and mine_reference in form.headers["content-disposition"]
    refused = await client.post(f"/judge/assignments/{theirs[0]}/draft", data={"csrf_token": token})
    assert refused.status_code == 404

    # Declare, then type: the draft is saved as the judge types (what the page's script sends).
    declared = await client.post(f"/judge/assignments/{mine[0]}/declare", data={"csrf_token": token, "conflict": "no"})
    assert declared.status_code == 303
    page = await client.get(f"/judge/assignments/{mine[0]}")
    assert page.status_code == 200 and "盲评" in page.text and "创新性" in page.text
    assert all(e.entrant not in page.text for e in entries)
    card = runtime.scorecards.for_award("pioneer_product")
    typed = {f"score:{d.id}": "8" for d in card.dimensions}
    draft = await client.post(f"/judge/assignments/{mine[0]}/draft",
                              data={**typed, f"score:{card.dimensions[0].id}": "42"}, headers={"x-csrf-token": token})
    assert draft.json()["saved"] and "42" in draft.json()["problems"][0]
    complete = {**typed, "csrf_token": token, "recommendation": "yes", "action": "submit",
                **{f"risk:{r.id}": "none" for r in runtime.scorecards.risks}}
    submitted = await client.post(f"/judge/assignments/{mine[0]}", data=complete)
    assert submitted.status_code == 303
    again = await client.post(f"/judge/assignments/{mine[0]}/draft", data=typed, headers={"x-csrf-token": token})
    assert again.status_code == 409  # a submitted card is locked

    # Once the round is closed, the judge's own assignment is gone too.
    async with sessions() as session, session.begin():
        await rounds.close_round(session, await rounds.get_round(session, round_.id), actor="chair", now=OPENED)
    assert (await client.get(f"/judge/assignments/{mine[0]}")).status_code == 404


async def test_the_comparison_reads_only_the_compared_answers_and_the_judge_sees_their_row(
        client: httpx.AsyncClient, console_runtime: Runtime, make_staff):
    runtime = console_runtime
    award = "rising_potential"
    form = runtime.forms[award]
    for ratio, mobile in (("30%", "13900000001"), ("5%", "13900000002"), ("15%", "13900000003")):
        typed = {f: form.check(form.field(f), v, today=OPENED.date()) for f, v in (("rd_ratio", ratio),
                                                                                  ("contact_mobile", mobile))}
        assert all(c.ok for c in typed.values())
        await seed(runtime, 1, awards=(award,), overseas_every=0,
                   answers_override={f: c.value for f, c in typed.items()})
    await seed(runtime, 1, awards=("pioneer_product",), overseas_every=0)  # another award: not in the round
    await make_staff("he.judge", "judge")
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        round_ = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts, award_id=award,
                                         stage_id="first", judges=[await get_staff(session, "he.judge")],
                                         actor="chair", now=OPENED)
    async with sessions() as session:
        # Only the keys asked for come back, a sealed one (the phone) opened, a group whole, in arrival order.
        read = await rounds.answers_of(session, round_, {"rd_ratio", "contact_mobile", "projects"})
        assert [sorted(a) for *_, a in read] == [["contact_mobile", "projects", "rd_ratio"]] * 3
        assert [str(a["contact_mobile"])[-4:] for *_, a in read] == ["0001", "0002", "0003"]
        assert len({str(a["rd_ratio"]) for *_, a in read}) == 3
        assert all(isinstance(a["projects"], list) and a["projects"] for *_, a in read)
        references = [reference for _, reference, *_ in read]
        mine = (await session.scalars(select(Assignment).where(Assignment.round_id == round_.id)
                                      .order_by(Assignment.submission_id))).all()

    await make_staff("chair", "reviewer")
    await log_in(client, "chair")
    table = await client.get(f"/judging/rounds/{round_.id}/compare?sort=rd_ratio&order=asc")
    assert table.status_code == 200
    rows = re.findall(r'<tr><td><a href="/records/([^"]+)">.*?</tr>', table.text, flags=re.S)
    assert rows == [references[1], references[2], references[0]]  # 5 %, 15 %, 30 %
    ratio_cells = re.findall(r'<td class="num">(\d+(?:\.\d+)?%) <span class="pct">\((\d+)\)</span>', table.text)
    assert [cell for cell in ratio_cells if cell[0] in ("5%", "15%", "30%")] == [("5%", "17"), ("15%", "50"),
                                                                                  ("30%", "83")]

    # The judge's page shows their entry's row alone, placed among the whole round (15 %: the 50th percentile).
    await client.post("/logout", data={"csrf_token": csrf_of(table.text)})
    await log_in(client, "he.judge")
    home = await client.get("/judge")
    declared = await client.post(f"/judge/assignments/{mine[2].id}/declare",
                                 data={"csrf_token": csrf_of(home.text), "conflict": "no"})
    assert declared.status_code == 303
    page = await client.get(f"/judge/assignments/{mine[2].id}")
    assert page.status_code == 200
    assert re.search(r'<td>15% <span class="pct">\(50\)</span></td>', page.text), page.text
    assert not re.search(r'<td>(5|30)% <span class="pct">', page.text)


async def test_a_judge_sees_the_results_of_a_closed_round_they_sat_on_and_nothing_more(
        client: httpx.AsyncClient, console_runtime: Runtime, make_staff):
    runtime = console_runtime
    entries = await seed(runtime, 4, awards=("pioneer_product",), overseas_every=0)
    elsewhere = await seed(runtime, 1, awards=("rising_potential",), overseas_every=0)
    for name in ("he.judge", "lu.judge"):
        await make_staff(name, "judge")
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        he, lu = [await get_staff(session, n) for n in ("he.judge", "lu.judge")]
        ours = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts,
                                       award_id="pioneer_product", stage_id="first", judges=[he, lu], per_entry=1,
                                       actor="chair", now=OPENED)
        theirs = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts,
                                         award_id="rising_potential", stage_id="first", judges=[lu], actor="chair",
                                         now=OPENED)
        cards = (await session.scalars(select(Assignment).where(Assignment.round_id == ours.id))).all()
        for a in cards:  # every card submitted: he.judge gives 9s, lu.judge 3s
            value = 9 if a.judge_name == "he.judge" else 3
            await score.declare(session, a, conflict=False, note="", actor=a.judge_name, now=OPENED)
            await score.save_card(session, a, score.CardInput(
                scores={d.id: str(value) for d in runtime.scorecards.for_award("pioneer_product").dimensions},
                risk_levels={r.id: "none" for r in runtime.scorecards.risks}, recommendation="yes"),
                scorecards=runtime.scorecards, award_id="pioneer_product", submit=True, actor=a.judge_name, now=OPENED)
        own = [a.id for a in cards if a.judge_name == "he.judge"]

    await log_in(client, "he.judge")
    assert (await client.get(f"/judge/rounds/{ours.id}/results")).status_code == 404  # open: not yet
    async with sessions() as session, session.begin():
        for r in (ours, theirs):
            await rounds.close_round(session, await rounds.get_round(session, r.id), actor="chair", now=OPENED)

    home = await client.get("/judge")
    assert f'href="/judge/rounds/{ours.id}/results"' in home.text
    assert f'href="/judge/rounds/{theirs.id}/results"' not in home.text
    page = await client.get(f"/judge/rounds/{ours.id}/results")
    assert page.status_code == 200 and "本轮结果" in page.text
    assert all(e.reference in page.text for e in entries)  # the whole ranking of the round
    assert "88.89" in page.text and "22.22" in page.text  # his 9s and her 3s on 1–10, as totals on 0–100
    assert "lu.judge" not in page.text and "(z " not in page.text  # no other judge by name, no per-judge figures
    assert page.text.count('class="mine-row"') == len(own)  # his own cards marked, with his scores beside the means
    assert elsewhere[0].reference not in page.text and elsewhere[0].entrant not in page.text
    # Another round's results, the committee's pages, the entries themselves once closed: no.
    assert (await client.get(f"/judge/rounds/{theirs.id}/results")).status_code == 404
    assert (await client.get(f"/judge/assignments/{own[0]}")).status_code == 404
    for url in (f"/judging/rounds/{ours.id}/results", f"/judging/rounds/{ours.id}/compare",
                f"/judging/rounds/{ours.id}/finalists.csv", "/queue", "/queue/export.xlsx",
                f"/records/{entries[0].reference}", f"/judging/rounds/{ours.id}/sign-off"):
        assert (await client.get(url)).status_code == 403, url
