"""The curated FAQ: question variants in Chinese and English mapped to a short answer and its section."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.yaml_location import load_yaml

LANGS = ("zh", "en")


class FaqEntry(BaseModel):
    """One curated answer; `section` is the guideline section numeral (一…十一) it rests on."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    section: str
    questions: dict[str, list[str]]
    answer: dict[str, str]

    @field_validator("questions", "answer")
    @classmethod
    def _known_langs(cls, value: Mapping[str, Any]) -> Mapping[str, Any]:
        unknown = set(value) - set(LANGS)
        if unknown:
            raise ValueError(f"unknown language(s) {sorted(unknown)}; use zh and en")
        return value

    def records(self) -> list[FaqRecord]:
        """One index record per question variant, each carrying the whole answer."""
        out = []
        for lang, variants in self.questions.items():
            for order, question in enumerate(dict.fromkeys(q.strip() for q in variants if q.strip())):
                key = hashlib.sha1(f"{lang}:{question}".encode()).hexdigest()[:10]
                # `order` keeps the maintainer's sequence (the first variant is the entry's headline question).
                meta: dict[str, str | int] = {
                    "faq_id": self.id, "lang": lang, "question": question, "section": self.section,
                    "order": order, **{f"answer_{k}": v for k, v in self.answer.items()},
                }
                out.append(FaqRecord(id=f"{self.id}:{key}", question=question, metadata=meta))
        return out

    @classmethod
    def from_record(cls, meta: Mapping[str, Any]) -> FaqEntry:
        """Rebuild an entry (without its variants) from one stored record's metadata."""
        answers = {lang: str(meta[f"answer_{lang}"]) for lang in LANGS if f"answer_{lang}" in meta}
        return cls(id=str(meta["faq_id"]), section=str(meta["section"]), questions={}, answer=answers)


@dataclass(frozen=True)
class FaqRecord:
    id: str
    question: str
    metadata: dict[str, str | int]


class FaqFileError(ValueError):
    """An FAQ file that does not validate, naming the file and the entry."""


def load_faq(path: Path) -> list[FaqEntry]:
    """Read and validate an FAQ YAML file (a list of entries); ids must be unique."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise FaqFileError(f"{path}: {exc}") from exc
    if not isinstance(raw, list):
        raise FaqFileError(f"{path}: expected a list of FAQ entries")
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for n, item in enumerate(raw):
        try:
            entry = FaqEntry.model_validate(item)
        except ValidationError as exc:
            where = item.get("id", f"#{n}") if isinstance(item, dict) else f"#{n}"
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise FaqFileError(f"{path}: entry {where}: {problems}") from exc
        if entry.id in seen:
            raise FaqFileError(f"{path}: entry {entry.id}: duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def dump_faq(entries: list[FaqEntry]) -> str:
    """YAML text of the entries, in the shipped file's layout, for export and round trips."""
    data = [e.model_dump() for e in entries]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
