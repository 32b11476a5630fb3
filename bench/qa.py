"""Rules Q&A benchmark on the committed eval set: the default stack beside a plain baseline, same run.

Prints pass rates per language, declined-correctly rate, p50/p95 latency, and cold-start times.
Baseline: BM25 over character bigrams, answering with its top passage (it never declines).
Targets (DESIGN.md): ≥ 95 % answerable correct in zh and en, ≥ 90 % declined correctly, p95 ≤ 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import bm25s
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime import Runtime  # noqa: E402
from config.settings import Settings  # noqa: E402
from knowledge.answer import Answer  # noqa: E402
from knowledge.evaluate import EvalReport, evaluate, load_eval  # noqa: E402
from knowledge.tokens import detect_lang, is_han, normalize  # noqa: E402

EVAL_FILE = ROOT / "knowledge" / "eval" / "qa.jsonl"


def bigrams(text: str) -> list[str]:
    """Character bigrams of Chinese runs plus lower-cased Latin words: the simplest reasonable lexical key."""
    text = normalize(text)
    grams, run, word = [], [], []
    for ch in text + " ":
        if is_han(ch):
            run.append(ch)
        else:
            grams += [a + b for a, b in zip(run, run[1:], strict=False)] or run
            run = []
        if ch.isascii() and ch.isalnum():
            word.append(ch)
        elif word:
            grams.append("".join(word))
            word = []
    return grams


class BigramBaseline:
    """Answers with the single best passage by BM25 over bigrams, in the question's language."""

    def __init__(self, runtime: Runtime) -> None:
        self.by_lang: dict[str, tuple[list[str], bm25s.BM25]] = {}
        chunks = runtime.index.chunks()
        for lang in {c.lang for c in chunks}:
            texts = [c.plain_text for c in chunks if c.lang == lang]
            model = bm25s.BM25()
            model.index([bigrams(t) for t in texts], show_progress=False)
            self.by_lang[lang] = (texts, model)

    async def answer(self, question: str, lang: str | None = None) -> Answer:
        started = time.perf_counter()
        lang = lang or detect_lang(question)
        texts, model = self.by_lang[lang]
        scores = model.get_scores(bigrams(question))
        best = int(scores.argmax())
        return Answer(question=question, lang=lang, answered=True, answer=texts[best], via="extractive",
                      latency_ms=(time.perf_counter() - started) * 1000)


def cold_start(data_dir: Path) -> tuple[float, float]:
    """Seconds from process-level open to the first answer: on an empty data folder, then on a built one."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        runtime = Runtime.open(Settings(_env_file=None, data_dir=data_dir))  # type: ignore[call-arg]
        asyncio.run(runtime.knowledge.answer("报名截止时间是什么时候？"))
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def main() -> None:
    console = Console()
    items = load_eval(EVAL_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        first, warm = cold_start(Path(tmp) / "var")
        runtime = Runtime.open(Settings(_env_file=None, data_dir=Path(tmp) / "var"))  # type: ignore[call-arg]
        kb = runtime.knowledge
        asyncio.run(kb.answer("warm-up 预热"))
        reports: dict[str, EvalReport] = {
            "kcxf (FAQ + hybrid BM25/vector + extractive)": asyncio.run(evaluate(kb, items)),
            "baseline (BM25 char bigrams, top passage)": asyncio.run(evaluate(BigramBaseline(runtime), items)),
        }
        # Throughput: the whole eval set asked again, back to back, after warm-up.
        started = time.perf_counter()
        asyncio.run(evaluate(kb, items))
        qps = len(items) / (time.perf_counter() - started)

    table = Table(title=f"Rules Q&A on {EVAL_FILE.relative_to(ROOT)} ({len(items)} items)")
    for col in ("system", "zh answerable", "en answerable", "declined correctly", "overall", "p50 ms", "p95 ms"):
        table.add_column(col, justify="right" if col != "system" else "left")
    results = {}
    for name, report in reports.items():
        s = report.summary()
        results[name] = s
        table.add_row(name, *(f"{s[k]:.1%}" for k in ("zh_answerable", "en_answerable", "declined_correctly",
                                                         "overall")), f"{s['p50_ms']:.1f}", f"{s['p95_ms']:.1f}")
    console.print(table)
    counts = reports[next(iter(reports))]
    console.print(f"items: zh answerable {counts.count(lang='zh', answerable=True)}, en answerable "
                  f"{counts.count(lang='en', answerable=True)}, unanswerable {counts.count(answerable=False)}")
    console.print(f"throughput after warm-up: {qps:.0f} questions/s (one process, sequential)")
    console.print(f"cold start to first answer: {first:.2f} s on an empty data folder (index built), "
                  f"{warm:.2f} s on a built one")
    failures = reports[next(iter(reports))].failures
    for item, answer in failures:
        console.print(f"[red]FAIL[/red] {item.id}: {item.question!r} → {answer.via}: {answer.answer[:100]!r}",
                      highlight=False)
    print(json.dumps({"qa": results, "qa_cold_start_s": {"empty": first, "built": warm}, "qa_qps": qps}))


if __name__ == "__main__":
    main()
