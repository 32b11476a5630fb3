"""Every benchmark in one go: rules Q&A (bench/qa.py), concurrent intake (bench/intake.py), the judging pages
(bench/judging.py) and the web chat beside Telegram (bench/webchat.py).

Prints each benchmark's own table, then writes bench/results.json (flat dotted keys, for comparing runs) and
bench/RESULTS.md (the same figures as readable tables, with the machine and the date).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench import intake, judging, qa, webchat  # noqa: E402

QA_COLUMNS = ("items", "zh_answerable", "en_answerable", "declined_correctly", "answered_wrong", "overall", "p50_ms",
              "p95_ms")
INTAKE_KEYS = ("applicants", "events", "steps_per_s", "p50_ms", "p95_ms", "submit_p50_ms", "submit_p95_ms",
               "commit_p50_ms", "commit_p95_ms", "ratio_to_commit", "errors", "lost", "submissions", "wall_s")
JUDGING_KEYS = ("entries", "judges", "cards", "select1_p50_ms", "select1_p95_ms", "count_p50_ms", "count_p95_ms")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def flatten(qa_figures: Mapping[str, Any], results: Sequence[intake.DbResult], notes: Sequence[str],
            judged: Sequence[judging.DbResult] = (), judging_notes: Sequence[str] = (),
            chats: Sequence[webchat.PathResult] = ()) -> dict[str, Any]:
    """The figures under dotted keys: qa.*, intake.<db>.*, judging.<db>.*, webchat.<path>.*, machine.*."""
    qa_runs: Mapping[str, Mapping[str, Any]] = qa_figures["qa"]
    main = qa_runs["qa.jsonl:kcxf"]
    flat: dict[str, Any] = {f"machine.{k}": v for k, v in machine().items()}
    flat |= {"qa.p50_ms": main["p50_ms"], "qa.p95_ms": main["p95_ms"], "qa.qps": qa_figures["qa_qps"],
             "qa.cold_start_s.empty": qa_figures["qa_cold_start_s"]["empty"],
             "qa.cold_start_s.built": qa_figures["qa_cold_start_s"]["built"], "qa.rss_mb": qa_figures["qa_rss_mb"],
             "qa.rss_mb_hashed": qa_figures["qa_rss_mb_hashed"]}
    flat |= {f"qa.threads_p95_ms.{load}": p95 for load, p95 in qa_figures["qa_threads_p95_ms"].items()}
    for run, summary in qa_figures["qa_ablation"].items():
        for key, value in summary.items():
            flat[f"qa.ablation.{run}.{key}"] = value
    for run, summary in qa_runs.items():
        for key, value in summary.items():
            flat[f"qa.runs.{run}.{key}"] = value
    for db in ("sqlite", "postgres", "postgres_webhook"):
        flat[f"intake.{db}.ratio_to_commit"] = None  # present (null) when that database was skipped
    for result in results:
        for key in INTAKE_KEYS:
            flat[f"intake.{result.db}.{key}"] = asdict(result)[key]
        flat[f"intake.{result.db}.problems"] = result.problems
    flat["intake.notes"] = list(notes)
    for r in judged:
        flat |= {f"judging.{r.db}.{k}": getattr(r, k) for k in JUDGING_KEYS}
        for p in r.pages:
            flat |= {f"judging.{r.db}.pages.{p.page}.{k}": getattr(p, k) for k in ("first_ms", "p50_ms", "p95_ms",
                                                                                   "kib", "samples")}
    flat["judging.notes"] = list(judging_notes)
    for c in chats:
        flat |= {f"webchat.{c.key}.{k}": getattr(c, k) for k in ("conversations", "steps", "steps_per_s", "p50_ms",
                                                                 "p95_ms", "lost")}
    return flat


def markdown(qa_figures: Mapping[str, Any], results: Sequence[intake.DbResult], notes: Sequence[str],
             judged: Sequence[judging.DbResult] = (), judging_notes: Sequence[str] = (),
             chats: Sequence[webchat.PathResult] = ()) -> str:
    """bench/RESULTS.md: both benchmarks as tables, with the machine and the date."""
    info = machine()
    lines = ["# Benchmark results", "",
             f"Measured {info['date']} on {info['nproc']} CPUs, Python {info['python']} ({info['platform']}), "
             "by `make bench` (bench/run.py). Each figure sits beside a baseline measured in the same run.", "",
             "## Rules Q&A (bench/qa.py)", "",
             "kcxf = eligibility + FAQ + hybrid BM25/vector + extractive; baseline = BM25 over character bigrams.",
             "", "| set:system | " + " | ".join(QA_COLUMNS) + " |", "|---" * (len(QA_COLUMNS) + 1) + "|"]
    for run, s in qa_figures["qa"].items():
        cells = [str(s["items"])] + [f"{s[k]:.1%}" for k in QA_COLUMNS[1:6]] + [f"{s['p50_ms']:.1f}",
                                                                                 f"{s['p95_ms']:.1f}"]
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
    lines += ["", "Ablation (bench/qa.py): each stage added to the one before.", "",
              "| set:stage | zh_answerable | en_answerable | declined_correctly | answered_wrong |", "|---" * 5 + "|"]
    for run, s in qa_figures["qa_ablation"].items():
        lines.append(f"| {run} | " + " | ".join(f"{s[k]:.1%}" for k in (
            "zh_answerable", "en_answerable", "declined_correctly", "answered_wrong")) + " |")
    lines += ["", f"Bot worker RSS (engine + knowledge base + embedding model, after answering): "
                  f"{qa_figures['qa_rss_mb']:.0f} MB (with the hashed function instead: "
                  f"{qa_figures['qa_rss_mb_hashed']:.0f} MB)."]
    cold = qa_figures["qa_cold_start_s"]
    lines += ["", f"Throughput after warm-up: {qa_figures['qa_qps']:.0f} questions/s; cold start to first answer "
                  f"{cold['empty']:.2f} s (empty data folder), {cold['built']:.2f} s (built).", "",
              "Holdout p95 by the model's threads (another process keeping one core busy, or not): " +
              "; ".join(f"{load} {p95:.1f} ms" for load, p95 in qa_figures["qa_threads_p95_ms"].items()) + ".", ""]
    applicants = results[0].applicants if results else 0
    lines += ["## Intake (bench/intake.py)", "",
              f"{applicants} applicants completing whole applications concurrently through one Engine "
              "(awards spread over the seven, frozen clock inside the window, declining answerer). "
              "sqlite and postgres: the engine as a bot's one worker (terminal, long polling), which goes on "
              "from what it committed for an applicant; postgres_webhook: as a webhook worker, which reads the "
              "conversation at every step. "
              "Baseline: one bare committed INSERT of a small row into a scratch table, same engine, driver and "
              "concurrency, half measured before the intake and half after; ratio_to_commit = step p50 / commit p50. Submit (queue + .docx + staff notice) is "
              "reported apart from the ordinary steps. lost = applicants whose record is missing, incomplete or "
              "differs from what they typed.", "",
              "| db | events | steps/s | step p50 ms | step p95 ms | submit p50 ms | submit p95 ms | commit p50 ms "
              "| commit p95 ms | ratio_to_commit | errors | lost |",
              "|---" * 12 + "|"]
    for r in results:
        lines.append(f"| {r.db} | {r.events} | {r.steps_per_s:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
                     f"{r.submit_p50_ms:.0f} | {r.submit_p95_ms:.0f} | {r.commit_p50_ms:.1f} | {r.commit_p95_ms:.1f} "
                     f"| {r.ratio_to_commit:.1f} | {r.errors} | {r.lost}/{r.applicants} |")
    for r in results:
        lines += [f"- {r.db}: {problem}" for problem in r.problems]
    lines += [f"- {note}" for note in notes]
    lines += ["", "## Judging pages (bench/judging.py)", ""]
    if judged:
        r = judged[0]
        lines += [f"A round of {r.entries} entries of one award (every entrant's figures different) and "
                  f"{r.judges} judges, 3 per entry, {r.cards} cards submitted; more entries of other awards in the "
                  "queue. Each page fetched through the console app (httpx ASGI transport, logged in as committee; "
                  "the scoring page as a judge), first fetch apart, then the samples, each followed by the "
                  "baseline: a bare `SELECT 1` and a `SELECT count(*)` of the round's cards on the same engine.", "",
                  "| db | page | first ms | p50 ms | p95 ms | KiB | SELECT 1 p50 / p95 ms | count p50 / p95 ms |",
                  "|---" * 8 + "|"]
        for r in judged:
            lines += [f"| {r.db} | {p.page} | {p.first_ms:.0f} | {p.p50_ms:.1f} | {p.p95_ms:.1f} | {p.kib:.0f} | "
                      f"{r.select1_p50_ms:.2f} / {r.select1_p95_ms:.2f} | {r.count_p50_ms:.2f} / {r.count_p95_ms:.2f} |"
                      for p in r.pages]
    lines += [f"- {note}" for note in judging_notes]
    if chats:
        lines += ["", "## Web chat beside Telegram (bench/webchat.py)", "",
                  f"{chats[0].conversations} conversations at once on each channel, one process, SQLite: /start, a "
                  "question, /apply, the pre-check by buttons, then answers; a step is one event in and its whole "
                  "reply out, timed at the client (web: HTTP on loopback; Telegram: python-telegram-bot polling "
                  "the Bot API stub). lost = conversations whose draft is missing or differs from what was typed.",
                  "", "| path | steps | steps/s | step p50 ms | step p95 ms | lost |", "|---" * 6 + "|"]
        lines += [f"| {c.path} | {c.steps} | {c.steps_per_s:.0f} | {c.p50_ms:.0f} | {c.p95_ms:.0f} | "
                  f"{c.lost}/{c.conversations} |" for c in chats]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Run every benchmark and write the results files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=200, help="concurrent applicants (default 200)")
    parser.add_argument("--no-postgres", action="store_true", help="intake and judging on SQLite only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    qa_figures = qa.main()
    results, notes = asyncio.run(intake.run(applicants=args.applicants, postgres=not args.no_postgres))
    intake.print_table(results, notes)
    judged, judging_notes = asyncio.run(judging.run(postgres=not args.no_postgres))
    judging.print_table(judged, judging_notes)
    chats = asyncio.run(webchat.run(webchat.CONVERSATIONS))
    webchat.print_table(chats)
    flat = flatten(qa_figures, results, notes, judged, judging_notes, chats)
    (BENCH / "results.json").write_text(json.dumps(flat, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (BENCH / "RESULTS.md").write_text(markdown(qa_figures, results, notes, judged, judging_notes, chats),
                                      encoding="utf-8")
    print(f"wrote {BENCH / 'results.json'} and {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
