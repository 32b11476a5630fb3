"""Judging pages benchmark: the results page, the quantified comparison and a judge's scoring page of a round of
1,000 entries and 15 judges, through the real console over HTTP, per database.

A round as the committee would run it: ENTRIES entries of one award whose form has the most quantitative answers
(revenue, growth, staff, R&D, patents, financing round, project investment), each entrant's figures different;
BACKGROUND more entries across the other awards (in the queue, not in the round); 15 judges, 3 per entry (200
cards each, balanced by `judging.rounds.plan_assignments`), every card submitted with scores that differ by
entry and by judge (strict and lenient judges). The entries go through `intake.queue.submit` (answers sealed as
in production) and the round through `judging.rounds.open_round`; only the scores are written straight into
the assignments (as 3,000 submitted cards would leave them).

The pages are fetched through the FastAPI app (httpx's ASGI transport: the whole request path, authentication,
CSRF cookie, the session lookup, the queries, the template) by a committee member (reviewer) logged in through
the login form, and by a judge for their scoring page (which shows their entry's row of the comparison).
The first fetch of each page (cold: nothing cached, every sealed answer opened) is reported apart.

Baseline, in the same run on the same engine and driver, interleaved with the page fetches: a bare `SELECT 1`
and a simple `SELECT count(*)` of the round's assignments, each on a connection from the pool.
Run on SQLite (a temporary data folder) and on PostgreSQL (a database created and dropped here; skipped with a
note when 127.0.0.1:5432 does not answer).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import percentile  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.users import User  # noqa: E402
from config.clock import FixedClock  # noqa: E402
from config.settings import Settings  # noqa: E402
from console.app import create_app  # noqa: E402
from console.staff import add_staff  # noqa: E402
from intake import queue  # noqa: E402
from intake.drafts import SUBMITTED as DRAFT_SUBMITTED  # noqa: E402
from judging import rounds  # noqa: E402
from judging.models import NO_CONFLICT, SUBMITTED, Assignment  # noqa: E402
from tests.intake.factories import add_draft, answers_for, numbered_name  # noqa: E402
from tests.scratch_pg import PG_HOST, PG_PORT, PG_USER, admin  # noqa: E402

log = logging.getLogger(__name__)

AWARD = "rising_potential"  # the form with the most compared answers (the edition's scorecards.yaml, enterprise group)
ENTRIES, BACKGROUND, JUDGES, PER_ENTRY = 1000, 120, 15, 3
SAMPLES = 30
SUBMITTED_AT = datetime(2024, 10, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NOW = datetime(2024, 10, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PASSWORD = "bench password 2024"
BASE_URL = "http://console.bench"


@dataclass(frozen=True)
class PageFigures:
    """One page's latencies over the samples, and its first (cold) fetch."""

    page: str
    samples: int
    first_ms: float
    p50_ms: float
    p95_ms: float
    kib: float


@dataclass(frozen=True)
class DbResult:
    """The figures of one database."""

    db: str
    entries: int
    judges: int
    cards: int
    setup_s: float
    pages: list[PageFigures]
    select1_p50_ms: float
    select1_p95_ms: float
    count_p50_ms: float
    count_p95_ms: float
    problems: list[str] = field(default_factory=list)


def _typed(rng: random.Random, form_field_ids: set[str], choices: Sequence[str]) -> dict[str, str]:
    """What one entrant types for the quantitative questions: figures of a company between seed and scale-up."""
    employees = rng.randint(8, 3000)
    revenue = rng.randint(50, 200_000)  # 万元
    typed = {"revenue_recent": f"{revenue}万元", "revenue_cagr": f"{rng.randint(-30, 400)}%",
             "employees": f"{employees}人", "rd_staff": str(rng.randint(1, employees)),
             "rd_investment": f"{rng.randint(10, max(11, revenue // 2))}万元", "rd_ratio": f"{rng.randint(1, 60)}%",
             "invention_patents": str(rng.randint(0, 400)), "financing_stage": rng.choice(choices) if choices else "",
             "project_investment": f"{rng.randint(50, 50_000)}万元"}
    return {k: v for k, v in typed.items() if k in form_field_ids}


