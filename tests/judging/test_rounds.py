"""A round through the services, on the real database: open and assign, declare, draft and submit, reopen, close,
rank, decide (statuses move, entrants are told), the finalists list; the audit log has every step."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from console.audit import AuditEntry
from console.staff import get_staff, set_jury_chair
from intake import queue
from intake.notify import Notification
from judging import rank, rounds, score
from judging.decide import decide, finalists, finalists_csv, send_back, sign_off
from judging.models import CONFLICT, DRAFT, SUBMITTED, Assignment
from judging.rounds import JudgingError, plan_assignments
from tests.console.factories import seed
from tests.judging.conftest import OPENED, make_judges

AWARD = "enterprise_npf"


def full_card(runtime: Runtime, value: int, *, concern: bool = False) -> score.CardInput:
    """A complete scorecard giving `value` on every dimension."""
    scorecards = runtime.scorecards
    card = scorecards.for_award(AWARD)
    risks = {r.id: score.NONE for r in scorecards.risks}
    notes = {}
    if concern:
        first = scorecards.risks[0].id
        risks[first] = score.CONCERN
        notes[first] = "核心算法依赖高校授权"
    return score.CardInput(scores={d.id: str(value) for d in card.dimensions}, risk_levels=risks, risk_notes=notes,
                           recommendation=scorecards.recommendations[0].id, comments={card.dimensions[0].id: "赛道清晰"})


def test_n_judges_per_entry_are_spread_evenly():
    pairs = plan_assignments(list(range(10)), [1, 2, 3, 4], 3)
    per_entry = Counter(e for e, _ in pairs)
    load = Counter(j for _, j in pairs)
    assert set(per_entry.values()) == {3} and len(set(pairs)) == 30
    assert max(load.values()) - min(load.values()) <= 1
    assert len(plan_assignments([1, 2], [7, 8, 9], None)) == 6


async def test_a_round_from_opening_to_the_finalists(runtime: Runtime, sessions):
    entries = await seed(runtime, 4, awards=(AWARD,), overseas_every=0)
    other = await seed(runtime, 1, awards=("pioneer_product",))
    wang, li, zhao = await make_judges(sessions, "wang.judge", "li.judge", "zhao.judge")
    scorecards, texts = runtime.scorecards, runtime.texts

    async with sessions() as session, session.begin():
        judges = await rounds.resolve_judges(session, ["wang.judge", "li.judge", "zhao.judge"])
        round_ = await rounds.open_round(session, scorecards=scorecards, texts=texts, award_id=AWARD,
                                         stage_id="first", judges=judges, per_entry=2, actor="chair", now=OPENED)
        round_id = round_.id
    async with sessions() as session:
        assigned = list((await session.scalars(select(Assignment).where(Assignment.round_id == round_id))).all())
        assert len(assigned) == 8 and Counter(a.submission_id for a in assigned).most_common(1)[0][1] == 2
        statuses = {r.reference: r.status for r in await queue.list_submissions(session)}
        assert {statuses[e.reference] for e in entries} == {"first_review"}
        assert statuses[other[0].reference] == "submitted"  # another award's entry is not in the round
        told = (await session.scalars(select(Notification.text))).all()
        assert len(told) == 4 and all("初审中" in t for t in told)
        assert await session.scalar(select(AuditEntry).where(AuditEntry.action == "judging.assign")) is not None
        # A second open round for the same award and stage is refused.
        with pytest.raises(JudgingError, match="进行中"):
            await rounds.open_round(session, scorecards=scorecards, texts=texts, award_id=AWARD, stage_id="first",
                                    judges=judges, actor="chair", now=OPENED)

    mine = {j.name: [a for a in assigned if a.judge_id == j.id] for j in (wang, li, zhao)}
    later = OPENED + timedelta(hours=1)
    signed = later + timedelta(hours=2)
    async with sessions() as session, session.begin():
        # Another judge's assignment is not reachable under this judge's id.
        with pytest.raises(LookupError):
            await score.assignment_for(session, assignment_id=mine["li.judge"][0].id, judge_id=wang.id)
        first, _ = await score.assignment_for(session, assignment_id=mine["wang.judge"][0].id, judge_id=wang.id)
        with pytest.raises(JudgingError, match="利益冲突"):  # scoring before declaring
            await score.save_card(session, first, full_card(runtime, 8), scorecards=scorecards, award_id=AWARD,
                                  submit=False, actor="wang.judge", now=later)
        await score.declare(session, first, conflict=True, note="曾任该企业顾问", actor="wang.judge", now=later)
        with pytest.raises(JudgingError):
            await score.save_card(session, first, full_card(runtime, 8), scorecards=scorecards, award_id=AWARD,
                                  submit=False, actor="wang.judge", now=later)

    values = {"wang.judge": 9, "li.judge": 6, "zhao.judge": 4}
    async with sessions() as session, session.begin():
        for name, own in mine.items():
            for assignment in own:
                current = await session.get(Assignment, assignment.id)
                if current.conflict == CONFLICT:
                    continue
                await score.declare(session, current, conflict=False, note="", actor=name, now=later)
                # A draft keeps what is valid and says what is not.
                typed = full_card(runtime, values[name])
                broken = replace(typed, scores={**typed.scores, next(iter(typed.scores)): "11"}, recommendation="")
                checked = await score.save_card(session, current, broken, scorecards=scorecards, award_id=AWARD,
                                                submit=True, actor=name, now=later)
                assert current.state != SUBMITTED
                assert any("11" in p.message.zh for p in checked.problems)
                assert any(p.where == "recommendation" for p in checked.problems)
                await score.save_card(session, current, broken, scorecards=scorecards, award_id=AWARD, submit=False,
                                      actor=name, now=later)
                assert current.state == DRAFT and len(current.scores) == 4
                await score.save_card(session, current, full_card(runtime, values[name], concern=name == "li.judge"),
                                      scorecards=scorecards, award_id=AWARD, submit=True, actor=name, now=later)
                assert current.state == SUBMITTED

    async with sessions() as session, session.begin():
        progress = await rounds.progress(session, await rounds.get_round(session, round_id))
        assert progress.submitted == progress.expected == 7
        assert [e for e in progress.entries if e.conflict_names] and not await rounds.judges_behind(
            session, await rounds.get_round(session, round_id))
        reopened = await session.get(Assignment, mine["li.judge"][0].id)
        await rounds.reopen_score(session, reopened, actor="chair", now=later, note="请复核")
        assert reopened.state == DRAFT
        behind = await rounds.judges_behind(session, await rounds.get_round(session, round_id))
        assert [(j.name, s.email) for j, s in behind] == [("li.judge", "li.judge@example.org")]
        await score.save_card(session, reopened, full_card(runtime, 6, concern=True), scorecards=scorecards,
                              award_id=AWARD, submit=True, actor="li.judge", now=later)

    async with sessions() as session, session.begin():
        round_ = await rounds.get_round(session, round_id)
        with pytest.raises(JudgingError, match="关闭"):
            await decide(session, round_, scorecards=scorecards, texts=texts, chosen=[], reasons={}, actor="chair",
                         now=later)
        await rounds.close_round(session, round_, actor="chair", now=later)
        results = await rank.results(session, round_, scorecards)
        assert [e.rank for e in results.entries] == sorted(e.rank for e in results.entries)
        assert all(e.total is not None for e in results.entries)
        assert sum(e.risks.get(scorecards.risks[0].id, 0) for e in results.entries) == len(mine["li.judge"])
        top = results.entries[0].reference
        await decide(session, round_, scorecards=scorecards, texts=texts, chosen=[entries[0].reference],
                     reasons={}, actor="li.judge", now=later)
        assert round_.status == "proposed" and round_.proposed_by == "li.judge"

    # 初审 asks for the jury chair's sign-off: until then nothing moves and no entrant is told.
    async with sessions() as session, session.begin():
        statuses = {r.reference: r.status for r in await queue.list_submissions(session, award_id=AWARD)}
        assert set(statuses.values()) == {"first_review"}
        assert not any("初审通过" in t or "未通过" in t for t in (await session.scalars(select(Notification.text))).all())
        round_ = await rounds.get_round(session, round_id)
        assert await finalists(session, round_, scorecards) == []  # a proposal is not a list yet
        with pytest.raises(JudgingError, match="等待评审团主席签核"):
            await decide(session, round_, scorecards=scorecards, texts=texts, chosen=[], reasons={}, actor="x", now=later)
        with pytest.raises(JudgingError, match="只有评审团主席"):
            await sign_off(session, round_, chair=await get_staff(session, "zhao.judge"), texts=texts, now=later)
        zhao_, li_ = await set_jury_chair(session, "zhao.judge", chair=True), await set_jury_chair(session, "li.judge", chair=True)
        with pytest.raises(JudgingError, match="不能自己签核"):  # the proposer, though a chair, is not the second pair of eyes
            await sign_off(session, round_, chair=li_, texts=texts, now=later)
        with pytest.raises(JudgingError, match="退回的理由"):
            await send_back(session, round_, chair=zhao_, note="  ", now=later)
        await send_back(session, round_, chair=zhao_, note="第一名的风险疑虑需复核", now=later)
        assert round_.status == "closed" and round_.proposed_by is None
        await decide(session, round_, scorecards=scorecards, texts=texts, chosen=[top], reasons={top: "五维均衡"},
                     actor="chair", now=later)
        await sign_off(session, round_, chair=zhao_, texts=texts, now=signed)
        assert (round_.status, round_.signed_off_by, round_.signed_off_at) == ("decided", "zhao.judge", signed)

    async with sessions() as session:
        statuses = {r.reference: r.status for r in await queue.list_submissions(session, award_id=AWARD)}
        assert statuses.pop(top) == "passed_first" and set(statuses.values()) == {"rejected"}
        told = (await session.scalars(select(Notification.text).order_by(Notification.id))).all()
        assert sum("初审通过" in t for t in told) == 1 and sum("未通过" in t for t in told) == 3
        chosen = await finalists(session, await rounds.get_round(session, round_id), scorecards)
        rows = list(csv.DictReader(io.StringIO(finalists_csv(chosen).decode("utf-8-sig"))))
        assert [(r["reference"], r["reason"], r["status_label"]) for r in rows] == [(top, "五维均衡", "初审通过")]
        actions = Counter((await session.scalars(select(AuditEntry.action))).all())
        assert actions["judging.open"] == 1 and actions["judging.assign"] == 8 and actions["judging.decide"] == 4
        assert actions["judging.submit"] == 8 and actions["judging.reopen"] == 1 and actions["judging.conflict"] == 1
        assert actions["judging.propose"] == 8 and actions["judging.send_back"] == 1 and actions["judging.sign_off"] == 1
        signing = await session.scalar(select(AuditEntry).where(AuditEntry.action == "judging.sign_off"))
        assert (signing.actor, signing.target, signing.at) == ("zhao.judge", f"round:{round_id}", signed)
        assert signing.after["chosen"] == [top] and signing.before["proposed_by"] == "chair"
        returned = await session.scalar(select(AuditEntry).where(AuditEntry.action == "judging.send_back"))
        assert (returned.actor, returned.note) == ("zhao.judge", "第一名的风险疑虑需复核")
        moved = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "judging.decide"))).all()
        assert {m.actor for m in moved} == {"zhao.judge"} and {m.after["by"] for m in moved} == {"chair"}
