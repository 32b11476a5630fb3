"""Concurrent intake benchmark: N applicants completing whole applications through one Engine, per database.

Every applicant is an asyncio task with its own UserRef, driving the engine by what its replies show (pre-check
buttons, one typed answer per question, summary confirm, declarations); awards are spread over the seven.
The clock is frozen inside the application window (as KCXF_NOW does) and the answerer declines (nothing is asked).
Run on SQLite (a temporary data folder) and on PostgreSQL (a database created and dropped here; skipped with a
note when 127.0.0.1:5432 does not answer), each with the engine as a bot's one worker (terminal, long polling),
which goes on from what it committed for an applicant; and on PostgreSQL once more as a webhook worker
(`postgres_webhook`), which reads the conversation at every step because other workers may have moved it.

Baseline, measured in the same run on the same engine and driver at the same concurrency, half before the
intake and half after it: one bare committed write (an INSERT of a small row into a scratch table, in its own
transaction). ratio_to_commit = p50 step / p50
bare commit, so the figure says how many plain commits one conversation step costs on that database.
The submit step (queue + .docx rendering + staff notice) is reported apart from the ordinary steps.
Afterwards every record is checked: exactly N submissions, each complete (intake.complete.completeness) and
holding exactly what its applicant typed; `lost` counts the applicants for whom that does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import Column, Integer, MetaData, String, insert
from sqlalchemy import Table as SATable
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.language import DEFAULT_LANG  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from config.settings import Settings  # noqa: E402
from tests.intake.applicants import AWARDS, Applicant, Decliner, run_applicant, verify  # noqa: E402
from tests.scratch_pg import PG_HOST, PG_PORT, PG_USER, admin  # noqa: E402

log = logging.getLogger(__name__)

# Inside the 2024 window (deadline 2024-10-21 00:00 +08:00), as KCXF_NOW=2024-10-01T10:00:00+08:00 would set it.
FROZEN_NOW = datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# Bare commits per task in the baseline, half before the intake and half after. With 10, the two halves lasted
# under a second each on PostgreSQL and their p50 swung from 92 to 177 ms between runs of the same code; with 40
# (about 4 s a half) from 124 to 146 ms.
COMMITS_PER_TASK = 40


@dataclass(frozen=True)
class DbResult:
    """The figures of one database."""

    db: str
    applicants: int
    steps_per_s: float
    p50_ms: float
    p95_ms: float
    submit_p50_ms: float
    submit_p95_ms: float
    events: int
    errors: int
    commit_p50_ms: float
    commit_p95_ms: float
    ratio_to_commit: float
    wall_s: float
    lost: int
    submissions: int
    problems: list[str] = field(default_factory=list)


async def _bare_commits(db: AsyncEngine, *, tasks: int, per_task: int) -> list[float]:
    """Latencies of single-row INSERTs, each committed alone, from `tasks` concurrent tasks."""
    metadata = MetaData()
    scratch = SATable("bench_scratch", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                      Column("task", Integer, nullable=False), Column("note", String(32), nullable=False))
    async with db.begin() as conn:
        await conn.run_sync(metadata.create_all)
    latencies: list[float] = []

    async def one(task: int) -> None:
        for i in range(per_task):
            started = time.perf_counter()
            async with db.begin() as conn:
                await conn.execute(insert(scratch).values(task=task, note=f"row {i}"))
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(one(t) for t in range(tasks)))
    async with db.begin() as conn:
        await conn.run_sync(metadata.drop_all)
    return latencies


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def run_db(name: str, *, database_url: str | None, applicants: int, data_dir: Path,
                 webhook: bool = False) -> DbResult:
    """Run the whole benchmark on one database and verify what it stored; `webhook`: as a webhook worker."""
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=database_url, now=FROZEN_NOW,  # type: ignore[call-arg]
                        log_level="WARNING", telegram_webhook_url="https://bench.invalid/tg" if webhook else None)
    runtime = Runtime.open(settings)
    engine = await runtime.engine(answerer=Decliner())
    db: AsyncEngine = engine.sessionmaker.kw["bind"]  # the same engine and driver the conversation uses
    try:
        # Half the baseline before the intake and half after, on the database as it then is: one pass alone
        # swung by a fifth between runs.
        commits = await _bare_commits(db, tasks=applicants, per_task=COMMITS_PER_TASK // 2)
        today = FROZEN_NOW.date()
        forms = runtime.forms
        people = [Applicant(n=n, form=forms[AWARDS[n % len(AWARDS)]], today=today) for n in range(applicants)]
        error_text = runtime.texts.t("engine.error", DEFAULT_LANG)
        started = time.perf_counter()
        await asyncio.gather(*(run_applicant(engine, a, error_text) for a in people))
        wall = time.perf_counter() - started
        commits += await _bare_commits(db, tasks=applicants, per_task=COMMITS_PER_TASK // 2)
        lost, stored, problems = await verify(runtime, people)
    finally:
        await runtime.close()
    steps = [ms for a in people for ms in a.steps_ms]
    submits = [ms for a in people for ms in a.submit_ms]
    events = len(steps) + len(submits)
    p50, commit_p50 = percentile(steps, 50), percentile(commits, 50)
    return DbResult(
        db=name, applicants=applicants, steps_per_s=events / wall, p50_ms=p50, p95_ms=percentile(steps, 95),
        submit_p50_ms=percentile(submits, 50), submit_p95_ms=percentile(submits, 95), events=events,
        errors=sum(a.errors for a in people), commit_p50_ms=commit_p50, commit_p95_ms=percentile(commits, 95),
        ratio_to_commit=p50 / commit_p50, wall_s=wall, lost=lost, submissions=stored, problems=problems,
    )


async def run_postgres(*, applicants: int, data_dir: Path, webhook: bool = False) -> DbResult | str:
    """The PostgreSQL run on a database of its own, dropped afterwards; a note instead when it is unreachable."""
    name = f"kcxf_bench_{os.getpid()}{'_webhook' if webhook else ''}"
    try:
        import asyncpg
    except ImportError:
        return "PostgreSQL skipped: asyncpg is not installed"
    try:
        await admin(f'CREATE DATABASE "{name}"')
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL skipped: {PG_HOST}:{PG_PORT} unreachable ({type(exc).__name__}: {exc})"
    try:
        url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
        return await run_db("postgres_webhook" if webhook else "postgres", database_url=url, applicants=applicants,
                            data_dir=data_dir, webhook=webhook)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(*, applicants: int, postgres: bool = True) -> tuple[list[DbResult], list[str]]:
    """Both databases, one after the other; the results and any notes (a skipped PostgreSQL)."""
    results: list[DbResult] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kcxf-bench-") as tmp:
        results.append(await run_db("sqlite", database_url=None, applicants=applicants,
                                    data_dir=Path(tmp) / "sqlite"))
        for webhook in (False, True) if postgres else ():
            outcome = await run_postgres(applicants=applicants, data_dir=Path(tmp) / f"postgres{int(webhook)}",
                                         webhook=webhook)
            if isinstance(outcome, str):
                notes.append(outcome)
                break
            results.append(outcome)
    return results, notes


def print_table(results: Sequence[DbResult], notes: Sequence[str], console: Console | None = None) -> None:
    """The figures beside the same run's bare-commit baseline."""
    console = console or Console(width=190)
    applicants = results[0].applicants if results else 0
    table = Table(title=f"Intake: {applicants} concurrent applicants, one Engine "
                        "(baseline = one bare committed INSERT, same engine/driver/concurrency)")
    for col in ("db", "events", "steps/s", "step p50 ms", "step p95 ms", "submit p50 ms", "submit p95 ms",
                "commit p50 ms", "commit p95 ms", "ratio_to_commit", "errors", "lost"):
        table.add_column(col, justify="left" if col == "db" else "right")
    for r in results:
        table.add_row(r.db, str(r.events), f"{r.steps_per_s:.0f}", f"{r.p50_ms:.1f}", f"{r.p95_ms:.1f}",
                      f"{r.submit_p50_ms:.0f}", f"{r.submit_p95_ms:.0f}", f"{r.commit_p50_ms:.1f}",
                      f"{r.commit_p95_ms:.1f}", f"{r.ratio_to_commit:.1f}", str(r.errors),
                      f"{r.lost}/{r.applicants}")
    console.print(table)
    for r in results:
        console.print(f"{r.db}: {r.submissions} submissions stored in {r.wall_s:.1f} s of intake")
        for problem in r.problems:
            console.print(f"[red]LOST[/red] {r.db}: {problem}", highlight=False)
    for note in notes:
        console.print(f"[yellow]{note}[/yellow]")


def main(argv: Sequence[str] | None = None) -> list[DbResult]:
    """Parse the options, run, print the table and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=200, help="concurrent applicants (default 200)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results, notes = asyncio.run(run(applicants=args.applicants, postgres=not args.no_postgres))
    print_table(results, notes)
    return results


if __name__ == "__main__":
    main()
