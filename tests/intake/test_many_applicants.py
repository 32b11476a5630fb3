"""200 applicants at once through one engine leave exactly 200 complete records, each holding what its applicant typed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.language import DEFAULT_LANG
from bot.runtime import Runtime
from config.settings import Settings
from tests.intake.applicants import AWARDS, Applicant, Decliner, run_applicant, verify

APPLICANTS = 200
INSIDE_WINDOW = datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def test_200_concurrent_applicants_leave_200_consistent_records(settings: Settings) -> None:
    runtime = Runtime.open(settings.model_copy(update={"now": INSIDE_WINDOW}))
    try:
        engine = await runtime.engine(answerer=Decliner())
        forms, today = runtime.forms, INSIDE_WINDOW.date()
        people = [Applicant(n=n, form=forms[AWARDS[n % len(AWARDS)]], today=today) for n in range(APPLICANTS)]
        error_text = runtime.texts.t("engine.error", DEFAULT_LANG)
        await asyncio.gather(*(run_applicant(engine, a, error_text) for a in people))
        lost, stored, problems = await verify(runtime, people)
    finally:
        await runtime.close()
    assert (lost, stored, problems) == (0, APPLICANTS, [])
    assert {a.form.award_id for a in people} == set(AWARDS)