async def seed(runtime: Runtime, *, entries: int, background: int, seed_value: int = 2024) -> None:
    """`entries` entries of AWARD with different figures, `background` across the other awards, all submitted."""
    rng = random.Random(seed_value)
    sessions = await runtime.sessionmaker()
    forms = runtime.forms
    others = [a for a in forms if a != AWARD]
    plan = [AWARD] * entries + [others[n % len(others)] for n in range(background)]
    for start in range(0, len(plan), 200):  # a transaction per 200 entries
        async with sessions() as session, session.begin():
            for n, award_id in enumerate(plan[start:start + 200], start=start):
                form = forms[award_id]
                ids = {slot.field.id for slot in form.fields()}
                stage = next((slot.field for slot in form.fields() if slot.field.id == "financing_stage"), None)
                typed = _typed(rng, ids, [c.zh for c in stage.choices] if stage else [])
                answers = answers_for(form, typed=typed)
                name = form.entrant_field
                answers[name.id] = numbered_name(name, answers[name.id], n + 1)
                user = User(channel="telegram", external_id=str(9_000_000 + n), display_name=f"Bench {n}", lang="zh")
                session.add(user)
                await session.flush()
                draft = await add_draft(session, user_id=user.id, award_id=award_id)
                draft.set_answers(answers)
                draft.status = DRAFT_SUBMITTED
                await queue.submit(session, draft_key=draft.key, user_id=user.id, form=form, answers=answers,
                                   campaign=runtime.campaign, now=SUBMITTED_AT + timedelta(minutes=n))


async def open_and_score(runtime: Runtime, *, judges: int, per_entry: int, seed_value: int = 7) -> tuple[int, int]:
    """Open the round with `judges` judges, `per_entry` each, and submit every card; (round id, cards)."""
    rng = random.Random(seed_value)
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        staff = [await add_staff(session, name=f"judge{j:02d}", password=PASSWORD, role="judge",
                                 email=f"judge{j:02d}@example.org") for j in range(judges)]
        await add_staff(session, name="committee", password=PASSWORD, role="reviewer")
        round_ = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts,
                                         award_id=AWARD, stage_id="first", judges=staff,
                                         per_entry=per_entry, actor="committee", now=NOW)
        round_id = round_.id
    card = runtime.scorecards.for_award(AWARD)
    recommendations = [r.id for r in runtime.scorecards.recommendations]
    bias = {f"judge{j:02d}": rng.uniform(-1.5, 1.5) for j in range(judges)}  # strict and lenient judges
    async with sessions() as session, session.begin():
        cards = (await session.scalars(select(Assignment).where(Assignment.round_id == round_id))).all()
        quality: dict[int, float] = {}
        for a in cards:
            q = quality.setdefault(a.submission_id, rng.uniform(0.2, 0.9))
            a.conflict = NO_CONFLICT
            a.scores = {d.id: min(d.scale.max, max(d.scale.min, round(
                d.scale.min + q * (d.scale.max - d.scale.min) + bias[a.judge_name] + rng.gauss(0, 1))))
                for d in card.dimensions}
            a.comments = {d.id: "" for d in card.dimensions}
            a.risks = {r.id: {"level": "none", "note": ""} for r in runtime.scorecards.risks}
            a.recommendation = recommendations[min(len(recommendations) - 1, int((1 - q) * len(recommendations)))]
            a.state = SUBMITTED
            a.submitted_at = a.updated_at = NOW
        count = len(cards)
    return round_id, count


async def _client_for(app, name: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)),
                               base_url=BASE_URL, headers={"accept": "text/html"})
    form = await client.get("/login")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = await client.post("/login", data={"name": name, "password": PASSWORD, "next": "/", "csrf_token": token})
    if done.status_code != 303:
        raise RuntimeError(f"logging in as {name} failed: {done.status_code}")
    return client


async def _timed(client: httpx.AsyncClient, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = await client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    return elapsed, len(response.content)


async def _bare(db: AsyncEngine, statement) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    async with db.connect() as conn:
        await conn.execute(statement)
    return (time.perf_counter() - started) * 1000


async def measure(runtime: Runtime, round_id: int, *, samples: int) -> tuple[list[PageFigures], list[float],
                                                                               list[float]]:
    """Each page `samples` times (after one cold fetch), each fetch followed by the two bare queries."""
    app = create_app(runtime, clock=FixedClock(NOW))
    sessions = await runtime.sessionmaker()
    db: AsyncEngine = sessions.kw["bind"]
    count = select(func.count()).select_from(Assignment).where(Assignment.round_id == round_id)
    async with sessions() as session:
        mine = await session.scalar(select(Assignment.id).where(Assignment.round_id == round_id,
                                                                Assignment.judge_name == "judge00").limit(1))
    committee, judge = await _client_for(app, "committee"), await _client_for(app, "judge00")
    pages = [("results", committee, f"/judging/rounds/{round_id}/results"),
             ("results by z-score", committee, f"/judging/rounds/{round_id}/results?by=normalised"),
             ("comparison", committee, f"/judging/rounds/{round_id}/compare"),
             ("comparison sorted", committee, f"/judging/rounds/{round_id}/compare?sort=rd_ratio&order=asc"),
             ("judge's scoring page", judge, f"/judge/assignments/{mine}")]
    figures, select1, counts = [], [], []
    try:
        for name, client, url in pages:
            first, size = await _timed(client, url)
            times = []
            for _ in range(samples):
                times.append((await _timed(client, url))[0])
                select1.append(await _bare(db, text("SELECT 1")))
                counts.append(await _bare(db, count))
            figures.append(PageFigures(page=name, samples=samples, first_ms=first, p50_ms=percentile(times, 50),
                                       p95_ms=percentile(times, 95), kib=size / 1024))
    finally:
        await committee.aclose()
        await judge.aclose()
    return figures, select1, counts


async def run_db(name: str, *, database_url: str | None, data_dir: Path, entries: int, background: int, judges: int,
                 samples: int) -> DbResult:
    """Seed, open, score, then measure the pages on one database."""
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=database_url, now=NOW,  # type: ignore[call-arg]
                        log_level="WARNING")
    runtime = Runtime.open(settings)
    try:
        started = time.perf_counter()
        await seed(runtime, entries=entries, background=background)
        round_id, cards = await open_and_score(runtime, judges=judges, per_entry=PER_ENTRY)
        setup = time.perf_counter() - started
        # The round stays open: the judge's scoring page is measured in it, and the committee's pages read the
        # same rows open or closed.
        pages, select1, counts = await measure(runtime, round_id, samples=samples)
    finally:
        await runtime.close()
    return DbResult(db=name, entries=entries, judges=judges, cards=cards, setup_s=setup, pages=pages,
                    select1_p50_ms=percentile(select1, 50), select1_p95_ms=percentile(select1, 95),
                    count_p50_ms=percentile(counts, 50), count_p95_ms=percentile(counts, 95))


