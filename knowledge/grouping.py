"""Group logged messages that ask the same thing, so a maintainer answers a question once, not once per asker.

Two messages are one question when their wording is identical after normalisation (NFKC, case, punctuation,
spaces, traditional → simplified characters where a converter is installed), or when the retrieval's own
embedding puts them close together. How close is "close" depends on the embedding function: the offline hashed
n-grams give unrelated questions about 0 and near-duplicates 0.6–0.9, while sentence models put even unrelated
questions on one topic at 0.5–0.8. So the threshold is calibrated for whatever function the index uses, on a
small set of labelled pairs shipped as data (grouping_pairs.yaml), unless a setting fixes it.
"""

from __future__ import annotations

import logging
import math
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from config.yaml_location import load_yaml
from knowledge.unanswered import DISLIKED, LoggedQuestion

__all__ = [
    "MAX_MESSAGES",
    "PAIRS_FILE",
    "QuestionGroup",
    "Similarity",
    "calibrate",
    "group_messages",
    "normalise",
    "rank",
]

log = logging.getLogger(__name__)

PAIRS_FILE = Path(__file__).with_name("grouping_pairs.yaml")
# A wrong merge hides a question behind another one's answer; a missed merge only shows one more row.
FALSE_MERGE_COST = 2.0
# How fast a group's weight fades: a message a week old counts half as much as one from today.
HALF_LIFE_DAYS = 7.0
MAX_CACHED = 50_000
# The newest messages grouped on a read: far more than a campaign's maintainers can read, few enough to group in
# well under a second with the offline embedding.
MAX_MESSAGES = 5000


@cache
def _to_simplified() -> Callable[[str], str] | None:
    """OpenCC's traditional → simplified converter when the package is installed (it is optional)."""
    try:
        import opencc  # type: ignore[import-not-found]
    except ImportError:
        return None
    converter = opencc.OpenCC("t2s")
    return converter.convert  # type: ignore[no-any-return]


def normalise(text: str) -> str:
    """The wording two identical questions share: NFKC, lower case, simplified characters, letters and digits only.

    A message with no letter or digit at all (emoji, punctuation) keeps its symbols, so "👍" and "🙏" stay apart.
    """
    plain = unicodedata.normalize("NFKC", text).lower()
    convert = _to_simplified()
    if convert is not None:
        plain = convert(plain)
    kept = "".join(c for c in plain if unicodedata.category(c)[0] in "LN")
    return kept or "".join(plain.split())


class Similarity:
    """The index's embedding function seen as "how alike are these texts", with the threshold for one question.

    Vectors are cached by text: a page view re-groups hundreds of messages, and a real model should embed each
    wording once per process.
    """

    def __init__(self, embed: Callable[[list[str]], Sequence[Any]], *, threshold: float | None = None,
                 pairs_file: Path = PAIRS_FILE) -> None:
        self._embed = embed
        self._fixed = threshold
        self._pairs_file = pairs_file
        self._calibrated: float | None = None
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text (a zero row for a text the function gives nothing for)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            got = np.asarray(self._embed(missing), dtype=np.float32).reshape(len(missing), -1)
            norms = np.linalg.norm(got, axis=1, keepdims=True)
            got = np.divide(got, norms, out=np.zeros_like(got), where=norms > 0)
            with self._lock:
                if len(self._cache) + len(missing) > MAX_CACHED:
                    self._cache.clear()
                self._cache.update(zip(missing, got, strict=True))
        rows = [self._cache.get(t) for t in texts]
        if any(r is None for r in rows):  # evicted meanwhile by another thread: embed what is gone again
            return self.vectors(texts)
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    @property
    def threshold(self) -> float:
        """The cosine at or above which two wordings are one question (fixed by a setting, else calibrated)."""
        if self._fixed is not None:
            return self._fixed
        if self._calibrated is None:
            same, different = _load_pairs(self._pairs_file)
            self._calibrated = calibrate(self._cosines(same), self._cosines(different))
            log.info("question grouping threshold calibrated at %.3f", self._calibrated)
        return self._calibrated

    def _cosines(self, pairs: list[tuple[str, str]]) -> list[float]:
        vectors = self.vectors([t for pair in pairs for t in pair])
        return [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(pairs))]


