"""Score the answerer on an evaluation file: facts found per answerable item, declines on the rest."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from knowledge.answer import Answer, Answerer
from knowledge.question import to_simplified

# Spacing and dashes are typography, not content: "business-model" is "business model", "3–5" is "3-5".
_SPACE = re.compile(r"[\s\-‐‑–—]+")


class EvalItem(BaseModel):
    """One line of an evaluation file; `facts` is a list of facts, each a list of acceptable strings."""

    id: str
    lang: str
    question: str
    answerable: bool
    facts: list[list[str]] = []


@dataclass
class EvalReport:
    """Pass rates by group, latency percentiles and the failures with what went wrong."""

    results: list[tuple[EvalItem, Answer, bool]] = field(default_factory=list)

    def rate(self, *, lang: str | None = None, answerable: bool | None = None) -> float | None:
        picked = [ok for item, _, ok in self.results
                  if (lang is None or item.lang == lang) and (answerable is None or item.answerable == answerable)]
        return sum(picked) / len(picked) if picked else None

    def count(self, *, lang: str | None = None, answerable: bool | None = None) -> int:
        return sum(1 for item, _, _ in self.results
                   if (lang is None or item.lang == lang) and (answerable is None or item.answerable == answerable))

    def wrong(self, *, lang: str | None = None) -> float | None:
        """Answerable questions answered with the wrong facts, as a share of the answerable ones (a decline is
        not counted: a wrong answer misleads, a decline sends the asker to the committee)."""
        picked = [answer.answered and not ok for item, answer, ok in self.results
                  if item.answerable and (lang is None or item.lang == lang)]
        return sum(picked) / len(picked) if picked else None

    def latency_ms(self, q: float) -> float:
        return float(np.percentile([a.latency_ms for _, a, _ in self.results], q)) if self.results else 0.0

    @property
    def failures(self) -> list[tuple[EvalItem, Answer]]:
        return [(item, answer) for item, answer, ok in self.results if not ok]

    def summary(self) -> dict[str, float | int | None]:
        """The figures a benchmark or the CLI prints."""
        return {
            "items": len(self.results),
            "overall": self.rate(),
            "zh_answerable": self.rate(lang="zh", answerable=True),
            "en_answerable": self.rate(lang="en", answerable=True),
            "declined_correctly": self.rate(answerable=False),
            "answered_wrong": self.wrong(),
            "p50_ms": round(self.latency_ms(50), 2),
            "p95_ms": round(self.latency_ms(95), 2),
        }


def load_eval(path: Path) -> list[EvalItem]:
    """Parse a JSONL evaluation file, naming the line of any malformed item."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(EvalItem.model_validate(json.loads(line)))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return items


def passes(item: EvalItem, answer: Answer) -> bool:
    """Every fact present (whitespace and dashes removed, lower case, either Chinese script) in the asker's
    language, or a correct decline.

    A question in traditional characters is answered in them, and a fact may be written in either script.
    """
    if not item.answerable:
        return not answer.answered
    if not answer.answered or answer.lang != item.lang:
        return False
    text = _comparable(answer.answer)
    return all(any(_comparable(alt) in text for alt in fact) for fact in item.facts)


def _comparable(text: str) -> str:
    return to_simplified(_SPACE.sub("", text)).lower()


async def evaluate(answerer: Answerer, items: Iterable[EvalItem]) -> EvalReport:
    """Ask every question as an entrant would (language detected, not given) and score the answers."""
    report = EvalReport()
    for item in items:
        answer = await answerer.answer(item.question)
        report.results.append((item, answer, passes(item, answer)))
    return report
