"""What keeping the knowledge base live costs: the revision check per question, and a rebuild after an edit.

Runs the Q&A eval questions through one answerer three ways in the same process — not following the revision
(the baseline), checking it at most once a second (the default), and checking it before every question — and
prints p50/p95 per question for each. Then the cost of one revision read (SQLite, and PostgreSQL when a server
answers on 127.0.0.1:5432), of an FAQ edit from call to return (index write, revision bump, rebuild), and of the
rebuild that follows another process's edit (with and without reopening the embedded store).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime import Runtime  # noqa: E402
from config.settings import Settings  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import make_engine, make_sessionmaker  # noqa: E402
from knowledge.admin import FaqDraft  # noqa: E402
from knowledge.evaluate import load_eval  # noqa: E402
from knowledge.revision import DbRevisions, bump_revision  # noqa: E402

EVAL_FILES = [ROOT / "knowledge" / "eval" / name for name in ("qa.jsonl", "holdout.jsonl")]
ROUNDS = 3
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 95))


async def per_question(runtime: Runtime, questions: list[str], *, every_s: float | None) -> list[float]:
    """Milliseconds per answer (measured around the call, revision check included)."""
    kb = runtime.knowledge
    kb.revisions = None
    if every_s is not None:
        await kb.follow(runtime.knowledge_revisions, every_s=every_s)
    out = []
    for question in questions:
        started = time.perf_counter()
        await kb.answer(question)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def revision_reads(revisions: DbRevisions, n: int = 300) -> list[float]:
    await revisions.current()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await revisions.current()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def postgres_reads() -> list[float] | str:
    """Revision reads on a PostgreSQL database of our own (created and dropped here), or why not."""
    try:
        import asyncpg

        admin = await asyncpg.connect(database="postgres", timeout=5, **PG_ADMIN)
    except Exception as exc:  # no server here: say so instead of failing the whole benchmark
        return f"PostgreSQL not reachable ({type(exc).__name__})"
    name = f"kcxf_bench_live_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await bump_revision(session, edition=1, reason="bench")

        async def maker():  # type: ignore[no-untyped-def]
            return sessions

        return await revision_reads(DbRevisions(maker, edition=1))
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE "{name}"')
        await admin.close()


async def measure(data_dir: Path) -> dict[str, object]:
    runtime = Runtime.open(Settings(_env_file=None, data_dir=data_dir))  # type: ignore[call-arg]
    questions = [item.question for path in EVAL_FILES for item in load_eval(path)]
    await per_question(runtime, questions, every_s=None)  # warm-up: caches filled on first use
    modes = {"baseline (no revision check)": None, "check at most every 1 s": 1.0,
             "check before every question": 0.0}
    samples: dict[str, list[float]] = {label: [] for label in modes}
    # Interleaved rounds, so a neighbour's load on a shared machine falls on every mode alike.
    for _ in range(ROUNDS):
        for label, every in modes.items():
            samples[label] += await per_question(runtime, questions, every_s=every)
    figures: dict[str, object] = {}
    for label, got in samples.items():
        p50, p95 = percentiles(got)
        figures[label] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
    sqlite = percentiles(await revision_reads(runtime.knowledge_revisions))
    figures["revision read, SQLite"] = {"p50_ms": round(sqlite[0], 3), "p95_ms": round(sqlite[1], 3)}
    pg = await postgres_reads()
    figures["revision read, PostgreSQL"] = (
        pg if isinstance(pg, str) else {"p50_ms": round(percentiles(pg)[0], 3), "p95_ms": round(percentiles(pg)[1], 3)}
    )

    admin, kb = runtime.knowledge_admin, runtime.knowledge
    draft = FaqDraft(section="八", questions={"zh": ["论坛现场提供午餐吗"]}, answer={"zh": "提供。"})
    started = time.perf_counter()
    entry = await admin.add_faq(draft, by="bench")
    figures["FAQ add, call to return (s)"] = round(time.perf_counter() - started, 3)
    await admin.delete_faq(entry.id, by="bench")
    rebuilds, reopens = [], []
    for _ in range(5):
        started = time.perf_counter()
        await kb.reload(reopen=False)
        rebuilds.append(time.perf_counter() - started)
        started = time.perf_counter()
        await kb.reload(reopen=True)
        reopens.append(time.perf_counter() - started)
    figures["rebuild after a remote edit (s)"] = round(statistics.median(rebuilds), 3)
    figures["rebuild + reopen embedded store (s)"] = round(statistics.median(reopens), 3)
    await runtime.close()
    return figures


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(Path(tmp) / "var"))
    table = Table(title="Live knowledge: what the revision check and a rebuild cost (eval questions, one process)")
    table.add_column("measure")
    table.add_column("p50 / value", justify="right")
    table.add_column("p95", justify="right")
    for key, value in figures.items():
        if isinstance(value, dict):
            table.add_row(key, f"{value['p50_ms']} ms", f"{value['p95_ms']} ms")
        else:
            table.add_row(key, str(value), "")
    Console().print(table)
    print(json.dumps({"knowledge_live": figures}, ensure_ascii=False))
    return figures


if __name__ == "__main__":
    main()