def calibrate(same: Sequence[float], different: Sequence[float]) -> float:
    """The cosine that best tells labelled same-question pairs from different-question ones.

    Every midpoint between two observed values is tried; a different pair counted as the same costs twice a same
    pair missed. Among equally good cut points the middle one is taken, away from both sides.
    """
    values = sorted({*same, *different})
    cuts = [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] or values
    costs = [sum(s < c for s in same) + FALSE_MERGE_COST * sum(d >= c for d in different) for c in cuts]
    best = min(costs)
    chosen = [c for c, cost in zip(cuts, costs, strict=True) if cost == best]
    return float(min(max(chosen[len(chosen) // 2], 0.05), 0.99))


@cache
def _load_pairs(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    data = load_yaml(path.read_text(encoding="utf-8"))
    same = [(str(a), str(b)) for a, b in data["same"]]
    different = [(str(a), str(b)) for a, b in data["different"]]
    return same, different


@dataclass(frozen=True)
class QuestionGroup:
    """Logged messages asking one thing, newest first, with what a maintainer needs to weigh and answer them."""

    members: tuple[LoggedQuestion, ...]
    question: str

    @property
    def anchor(self) -> int:
        """The id of its oldest message: stays the group's name while new askers join it."""
        return min(m.id for m in self.members)

    @property
    def ids(self) -> list[int]:
        return sorted(m.id for m in self.members)

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def langs(self) -> list[str]:
        """Its languages, the most used first."""
        return [lang for lang, _ in Counter(m.lang for m in self.members).most_common()]

    @property
    def lang(self) -> str:
        return self.langs[0]

    @property
    def channels(self) -> list[str]:
        return [c for c, _ in Counter(m.channel for m in self.members).most_common()]

    @property
    def first_seen(self) -> datetime:
        return min(m.created_at for m in self.members)

    @property
    def last_seen(self) -> datetime:
        return max(m.created_at for m in self.members)

    @property
    def disliked(self) -> int:
        """How many of its messages are answers the asker marked as unhelpful (👎) rather than declines."""
        return sum(m.kind == DISLIKED for m in self.members)

    @property
    def open(self) -> bool:
        return any(not m.resolved for m in self.members)

    @property
    def faq_ids(self) -> list[str]:
        """The FAQ entries that answered its messages."""
        return sorted({m.faq_id for m in self.members if m.faq_id})

    @property
    def wordings(self) -> list[tuple[str, str]]:
        """Its distinct wordings as (lang, text), the most asked first: the variants of an FAQ entry for it."""
        counts = Counter((m.lang, normalise(m.question)) for m in self.members)
        first: dict[tuple[str, str], str] = {}
        for m in sorted(self.members, key=lambda m: m.created_at):
            first.setdefault((m.lang, normalise(m.question)), m.question.strip())
        return [(key[0], first[key]) for key, _ in counts.most_common()]

    def new_since(self, when: datetime | None) -> int:
        """How many of its messages came after `when` (all of them when never looked at)."""
        return self.count if when is None else sum(m.created_at > when for m in self.members)

    def weight(self, now: datetime) -> float:
        """Count and recency in one figure: each message counts 1, halved for every HALF_LIFE_DAYS of age."""
        return sum(0.5 ** (max((now - m.created_at).total_seconds(), 0) / 86400 / HALF_LIFE_DAYS)
                   for m in self.members)


def group_messages(messages: Iterable[LoggedQuestion], similarity: Similarity) -> list[QuestionGroup]:
    """Messages grouped: identical wordings first, then each wording joins the group whose centre it is close to.

    Wordings are taken most asked first, so a common question forms its group before its rarer paraphrases come
    along. Comparing with a group's centre (not with its nearest member) keeps a chain of small steps from
    joining two different questions.
    """
    by_key: dict[str, list[LoggedQuestion]] = {}
    for message in messages:
        by_key.setdefault(normalise(message.question), []).append(message)
    if not by_key:
        return []
    keys = sorted(by_key, key=lambda k: (-len(by_key[k]), min(m.created_at for m in by_key[k]), k))
    wordings = [_most_common_wording(by_key[k]) for k in keys]
    vectors = similarity.vectors(wordings)
    threshold = similarity.threshold
    sums: list[np.ndarray] = []
    clusters: list[list[int]] = []
    for i, key in enumerate(keys):
        vector = vectors[i] * len(by_key[key])
        if sums and float(np.linalg.norm(vectors[i])) > 0:
            centres = np.stack(sums)
            norms = np.linalg.norm(centres, axis=1)
            cosines = (centres @ vectors[i]) / np.where(norms > 0, norms, math.inf)
            best = int(np.argmax(cosines))
            if cosines[best] >= threshold:
                clusters[best].append(i)
                sums[best] = sums[best] + vector
                continue
        clusters.append([i])
        sums.append(vector)
    groups = []
    for cluster in clusters:
        members = [m for i in cluster for m in by_key[keys[i]]]
        members.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        groups.append(QuestionGroup(members=tuple(members), question=wordings[cluster[0]]))
    return groups


def rank(groups: Iterable[QuestionGroup], *, now: datetime) -> list[QuestionGroup]:
    """Most pressing first: by weight (count, faded by age), then the most recently asked."""
    return sorted(groups, key=lambda g: (-round(g.weight(now), 6), -g.last_seen.timestamp(), g.anchor))


def _most_common_wording(messages: list[LoggedQuestion]) -> str:
    counts = Counter(m.question.strip() for m in messages)
    top = max(counts.values())
    # Of equally common wordings, the one first asked: stable while the group grows.
    return next(m.question.strip() for m in sorted(messages, key=lambda m: (m.created_at, m.id))
                if counts[m.question.strip()] == top)
