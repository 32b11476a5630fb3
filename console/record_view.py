"""A queue record as the record page shows it: the form's sections and labels, formatted answers, problems.

Values are formatted by intake.render.format_value — the same text the generated 申报表 shows — and identity
numbers and phones are masked for roles that may not read them (console.staff.may_see_identifiers), in the
fields meant for them and wherever else they were typed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from intake.complete import completeness
from intake.forms import Field, FieldGroup, Form
from intake.render import format_value
from intake.sensitive import FREE_TEXT_TYPES, SENSITIVE_TYPES, AnswerMask, mask, redact

__all__ = ["AnswerRow", "GroupView", "RecordView", "SectionView", "build_view"]

LONG_TYPES = frozenset({"long_text"})


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One answer: its label, its text, and why the entry is incomplete there (if it is)."""

    label: str
    value: str
    problem: str | None = None
    masked: bool = False
    long: bool = False
    empty: bool = False
    kind: str = "row"


@dataclass(frozen=True, slots=True)
class GroupView:
    """A repeated group (e.g. 科创项目): one list of rows per item."""

    label: str
    items: list[list[AnswerRow]]
    problem: str | None = None
    kind: str = "group"


@dataclass(frozen=True, slots=True)
class SectionView:
    """A section of the form with its answers in form order."""

    title: str
    parts: list[AnswerRow | GroupView]


@dataclass(frozen=True, slots=True)
class RecordView:
    """Every section, and how many completeness problems the entry has."""

    sections: list[SectionView]
    problems: int
    value_lang: str = "zh"
    unknown: list[AnswerRow] = field(default_factory=list)


def build_view(
    form: Form, answers: Mapping[str, Any], *, lang: str, masking: AnswerMask | None, today: date | None
) -> RecordView:
    """The record page's view of an entry, labels in `lang`; with `masking` (for roles that may not read
    identifiers), sensitive values masked and identifiers in free text and unknown answers too."""
    masked = masking is not None
    rule = form.language_rule(answers)
    value_lang = rule.language if rule else "zh"
    found = completeness(form, answers, today=today)
    problems = {(p.field_id, p.item): p.reason.get(lang) for p in found}

    def row(entry: Field, value: Any, item: int | None) -> AnswerRow:
        hidden = masked and entry.type in SENSITIVE_TYPES and value not in (None, "")
        text = mask(str(value)) if hidden else format_value(entry, value, lang=lang, value_lang=value_lang)
        if masked and entry.type in FREE_TEXT_TYPES:
            text = redact(text)
        return AnswerRow(label=entry.label.get(lang), value=text, problem=problems.get((entry.id, item)),
                         masked=hidden, long=entry.type in LONG_TYPES, empty=value in (None, "", [], {}))

    sections: list[SectionView] = []
    shown: set[str] = set()
    for section in form.sections:
        parts: list[AnswerRow | GroupView] = []
        for entry in section.fields:
            shown.add(entry.id)
            if isinstance(entry, FieldGroup):
                raw = answers.get(entry.id)
                items = [i for i in raw if isinstance(i, Mapping)] if isinstance(raw, list) else []
                parts.append(GroupView(
                    label=entry.label.get(lang),
                    items=[[row(f, item.get(f.id), n) for f in entry.fields] for n, item in enumerate(items)],
                    problem=problems.get((entry.id, None)),
                ))
            elif form.visible(entry, answers):
                parts.append(row(entry, answers.get(entry.id), None))
        if parts:
            sections.append(SectionView(title=section.title.get(lang), parts=parts))
    # Answers to fields the form no longer has (an older edition's form): shown as stored, never dropped; through
    # the mask, which knows every form's sensitive fields and redacts what it cannot place.
    unknown = [AnswerRow(label=key, value=_as_text(masking.value(key, value) if masking else value))
               for key, value in answers.items() if key not in shown and not _hidden_field(form, key)]
    return RecordView(sections=sections, problems=len(found), value_lang=value_lang, unknown=unknown)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _hidden_field(form: Form, key: str) -> bool:
    """A field the form has but does not show for these answers (e.g. a recommender after 自荐)."""
    try:
        form.field(key)
    except KeyError:
        return False
    return True