async def run_postgres(**kwargs) -> DbResult | str:  # type: ignore[no-untyped-def]
    """The PostgreSQL run on a database of its own, dropped afterwards; a note instead when it is unreachable."""
    import asyncpg

    name = f"kcxf_bench_judging_{os.getpid()}"
    try:
        await admin(f'CREATE DATABASE "{name}"')
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL skipped: {PG_HOST}:{PG_PORT} unreachable ({type(exc).__name__}: {exc})"
    try:
        return await run_db("postgres", database_url=f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}",
                            **kwargs)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(*, entries: int = ENTRIES, background: int = BACKGROUND, judges: int = JUDGES, samples: int = SAMPLES,
              postgres: bool = True) -> tuple[list[DbResult], list[str]]:
    """Both databases, one after the other; the results and any notes (a skipped PostgreSQL)."""
    results: list[DbResult] = []
    notes: list[str] = []
    options = {"entries": entries, "background": background, "judges": judges, "samples": samples}
    with tempfile.TemporaryDirectory(prefix="kcxf-bench-judging-") as tmp:
        results.append(await run_db("sqlite", database_url=None, data_dir=Path(tmp) / "sqlite", **options))
        if postgres:
            outcome = await run_postgres(data_dir=Path(tmp) / "postgres", **options)
            if isinstance(outcome, str):
                notes.append(outcome)
            else:
                results.append(outcome)
    return results, notes


def print_table(results: Sequence[DbResult], notes: Sequence[str], console: Console | None = None) -> None:
    """Each page beside the same run's bare queries."""
    console = console or Console(width=160)
    if results:
        r = results[0]
        title = (f"Judging pages: a round of {r.entries} entries, {r.judges} judges, {r.cards} submitted cards "
                 "(GET through the console app; baseline = bare SELECT 1 / count on the same engine)")
    else:
        title = "Judging pages"
    table = Table(title=title)
    for col in ("db", "page", "first ms", "p50 ms", "p95 ms", "KiB", "SELECT 1 p50/p95 ms", "count p50/p95 ms",
                "p50 / SELECT 1"):
        table.add_column(col, justify="left" if col in ("db", "page") else "right")
    for r in results:
        for p in r.pages:
            table.add_row(r.db, p.page, f"{p.first_ms:.0f}", f"{p.p50_ms:.1f}", f"{p.p95_ms:.1f}", f"{p.kib:.0f}",
                          f"{r.select1_p50_ms:.2f} / {r.select1_p95_ms:.2f}",
                          f"{r.count_p50_ms:.2f} / {r.count_p95_ms:.2f}", f"{p.p50_ms / r.select1_p50_ms:.0f}×")
    console.print(table)
    for r in results:
        console.print(f"{r.db}: seeded, opened and scored in {r.setup_s:.1f} s")
    for note in notes:
        console.print(f"[yellow]{note}[/yellow]")


def main(argv: Sequence[str] | None = None) -> list[DbResult]:
    """Parse the options, run, print the table and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=ENTRIES, help=f"entries in the round (default {ENTRIES})")
    parser.add_argument("--judges", type=int, default=JUDGES, help=f"judges (default {JUDGES})")
    parser.add_argument("--samples", type=int, default=SAMPLES, help=f"fetches per page (default {SAMPLES})")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results, notes = asyncio.run(run(entries=args.entries, judges=args.judges, samples=args.samples,
                                     postgres=not args.no_postgres))
    print_table(results, notes)
    return results


if __name__ == "__main__":
    main()
