"""The quantified comparison (六: 可量化的数据比对): the entries' quantitative answers side by side, each value with
its percentile among the entries that gave one.

Which answers are compared is the scorecard's `compare` list (the edition's scorecards.yaml): numbers, amounts and
percentages by value; a choice by its place in the form's list of choices (e.g. 未融资 < 天使轮 < A轮 …); `group.field`
sums a repeated group's answers (e.g. every project's planned investment).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from config import Localized
from intake.forms import Field, FieldGroup, Form
from intake.render import format_value
from judging.scorecards import Scorecard

__all__ = ["NUMERIC_TYPES", "Cell", "Column", "Comparison", "Row", "answer_keys", "columns_for", "compare",
           "percentile_ranks"]

NUMERIC_TYPES = frozenset({"integer", "money", "percentage"})
CHOICE_TYPES = frozenset({"choice"})


@dataclass(frozen=True, slots=True)
class Column:
    """A compared answer: its key in the scorecard's list, its label, and whether it sums a group."""

    key: str
    label: Localized
    field: Field
    group: FieldGroup | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """One entry's value: as people read it, as a number for sorting (None: not answered), its percentile."""

    text: str
    number: float | None
    percentile: float | None


@dataclass(frozen=True, slots=True)
class Row:
    """One entry's row."""

    submission_id: int
    reference: str
    entrant: str
    cells: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Comparison:
    """The table: columns in the scorecard's order, rows sorted as asked."""

    columns: list[Column]
    rows: list[Row]


def columns_for(form: Form, scorecard: Scorecard) -> list[Column]:
    """The compared answers this award's form has (a field the form lacks, or of a type not compared, is left out)."""
    columns = []
    for key in scorecard.compare:
        group_id, _, field_id = key.rpartition(".")
        try:
            field = form.field(field_id)
        except KeyError:
            continue
        group = next((g for g in form.groups() if g.id == group_id), None) if group_id else None
        if group_id and group is None:
            continue
        if field.type not in NUMERIC_TYPES | CHOICE_TYPES or (group is not None and field.type not in NUMERIC_TYPES):
            continue
        label = field.label if group is None else Localized(zh=f"{group.label.zh}·{field.label.zh}（合计）",
                                                            en=f"{group.label.en}: {field.label.en} (total)")
        columns.append(Column(key=key, label=label, field=field, group=group))
    return columns


def answer_keys(columns: Sequence[Column]) -> set[str]:
    """The top-level answers the columns read (a group's, for a column that sums it)."""
    return {c.group.id if c.group is not None else c.field.id for c in columns}


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _value(column: Column, answers: Mapping[str, Any], lang: str | None) -> tuple[str, float | None]:
    """The answer as a number for sorting and percentiles, and as people read it (not formatted: lang None)."""

    def text(field: Field, value: Any) -> str:
        return "" if lang is None else format_value(field, value, lang=lang)

    if column.group is not None:
        items = answers.get(column.group.id)
        numbers = [n for item in (items if isinstance(items, list) else []) if isinstance(item, Mapping)
                   for n in [_number(item.get(column.field.id))] if n is not None]
        if not numbers:
            return "—", None
        total = sum(numbers, Decimal(0))
        return text(column.field, int(total) if total == int(total) else total), float(total)
    value = answers.get(column.field.id)
    if column.field.type in CHOICE_TYPES:
        order = [c.id for c in column.field.choices]
        if value not in order:
            return (text(column.field, value) if value else "—"), None
        return text(column.field, value), float(order.index(value))
    number = _number(value)
    if number is None:
        return "—", None
    return text(column.field, value), float(number)


def percentile_ranks(values: Sequence[float | None]) -> list[float | None]:
    """Each value's percentile among the values given: the share below it plus half the share equal to it (0–100)."""
    present = sorted(v for v in values if v is not None)
    n = len(present)
    out: list[float | None] = []
    for value in values:
        if value is None or n == 0:
            out.append(None)
            continue
        below = bisect_left(present, value)
        equal = bisect_right(present, value) - below
        out.append(round(100 * (below + equal / 2) / n, 1))
    return out


def compare(
    entries: Sequence[tuple[int, str, str, Mapping[str, Any]]], *, form: Form, scorecard: Scorecard, lang: str,
    sort: str | None = None, descending: bool = True, only: int | None = None,
) -> Comparison:
    """(id, reference, entrant, answers) side by side; sorted by a column key (unanswered last), else by reference.

    `only`: just that entry's row (a judge's page), its percentiles still among all the entries; the others'
    values are read as numbers and never formatted.
    """
    columns = columns_for(form, scorecard)
    shown = [only is None or entry_id == only for entry_id, *_ in entries]
    values = {c.key: [_value(c, answers, lang if show else None) for (*_, answers), show in zip(entries, shown,
                                                                                              strict=True)]
              for c in columns}
    percentiles = {key: percentile_ranks([number for _, number in cells]) for key, cells in values.items()}
    rows = [Row(submission_id=entry_id, reference=reference, entrant=entrant,
                cells={c.key: Cell(text=values[c.key][n][0], number=values[c.key][n][1],
                                   percentile=percentiles[c.key][n]) for c in columns})
            for n, (entry_id, reference, entrant, _) in enumerate(entries) if shown[n]]
    if sort in values:
        present = [r for r in rows if r.cells[sort].number is not None]
        absent = [r for r in rows if r.cells[sort].number is None]
        present.sort(key=lambda r: (r.cells[sort].number, r.reference), reverse=descending)
        rows = present + absent
    return Comparison(columns=columns, rows=rows)
