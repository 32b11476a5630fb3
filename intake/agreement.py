"""Answers that must agree with one another, as the form declares them (a field's `agrees` in the form YAML):
R&D staff no more than the headcount, a company founded no later than its projects start, a nominee who is not
their own nominating expert.

A disagreement belongs to the later of its two answers in asking order, the one that breaks the agreement when it
is given. `at` is what the intake asks as an answer comes in: only answers asked before it count, so nobody is
refused over a question not reached yet. `disagreements` finds every one among the answers, for the summary and
for completeness(): an earlier answer changed from the summary can contradict a later one that was fine.
Nothing here names a field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from config import Localized
from intake.forms import AGREEMENT_KINDS, Field, FieldGroup, Form, Relation, is_empty
from intake.render import format_value

__all__ = ["Answer", "Disagreement", "at", "disagreements"]

# The relation seen from the other answer's side.
_CONVERSE: Mapping[str, Relation] = {
    "at_most": "at_least", "at_least": "at_most",
    "not_after": "not_before", "not_before": "not_after",
    "differs_from": "differs_from",
}
# What a broken relation is called: "X cannot be more than Y" for a broken at_most.
_BROKEN: Mapping[str, Localized] = {
    "at_most": Localized(zh="不能多于", en="cannot be more than"),
    "at_least": Localized(zh="不能少于", en="cannot be less than"),
    "not_after": Localized(zh="不能晚于", en="cannot be later than"),
    "not_before": Localized(zh="不能早于", en="cannot be earlier than"),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """One stored answer: its field, the repeated item it belongs to (0-based) and its value."""

    field: Field
    value: Any
    group: FieldGroup | None = None
    item: int | None = None

    @property
    def key(self) -> str:
        """The key the intake knows the question by (`projects.0.project_period` for a repeated field)."""
        return f"{self.group.id}.{self.item}.{self.field.id}" if self.group is not None else self.field.id

    def label(self, lang: str) -> str:
        """The question's label as the summary shows it, with the item number of a repeated field."""
        own = self.field.label.get(lang)
        if self.group is None or self.item is None:
            return own
        return f"{self.group.label.get(lang)} {self.item + 1} · {own}"

    def shown(self, lang: str) -> str:
        """The answer as the summary and the 申报表 show it."""
        return format_value(self.field, self.value, lang=lang, value_lang=lang)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """`later` breaks `relation` with `earlier`: `later relation earlier` should hold and does not."""

    later: Answer
    earlier: Answer
    relation: Relation

    def reason(self) -> Localized:
        """What is wrong, naming both answers, in both languages."""
        return Localized(zh=self._text("zh"), en=self._text("en"))

    def _text(self, lang: str) -> str:
        later, earlier = self.later.label(lang), self.earlier.label(lang)
        if lang == "zh":
            if self.relation == "differs_from":
                return f"“{later}”与“{earlier}”相同（{self.later.shown(lang)}）"
            return (f"“{later}”（{self.later.shown(lang)}）{_BROKEN[self.relation].zh}"
                    f"“{earlier}”（{self.earlier.shown(lang)}）")
        if self.relation == "differs_from":
            return f'"{later}" is the same as "{earlier}" ({self.later.shown(lang)})'
        return (f'"{later}" ({self.later.shown(lang)}) {_BROKEN[self.relation].en} '
                f'"{earlier}" ({self.earlier.shown(lang)})')


def at(form: Form, answers: Mapping[str, Any], key: str) -> Disagreement | None:
    """The first agreement the answer at `key` (a question key, as in `Answer.key`) breaks with an answer asked
    before it; None when it agrees with all of them."""
    return next((d for d in disagreements(form, answers) if d.later.key == key), None)


def disagreements(form: Form, answers: Mapping[str, Any]) -> list[Disagreement]:
    """Every broken agreement among the answers, in the asking order of their later answers."""
    found: list[Disagreement] = []
    for slot in form.fields():
        for relation, other_id in slot.field.agrees.items():
            other = form.slot(other_id)
            for mine in _answers(form, answers, slot.field, slot.group):
                for theirs in _answers(form, answers, other.field, other.group):
                    if mine.group is not None and mine.group is theirs.group and mine.item != theirs.item:
                        continue  # two fields of one repeated group agree within each item
                    if _holds(relation, mine, theirs):
                        continue
                    if _order(form, mine) > _order(form, theirs):
                        found.append(Disagreement(later=mine, earlier=theirs, relation=relation))
                    else:
                        found.append(Disagreement(later=theirs, earlier=mine, relation=_CONVERSE[relation]))
    return sorted(found, key=lambda d: _order(form, d.later))


def _answers(form: Form, answers: Mapping[str, Any], field: Field, group: FieldGroup | None) -> Iterator[Answer]:
    if group is None:
        value = answers.get(field.id)
        if not is_empty(value) and form.visible(field, answers):
            yield Answer(field, value)
        return
    items = answers.get(group.id)
    for n, item in enumerate(items if isinstance(items, list) else []):
        value = item.get(field.id) if isinstance(item, Mapping) else None
        if not is_empty(value):
            yield Answer(field, value, group, n)


def _order(form: Form, answer: Answer) -> tuple[int, int, int]:
    # Items of a repeated group are asked one after another, each through all of the group's fields.
    if answer.group is None:
        return form.position_of(answer.field.id), 0, 0
    group = answer.group
    return form.position_of(group.fields[0].id), answer.item or 0, group.fields.index(answer.field)


def _holds(relation: str, mine: Answer, theirs: Answer) -> bool:
    a, b = _comparable(mine), _comparable(theirs)
    if a is None or b is None:
        return True  # an answer that cannot be read here (stored by an older form) is completeness()'s to report
    if isinstance(a, tuple) and isinstance(b, tuple):
        # Dates, months and years compare at the coarser of the two: a company founded on 20 May 2021 may start
        # a project in "2021.05".
        size = min(len(a), len(b))
        a, b = a[:size], b[:size]
    if relation in {"at_most", "not_after"}:
        return a <= b
    if relation in {"at_least", "not_before"}:
        return a >= b
    return a != b


def _comparable(answer: Answer) -> Decimal | tuple[int, ...] | str | None:
    kind, value = AGREEMENT_KINDS[answer.field.type], answer.value
    try:
        if kind == "number":
            return Decimal(str(value)) if not isinstance(value, bool) else None
        if kind == "time":
            if isinstance(value, Mapping):  # a period is compared by its start
                value = value.get("start")
            if isinstance(value, int) and not isinstance(value, bool):
                return (value,)
            if isinstance(value, str) and len(value) == len("2021-03"):
                year, month = value.split("-")
                return int(year), int(month)
            moment = date.fromisoformat(str(value))
            return moment.year, moment.month, moment.day
    except (InvalidOperation, ValueError, TypeError):
        return None
    if isinstance(value, str):
        # The same name written with other spacing, width or case is the same name.
        folded = unicodedata.normalize("NFKC", value).casefold()
        return "".join(ch for ch in folded if ch.isalnum())
    return None
