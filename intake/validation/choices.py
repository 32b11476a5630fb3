"""Closed questions: one or several of a set of options, named by id, label (zh or en) or number."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from config import Localized
from intake.validation.checked import Checked, accept, fold, refuse
from intake.validation.text import clean_line

__all__ = ["Choice", "Option", "check_choice", "check_choices"]


class Option(Protocol):
    """Anything offered as a choice: an id and a bilingual name (awards, tracks and categories qualify)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> Localized: ...


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice defined on the spot, e.g. 自荐 / 专家推荐; `aliases` are further accepted spellings."""

    id: str
    name: Localized
    aliases: tuple[str, ...] = ()

    @classmethod
    def of(cls, id: str, zh: str, en: str, *aliases: str) -> Choice:
        """A choice from its id and its Chinese and English labels."""
        return cls(id=id, name=Localized(zh=zh, en=en), aliases=aliases)


def _key(text: str) -> str:
    # Matching ignores case, width, spaces and the punctuation people add around a label.
    return re.sub(r"[\s\"'“”‘’「」《》()（）\[\]【】.。!！]", "", fold(text)).casefold()


_NUMBERED = re.compile(r"^(?:第|no\.?|#|选项)?\s*\(?\s*(\d{1,3})\s*(?:项|个|号|\.|、|\))?$", re.IGNORECASE)


def _match_option(token: str, options: Sequence[Option]) -> Option | None:
    key = _key(token)
    if not key:
        return None
    for option in options:
        if _key(option.id) == key:
            return option
    for option in options:
        labels = (option.name.zh, option.name.en, *getattr(option, "aliases", ()))
        if any(_key(label) == key for label in labels):
            return option
    numbered = _NUMBERED.match(fold(token))
    if numbered:
        index = int(numbered.group(1))
        if 1 <= index <= len(options):
            return options[index - 1]
    return None


def _menu(options: Sequence[Option]) -> tuple[str, str]:
    zh = "；".join(f"{n}. {o.name.zh}" for n, o in enumerate(options, 1))
    en = "; ".join(f"{n}. {o.name.en}" for n, o in enumerate(options, 1))
    return zh, en


def check_choice(raw: str, *, lang: str = "zh", options: Sequence[Option]) -> Checked[str]:
    """One of `options`, named by id, Chinese or English label, or 1-based number; the value is the id."""
    if not options:
        raise ValueError("check_choice needs at least one option")
    menu_zh, menu_en = _menu(options)
    first = options[0].name
    if not _key(raw):
        return refuse(lang, f"请选择一项：{menu_zh}", f"Please pick one of: {menu_en}", first.zh, first.en)
    option = _match_option(raw, options)
    if option is None:
        shown = clean_line(raw)[:40]
        return refuse(
            lang,
            f"“{shown}”不是可选项，请从中选择一项：{menu_zh}",
            f'"{shown}" is not one of the choices; please pick one of: {menu_en}',
            first.zh,
            first.en,
        )
    return accept(option.id, lang)


_LIST_SEPARATORS = re.compile(r"[,，、;；\n/|]+")


def _split_list(raw: str, options: Sequence[Option]) -> list[str]:
    text = fold(raw)
    # A label that itself contains a separator ("AI/机器人") is swapped for its number before splitting.
    labelled = [
        (fold(label), n)
        for n, option in enumerate(options, 1)
        for label in (option.name.zh, option.name.en, *getattr(option, "aliases", ()))
        if _LIST_SEPARATORS.search(fold(label))
    ]
    for label, n in sorted(labelled, key=lambda item: -len(item[0])):
        text = re.sub(re.escape(label), f" #{n} ", text, flags=re.IGNORECASE)
    tokens = [t.strip() for t in _LIST_SEPARATORS.split(text) if t.strip()]
    # "1 3 5" is a list of numbers; "New Quality Productive Forces" is one label with spaces.
    if len(tokens) == 1 and re.fullmatch(r"\d{1,3}(?:\s+\d{1,3})+", tokens[0]):
        tokens = tokens[0].split()
    return tokens


def check_choices(
    raw: str,
    *,
    lang: str = "zh",
    options: Sequence[Option],
    min_count: int = 1,
    max_count: int | None = None,
) -> Checked[tuple[str, ...]]:
    """Several of `options`, separated by commas, 、 or semicolons; the value is their ids in the order given."""
    if not options:
        raise ValueError("check_choices needs at least one option")
    most = len(options) if max_count is None else min(max_count, len(options))
    # The example is an answer accepted again, so an option that stands alone (无) is in it only if it is all.
    combinable = [o for o in options if not getattr(o, "exclusive", False)] or list(options[:1])
    shown_count = min(max(min(2, most), min_count), len(combinable))
    ex_zh = "、".join(o.name.zh for o in combinable[:shown_count])
    ex_en = ", ".join(o.name.en for o in combinable[:shown_count])
    menu_zh, menu_en = _menu(options)
    chosen: list[str] = []
    unknown: list[str] = []
    for token in _split_list(raw, options):
        option = _match_option(token, options)
        if option is None:
            unknown.append(token)
        elif option.id not in chosen:
            chosen.append(option.id)
    if unknown:
        # Quote a few, not all: a pasted 100 KB list would otherwise come back as a 200 KB message.
        more = len(unknown) - 3
        listed = "、".join(f"“{t[:30]}”" for t in unknown[:3]) + (
            f" 等 {len(unknown)} 项" if more > 0 else ""
        )
        listed_en = ", ".join(f'"{t[:30]}"' for t in unknown[:3]) + (f" and {more} more" if more > 0 else "")
        return refuse(
            lang,
            f"{listed} 不是可选项；可选：{menu_zh}",
            f"{listed_en} {'is' if len(unknown) == 1 else 'are'} not among the choices: {menu_en}",
            ex_zh,
            ex_en,
        )
    if len(chosen) < min_count:
        return refuse(
            lang,
            f"请至少选择 {min_count} 项，用逗号或顿号分隔；可选：{menu_zh}",
            f"Please pick at least {min_count}, separated by commas: {menu_en}",
            ex_zh,
            ex_en,
        )
    alone = next((o for o in options if o.id in chosen and getattr(o, "exclusive", False)), None)
    if alone is not None and len(chosen) > 1:
        return refuse(
            lang,
            f"“{alone.name.zh}”不能与其他选项同时选择",
            f'"{alone.name.en}" cannot be picked together with other choices',
            ex_zh,
            ex_en,
        )
    if len(chosen) > most:
        return refuse(
            lang,
            f"最多只能选择 {most} 项，现在选了 {len(chosen)} 项",
            f"At most {most} may be picked; this picks {len(chosen)}",
            ex_zh,
            ex_en,
        )
    return accept(tuple(chosen), lang)
