"""Whether an entry may go to the committee: every required answer present and valid, and the guideline's rules.

Answers are one flat JSON object per entry, field id → the value `Form.check` returned::

    {
        "nomination": "self",                      # choice: the choice id
        "innovation_rating": ["high_tech"],        # choices: list of choice ids
        "founded_on": "2018-05-20",                # date: ISO date
        "rd_ratio": "12.5",                        # percentage: decimal string, in percent
        "rd_investment": 20000000,                 # money: whole yuan; integer: int
        "decl_truthful": True,                     # consent: bool
        "materials_note": None,                    # a skipped optional field
        "attachments": [{"name": "deck.pdf", "size": 1048576, "file_id": "..."}],
        "projects": [                              # a repeatable group: one object per item
            {
                "project_name": "…",
                "project_period": {"start": "2021-03", "end": None},  # end None: 至今
                "project_investment": 5000000,
                "project_results": "…",
            },
        ],
    }

Answers to fields that are hidden by their condition are ignored here, and left out of what is queued
(Form.visible_answers), so switching 专家推荐 back to 自荐 needs no clean-up. Which fields are required, which are declarations, names and repeated groups comes from the form data;
nothing here names a field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from config import Localized
from intake import agreement
from intake.forms import Field, FieldGroup, Form, LanguageRule, is_empty

__all__ = ["Problem", "completeness"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an entry is not complete yet: which field (and which repeated item, 0-based), and the reason."""

    field_id: str
    label: Localized
    reason: Localized
    item: int | None = None
    # For two answers that disagree (intake.agreement): the key of the earlier one; field_id is the later.
    other: str | None = None


_MISSING = Localized(zh="这一项必须填写", en="This is required")
_NOT_ACCEPTED = Localized(
    zh="须同意这项声明才能提交申报", en="This declaration must be accepted before the entry can be submitted"
)
_REAL_NAME = Localized(zh="实名报名要求", en="Entries are made under real names")


def completeness(
    form: Form, answers: Mapping[str, Any], *, lang_rule: bool = True, today: date | None = None
) -> list[Problem]:
    """Every reason the entry is incomplete, in form order, then the answers that contradict earlier ones; an empty
    list means it may be submitted."""
    rule = form.language_rule(answers) if lang_rule else None
    problems: list[Problem] = []
    for section in form.sections:
        for entry in section.fields:
            if isinstance(entry, FieldGroup):
                problems += _group_problems(form, entry, answers.get(entry.id), rule, today)
            elif form.visible(entry, answers):
                problems += _field_problems(form, entry, answers.get(entry.id), rule, today, entry.label)
    # Only answers that are valid on their own are compared.
    wrong = {(p.field_id, p.item) for p in problems}
    problems += [
        Problem(d.later.field.id, Localized(zh=d.later.label("zh"), en=d.later.label("en")), d.reason(),
                d.later.item, other=d.earlier.key)
        for d in agreement.disagreements(form, answers)
        if (d.later.field.id, d.later.item) not in wrong and (d.earlier.field.id, d.earlier.item) not in wrong
    ]
    return problems


def _group_problems(
    form: Form, group: FieldGroup, items: Any, rule: LanguageRule | None, today: date | None
) -> list[Problem]:
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        return [
            Problem(group.id, group.label, Localized(zh="内容格式不正确", en="The answers are malformed"))
        ]
    low, high = group.repeat.min, group.repeat.max
    if len(items) < low:
        return [
            Problem(
                group.id,
                group.label,
                Localized(
                    zh=f"至少需要填写 {low} 个{group.label.zh}，现在有 {len(items)} 个",
                    en=f"At least {low} {group.label.en.lower()}(s) must be described; there are {len(items)}",
                ),
            )
        ]
    problems: list[Problem] = []
    if len(items) > high:
        problems.append(
            Problem(
                group.id,
                group.label,
                Localized(
                    zh=f"最多填写 {high} 个{group.label.zh}，现在有 {len(items)} 个",
                    en=f"At most {high} {group.label.en.lower()}(s) may be given; there are {len(items)}",
                ),
            )
        )
    for n, item in enumerate(items):
        for field in group.fields:
            label = Localized(
                zh=f"{group.label.zh} {n + 1}：{field.label.zh}",
                en=f"{group.label.en} {n + 1}: {field.label.en}",
            )
            problems += _field_problems(form, field, item.get(field.id), rule, today, label, item=n)
    return problems


def _field_problems(
    form: Form,
    field: Field,
    value: Any,
    rule: LanguageRule | None,
    today: date | None,
    label: Localized,
    *,
    item: int | None = None,
) -> list[Problem]:
    if is_empty(value):
        return [Problem(field.id, label, _MISSING, item)] if field.required else []
    checked = form.check(field, value, today=today)
    if not checked.ok:
        reason = checked.error or Localized(zh="答案无效", en="The answer is not valid")
        if field.real_name:
            # Say which rule refuses it: a nickname is not wrong as text, only as a name on an entry.
            reason = Localized(zh=f"{_REAL_NAME.zh}：{reason.zh}", en=f"{_REAL_NAME.en}: {reason.en}")
        return [Problem(field.id, label, reason, item)]
    if field.type == "consent" and checked.value is not True:
        return [Problem(field.id, label, _NOT_ACCEPTED, item)]
    if rule is not None and field.type == "long_text" and not rule.accepts(checked.value):
        return [Problem(field.id, label, rule.reason, item)]
    return []
