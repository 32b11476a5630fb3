"""Blind review: what tells a judge who the entrant is, and a judge's view of an entry without it.

Which answers identify the entrant is data, never a list of field names here: the field types and fields the
scorecards' `blind` lists (names, organisations, contacts, codes, the uploaded files' names) and every field the
intake treats as sensitive (intake.sensitive: identity numbers, passports, phones). A blind round withholds those
answers, and removes the values it withheld — and the entrant's name — wherever else they were typed (a project
description naming the company, a risk answer signed with the contact's phone), with anything shaped like a phone,
identity number or e-mail address besides. A short form of a name the entrant never typed in full (a brand, an
abbreviation) cannot be known and may remain in free text; docs/judging.md says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from intake.forms import Form
from intake.sensitive import SENSITIVE_TYPES, redact
from judging.scorecards import Blind

__all__ = ["Blindfold", "hidden_fields"]

# An e-mail address typed anywhere (the contact's own is withheld by value; this catches a colleague's too).
_EMAIL = re.compile(r"[^\s@<>()（）:：,，;；]+@[^\s@<>()（）:：,，;；]+\.[A-Za-z]{2,}")
# Shorter values would blank ordinary words out of every answer; no name or contact is this short.
_MIN_VALUE = 2


def hidden_fields(form: Form, rules: Blind) -> frozenset[str]:
    """The ids of the form's fields (in groups too) whose answers a blind round withholds; the entrant's name
    whatever its type (a product's or a park's name is plain text)."""
    return frozenset(slot.field.id for slot in form.fields()
                     if slot.field.type in rules.hide_types or slot.field.type in SENSITIVE_TYPES
                     or slot.field.id in rules.hide_fields or slot.field.entrant)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True, slots=True)
class Blindfold:
    """One entry as a blind round's judges may see it: `hidden` answers withheld, `values` removed from any text."""

    hidden: frozenset[str]
    pattern: re.Pattern[str] | None
    placeholder: str

    @classmethod
    def of(cls, form: Form, answers: Mapping[str, Any], *, entrant: str | None, rules: Blind,
           placeholder: str) -> Blindfold:
        """The blindfold for this entry: its withheld answers' values (at any depth) and the entrant's name."""
        hidden = hidden_fields(form, rules)
        values = {entrant.strip()} if entrant and entrant.strip() else set()
        values |= {s.strip() for s in _withheld_strings(answers, hidden) if len(s.strip()) >= _MIN_VALUE}
        values = {v for v in values if len(v) >= _MIN_VALUE}
        # Longest first, so that a company's full name goes before the shorter person's name inside it.
        pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)),
                             re.IGNORECASE) if values else None
        return cls(hidden=hidden, pattern=pattern, placeholder=placeholder)

    def text(self, text: str) -> str:
        """`text` with the entrant's identifying values, e-mail addresses and phone or identity numbers removed."""
        if self.pattern is not None:
            text = self.pattern.sub(self.placeholder, text)
        return redact(_EMAIL.sub(self.placeholder, text))

    def answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the answers with the withheld ones replaced by the placeholder and every other text cleaned."""
        return {key: self._value(key, value) for key, value in answers.items()}

    def _value(self, key: str, value: Any) -> Any:
        if key in self.hidden:
            return self._withheld(value)
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return self.answers(value)
        if isinstance(value, list):
            return [self._value(key, item) if not isinstance(item, Mapping) else self.answers(item) for item in value]
        return value

    def _withheld(self, value: Any) -> Any:
        # Every text becomes the placeholder; the shape stays (a list of files keeps its sizes), so the answer is
        # still formatted as its type is.
        if isinstance(value, str):
            return self.placeholder if value else value
        if isinstance(value, Mapping):
            return {k: self._withheld(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._withheld(item) for item in value]
        return value


def _withheld_strings(answers: Any, hidden: frozenset[str]) -> Iterable[str]:
    if isinstance(answers, Mapping):
        for key, value in answers.items():
            if key in hidden:
                yield from _strings(value)
            else:
                yield from _withheld_strings(value, hidden)
    elif isinstance(answers, list):
        for item in answers:
            yield from _withheld_strings(item, hidden)
