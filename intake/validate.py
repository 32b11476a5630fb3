"""Field validators for the intake: each turns a raw chat answer into a normalised value or a bilingual reason.

Every validator has the shape ``check_x(raw, *, lang="zh", **limits) -> Checked``. A refusal never raises: it
comes back as ``Checked(ok=False, error=Localized(zh=..., en=...))`` and both texts say what is wrong and end
with ``例如：<example>`` / ``Example: <example>``, an answer the same validator accepts with the same limits.
The functions are pure (no I/O); the only ambient input is today's date, which every date-aware check takes as
``today`` and falls back to Beijing time only when it is not given.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from config import Localized

__all__ = [
    "VALIDATORS",
    "Checked",
    "Choice",
    "Option",
    "Period",
    "Script",
    "Validator",
    "YearMonth",
    "check_choice",
    "check_choices",
    "check_credit_code",
    "check_date",
    "check_email",
    "check_id_number",
    "check_integer",
    "check_long_text",
    "check_mobile",
    "check_money",
    "check_org_name",
    "check_passport",
    "check_percentage",
    "check_period",
    "check_person_name",
    "check_text",
    "check_url",
    "check_year",
    "credit_code_check_char",
    "detect_script",
    "id_number_check_char",
    "is_chinese_text",
]

T = TypeVar("T")

_BEIJING = ZoneInfo("Asia/Shanghai")


# --------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Checked(Generic[T]):
    """The outcome of checking one answer: the normalised value, or the reason it was refused."""

    ok: bool
    value: T | None = None
    error: Localized | None = None
    lang: str = "zh"

    @property
    def message(self) -> str | None:
        """The refusal in the language the answer was checked in; None when the answer was accepted."""
        return None if self.error is None else self.error.get(self.lang)


def _ok(value: T, lang: str) -> Checked[T]:
    return Checked(ok=True, value=value, lang=lang)


def _no(lang: str, zh: str, en: str, example: str, example_en: str | None = None) -> Checked[Any]:
    # The example goes last, after a fixed marker, so the applicant (and the tests) can find it.
    return Checked(
        ok=False,
        error=Localized(zh=f"{zh}。例如：{example}", en=f"{en}. Example: {example_en or example}"),
        lang=lang,
    )


def _today(today: date | None) -> date:
    # The campaign runs on Beijing time; callers with an injected clock pass `today` and stay deterministic.
    return today if today is not None else datetime.now(_BEIJING).date()


# ------------------------------------------------------------------------------------------------ characters

# Invisible characters that arrive with copy-and-paste and carry no meaning: dropped rather than refused.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
# Joiners are format characters too, but emoji sequences (👩‍💻) need them.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
_SPACE_RUN = re.compile(r"\s+")
_HSPACE_RUN = re.compile(r"[^\S\n]+")


# CJK ideographs: the unified blocks, extension A, the compatibility block and the supplementary planes' B-H.
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_HAN = re.compile(f"[{_HAN_RANGES}]")


def _is_han(ch: str) -> bool:
    return _HAN.match(ch) is not None


def _is_latin_letter(ch: str) -> bool:
    if ch.isascii():
        return ch.isalpha()
    return ch.isalpha() and "LATIN" in unicodedata.name(ch, "")


def _is_control(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _ALLOWED_FORMAT
    # Han extensions newer than this Python's Unicode tables read as unassigned (Cn) but are real characters.
    return category in {"Cc", "Cs", "Co", "Cn"} and not _is_han(ch)


def _is_emoji_or_symbol(ch: str) -> bool:
    # So covers emoji and pictographs; Sk/Sm catch modifiers and maths signs nobody has in a name.
    return unicodedata.category(ch) in {"So", "Sk", "Sm", "Cs", "Co"} or 0x1F000 <= ord(ch) < 0x20000


def _fold(raw: str) -> str:
    """Compatibility form: full-width digits, letters and punctuation become their ASCII forms."""
    return unicodedata.normalize("NFKC", raw).translate(_INVISIBLE).strip()


def _clean_line(raw: str) -> str:
    return _SPACE_RUN.sub(" ", unicodedata.normalize("NFC", raw).translate(_INVISIBLE)).strip()


# ------------------------------------------------------------------------------------------------- language

Script = Literal["han", "latin", "mixed", "other", "none"]

# One Han character carries about as much as three Latin letters, so an English term inside a Chinese sentence
# (e.g. "基于 GPU 的芯片") does not tip the balance, nor does a Chinese name inside an English one.
_LETTERS_PER_HAN = 3
_MOSTLY = 0.6


# Han, ASCII letters and what is neither Han nor ASCII, counted by regular expression: a character-by-character
# loop over every long answer was a good part of an intake step's CPU.
_ASCII_LETTER = re.compile("[A-Za-z]")
_BEYOND_ASCII = re.compile(f"[^\x00-\x7f{_HAN_RANGES}]")


def _script_shares(text: str) -> tuple[float, float, float]:
    han = len(_HAN.findall(text))
    latin = len(_ASCII_LETTER.findall(text))
    other = 0
    for ch in _BEYOND_ASCII.findall(text):
        if _is_latin_letter(ch):
            latin += 1
        elif ch.isalpha():
            other += 1
    total = han + (latin + other) / _LETTERS_PER_HAN
    if not total:
        return 0.0, 0.0, 0.0
    return han / total, latin / _LETTERS_PER_HAN / total, other / _LETTERS_PER_HAN / total


def detect_script(text: str) -> Script:
    """The writing system most of `text` is in: han, latin, other, mixed, or none when it has no letters."""
    han, latin, other = _script_shares(text)
    if not (han or latin or other):
        return "none"
    if han >= _MOSTLY:
        return "han"
    if latin >= _MOSTLY:
        return "latin"
    if other >= _MOSTLY:
        return "other"
    return "mixed"


def is_chinese_text(text: str, *, min_share: float = _MOSTLY) -> bool:
    """True when Han characters make up at least `min_share` of the letters of `text` (the 境内 language rule)."""
    return _script_shares(text)[0] >= min_share


# ------------------------------------------------------------------------------------------------------ text

_TEXT_EXAMPLE = ("面向工业质检的机器视觉平台", "Machine vision platform for industrial inspection")
_LONG_EXAMPLE = (
    "我们自主研发的工业机器人已在 30 多家工厂落地应用，累计为客户节约成本 2000 万元。",
    "Our industrial robots are in use in more than 30 factories and have saved customers RMB 20 million.",
)


def _examples(
    example: str | Localized | None, default: tuple[str, str], min_len: int, max_len: int
) -> tuple[str, str]:
    if isinstance(example, str):
        return example, example
    if isinstance(example, Localized):
        return example.zh, example.en
    # The default examples must themselves pass: English runs longer, so it falls back to the Chinese one.
    zh, en = default
    if len(zh) > max_len:
        zh = zh[:max_len]
    if not min_len <= len(en) <= max_len:
        en = zh
    return zh, en


def _bad_char(text: str, *, allow_newline: bool = False) -> str | None:
    for ch in text:
        if allow_newline and ch == "\n":
            continue
        if _is_control(ch):
            return ch
    return None


def _empty_or_control(
    text: str, *, lang: str, examples: tuple[str, str], allow_newline: bool
) -> Checked[Any] | None:
    """The refusal shared by one-line and long text: nothing typed, or invisible control characters."""
    if not text:
        return _no(lang, "这一项不能为空", "This answer cannot be empty", *examples)
    if _bad_char(text, allow_newline=allow_newline) is not None:
        return _no(
            lang,
            "内容含有不可见的控制字符，请重新输入文字",
            "The answer contains invisible control characters; please type it again",
            *examples,
        )
    return None


def check_text(
    raw: str,
    *,
    lang: str = "zh",
    min_len: int = 1,
    max_len: int = 200,
    example: str | Localized | None = None,
) -> Checked[str]:
    """A one-line text: whitespace collapsed, no control characters, `min_len`–`max_len` characters."""
    ex_zh, ex_en = _examples(example, _TEXT_EXAMPLE, min_len, max_len)
    text = _clean_line(raw)
    refused = _empty_or_control(text, lang=lang, examples=(ex_zh, ex_en), allow_newline=False)
    if refused is not None:
        return refused
    if len(text) < min_len:
        return _no(
            lang,
            f"内容太短：至少 {min_len} 个字符，现在只有 {len(text)} 个",
            f"Too short: at least {min_len} characters are needed, this has {len(text)}",
            ex_zh,
            ex_en,
        )
    if len(text) > max_len:
        return _no(
            lang,
            f"内容太长：最多 {max_len} 个字符，现在有 {len(text)} 个",
            f"Too long: at most {max_len} characters, this has {len(text)}",
            ex_zh,
            ex_en,
        )
    return _ok(text, lang)


def _clean_paragraphs(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_HSPACE_RUN.sub(" ", line).strip() for line in text.split("\n")]
    # Keep paragraphs, but never more than one blank line between them.
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_long_text(
    raw: str,
    *,
    lang: str = "zh",
    min_len: int = 1,
    max_len: int = 2000,
    languages: Sequence[str] | None = None,
    example: str | Localized | None = None,
) -> Checked[str]:
    """A multi-paragraph text of `min_len`–`max_len` characters, optionally in one of `languages` (zh, en)."""
    ex_zh, ex_en = _examples(example, _LONG_EXAMPLE, min_len, max_len)
    allowed = {code.lower()[:2] for code in languages or ()}
    if allowed - {"zh", "en"}:
        raise ValueError(f"languages must be zh and/or en, got {languages!r}")
    if allowed == {"zh"}:
        # An English example would itself break the rule being explained.
        ex_en = ex_zh
    text = _clean_paragraphs(raw)
    refused = _empty_or_control(text, lang=lang, examples=(ex_zh, ex_en), allow_newline=True)
    if refused is not None:
        return refused
    if len(text) < min_len:
        return _no(
            lang,
            f"内容太短：至少 {min_len} 字，现在只有 {len(text)} 字",
            f"Too short: at least {min_len} characters are needed, this has {len(text)}",
            ex_zh,
            ex_en,
        )
    if len(text) > max_len:
        return _no(
            lang,
            f"内容太长：最多 {max_len} 字，现在有 {len(text)} 字，请精简，或把详细材料作为附件上传",
            f"Too long: at most {max_len} characters, this has {len(text)}; shorten it or upload the details "
            "as an attachment",
            ex_zh,
            ex_en,
        )
    if allowed:
        script = detect_script(text)
        if allowed == {"zh"} and script != "none" and not is_chinese_text(text):
            return _no(
                lang,
                "境内参选者请用中文填写这一项",
                "Entries from mainland China must answer this in Chinese",
                ex_zh,
                ex_en,
            )
        if allowed == {"en"} and script not in {"latin", "none"}:
            return _no(lang, "这一项请用英文填写", "Please answer this in English", ex_en, ex_en)
        if allowed == {"zh", "en"} and script == "other":
            return _no(
                lang,
                "这一项请用中文或英文填写",
                "Please answer this in Chinese or English",
                ex_zh,
                ex_en,
            )
    return _ok(text, lang)


# --------------------------------------------------------------------------------------------------- choices


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
    return re.sub(r"[\s\"'“”‘’「」《》()（）\[\]【】.。!！]", "", _fold(text)).casefold()


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
    numbered = _NUMBERED.match(_fold(token))
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
        return _no(lang, f"请选择一项：{menu_zh}", f"Please pick one of: {menu_en}", first.zh, first.en)
    option = _match_option(raw, options)
    if option is None:
        shown = _clean_line(raw)[:40]
        return _no(
            lang,
            f"“{shown}”不是可选项，请从中选择一项：{menu_zh}",
            f'"{shown}" is not one of the choices; please pick one of: {menu_en}',
            first.zh,
            first.en,
        )
    return _ok(option.id, lang)


_LIST_SEPARATORS = re.compile(r"[,，、;；\n/|]+")


def _split_list(raw: str, options: Sequence[Option]) -> list[str]:
    text = _fold(raw)
    # A label that itself contains a separator ("AI/机器人") is swapped for its number before splitting.
    labelled = [
        (_fold(label), n)
        for n, option in enumerate(options, 1)
        for label in (option.name.zh, option.name.en, *getattr(option, "aliases", ()))
        if _LIST_SEPARATORS.search(_fold(label))
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
    shown_count = min(max(min(2, most), min_count), len(options))
    ex_zh = "、".join(o.name.zh for o in options[:shown_count])
    ex_en = ", ".join(o.name.en for o in options[:shown_count])
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
        listed = "、".join(f"“{t[:30]}”" for t in unknown[:3]) + (f" 等 {len(unknown)} 项" if more > 0 else "")
        listed_en = ", ".join(f'"{t[:30]}"' for t in unknown[:3]) + (f" and {more} more" if more > 0 else "")
        return _no(
            lang,
            f"{listed} 不是可选项；可选：{menu_zh}",
            f"{listed_en} {'is' if len(unknown) == 1 else 'are'} not among the choices: {menu_en}",
            ex_zh,
            ex_en,
        )
    if len(chosen) < min_count:
        return _no(
            lang,
            f"请至少选择 {min_count} 项，用逗号或顿号分隔；可选：{menu_zh}",
            f"Please pick at least {min_count}, separated by commas: {menu_en}",
            ex_zh,
            ex_en,
        )
    if len(chosen) > most:
        return _no(
            lang,
            f"最多只能选择 {most} 项，现在选了 {len(chosen)} 项",
            f"At most {most} may be picked; this picks {len(chosen)}",
            ex_zh,
            ex_en,
        )
    return _ok(tuple(chosen), lang)


# --------------------------------------------------------------------------------------------------- numbers

_CN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10**4, "亿": 10**8}
_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"


def _cn_integer(text: str) -> int | None:
    """Value of a Chinese numeral such as 二十五, 一百零五, 五百万, 一亿二千万; None if it is not one."""
    if not text or any(ch not in _CN_NUMERAL for ch in text):
        return None
    total = section = 0
    number: int | None = None
    for ch in text:
        if ch in _CN_DIGITS:
            # 一二三 is a digit string, not a numeral; refuse rather than guess.
            if number:
                return None
            number = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            section += (1 if number is None else number) * _CN_SMALL[ch]
            number = None
        elif ch == "万":
            section = (section + (number or 0)) * _CN_BIG[ch]
            number = None
            total, section = total + section, 0
        else:
            total = (total + section + (number or 0)) * _CN_BIG[ch]
            section, number = 0, None
    return total + section + (number or 0)


def _cn_decimal(text: str) -> Decimal | None:
    """A Chinese numeral with an optional 点 fraction (十二点五) as a Decimal."""
    whole, _, fraction = text.partition("点")
    value = _cn_integer(whole)
    if value is None:
        return None
    if not fraction:
        return Decimal(value) if "点" not in text else None
    if any(ch not in _CN_DIGITS for ch in fraction):
        return None
    return Decimal(f"{value}.{''.join(str(_CN_DIGITS[ch]) for ch in fraction)}")


_GROUPED = re.compile(r"^\d{1,3}(?:([, '])\d{3})?(?:\1\d{3})*$")


def _arabic(text: str) -> Decimal | None:
    """A decimal number written with optional thousands separators (1,234 / 1 234 / 1'234.5)."""
    whole, dot, fraction = text.partition(".")
    if dot and not fraction.isdigit():
        return None
    if not whole.isdigit():
        # Separators must group by thousands: "12,34" is more likely two numbers than one.
        if not _GROUPED.match(whole):
            return None
        whole = re.sub(r"[, ']", "", whole)
    try:
        return Decimal(f"{whole}.{fraction}" if dot else whole)
    except InvalidOperation:
        return None


def _number(text: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit():
        return _arabic(text)
    return _cn_decimal(text)


_NEGATIVE = re.compile(r"^(?:-|−|负)")
_ABOUT = re.compile(r"^(?:约合|大约|约|approximately|approx\.?|about|around|~)\s*", re.IGNORECASE)


# No count or amount on the form needs more digits; longer input is a paste accident, and refusing it early keeps
# Decimal arithmetic exact and messages short.
_MAX_NUMBER_CHARS = 40
_MAX_YUAN = 10**18


def _too_long(lang: str, text: str, example: str, example_en: str | None = None) -> Checked[Any] | None:
    if len(text) <= _MAX_NUMBER_CHARS:
        return None
    return _no(
        lang,
        "数字太长，请检查是否多输了",
        "That number is far too long; please check it",
        example,
        example_en,
    )


def _clamp(value: T, low: T | None, high: T | None) -> T:
    if low is not None and value < low:  # type: ignore[operator]
        value = low
    if high is not None and value > high:  # type: ignore[operator]
        value = high
    return value


def _range_text(low: object, high: object, unit_zh: str = "", unit_en: str = "") -> tuple[str, str]:
    if low is not None and high is not None:
        return f"在 {low}{unit_zh} 到 {high}{unit_zh} 之间", f"between {low}{unit_en} and {high}{unit_en}"
    if low is not None:
        return f"不小于 {low}{unit_zh}", f"at least {low}{unit_en}"
    return f"不大于 {high}{unit_zh}", f"at most {high}{unit_en}"


_COUNT_WORDS = re.compile(r"(?:人|名|个|项|件|家|位|篇|款|次|people|persons|items)$", re.IGNORECASE)


def check_integer(
    raw: str,
    *,
    lang: str = "zh",
    min_value: int | None = None,
    max_value: int | None = None,
) -> Checked[int]:
    """A whole number (1,234 / 1 234 / full-width digits / 二十; a trailing 人, 项… allowed) within the bounds."""
    example = str(_clamp(120, min_value, max_value))
    text = _COUNT_WORDS.sub("", _ABOUT.sub("", _fold(raw))).strip()
    if refused := _too_long(lang, text, example):
        return refused
    negative = bool(_NEGATIVE.match(text))
    if negative:
        text = _NEGATIVE.sub("", text).strip()
    value = _number(text)
    if value is None:
        return _no(lang, "请填写一个整数（阿拉伯数字）", "Please give a whole number in digits", example)
    if value != value.to_integral_value():
        return _no(
            lang, "这里需要整数，不能带小数", "A whole number is needed here, without decimals", example
        )
    number = -int(value) if negative else int(value)
    if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
        zh, en = _range_text(min_value, max_value)
        return _no(
            lang, f"数值应{zh}，您填写的是 {number}", f"The number must be {en}; you gave {number}", example
        )
    return _ok(number, lang)


_MONEY_UNITS: Mapping[str, int] = {
    "万亿": 10**12,
    "千万": 10**7,
    "百万": 10**6,
    "十万": 10**5,
    "亿": 10**8,
    "万": 10**4,
    "千": 10**3,
    "billion": 10**9,
    "bn": 10**9,
    "million": 10**6,
    "mn": 10**6,
    "m": 10**6,
    "thousand": 10**3,
    "k": 10**3,
}
_UNIT_PATTERN = "|".join(sorted(map(re.escape, _MONEY_UNITS), key=len, reverse=True))
_MONEY = re.compile(
    rf"^(?:(?:rmb|cny|人民币|¥)\s*)?"
    rf"(?P<number>\d[\d, ']*(?:\.\d+)?|[{_CN_NUMERAL}点]+)\s*"
    rf"(?P<unit>{_UNIT_PATTERN})?\s*"
    rf"(?:(?:元|块|yuan|rmb|cny|人民币)(?:整|钱)?)?$",
    re.IGNORECASE,
)
_FOREIGN_CURRENCY = re.compile(
    r"(?:usd|us\$|\$|eur|€|£|gbp|jpy|hkd|港币|港元|美元|美金|欧元|英镑|日元|dollars?|euros?)", re.IGNORECASE
)


def _yuan_display(amount: int) -> str:
    if amount and amount % 10**8 == 0:
        return f"{amount // 10**8}亿元"
    if amount and amount % 10**4 == 0:
        return f"{amount // 10**4}万元"
    return f"{amount}元"


def check_money(
    raw: str,
    *,
    lang: str = "zh",
    min_value: int | None = 0,
    max_value: int | None = None,
) -> Checked[int]:
    """An amount in RMB (500万 / 1.2亿元 / 3,000,000元 / RMB 5 million), normalised to whole 元."""
    example_amount = _clamp(5_000_000, min_value, max_value)
    example = _yuan_display(example_amount)
    example_en = f"RMB {example_amount:,}"
    text = _ABOUT.sub("", _fold(raw)).strip()
    if refused := _too_long(lang, text, example, example_en):
        return refused
    if not text:
        return _no(lang, "请填写金额（人民币）", "Please give an amount in RMB", example, example_en)
    if _FOREIGN_CURRENCY.search(text):
        return _no(
            lang,
            "请把金额换算成人民币填写",
            "Please convert the amount to RMB (yuan)",
            example,
            example_en,
        )
    negative = bool(_NEGATIVE.match(text))
    if negative:
        text = _NEGATIVE.sub("", text).strip()
    match = _MONEY.match(text)
    number = _number(match.group("number")) if match else None
    if match is None or number is None:
        return _no(
            lang,
            "无法识别这个金额，请写一个数字，可带“元”“万元”“亿元”等单位",
            "This amount could not be read; write one number, in yuan or with 万 (10,000) / 亿 (100 million)",
            example,
            example_en,
        )
    unit = match.group("unit")
    amount = number * _MONEY_UNITS[unit.lower()] if unit else number
    if negative and amount:
        return _no(lang, "金额不能为负数", "The amount cannot be negative", example, example_en)
    if amount >= _MAX_YUAN:
        return _no(
            lang,
            "金额大得不合理，请检查单位",
            "That amount is implausibly large; check the unit",
            example,
            example_en,
        )
    yuan = int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if (min_value is not None and yuan < min_value) or (max_value is not None and yuan > max_value):
        low = None if min_value is None else _yuan_display(min_value)
        high = None if max_value is None else _yuan_display(max_value)
        zh, en = _range_text(low, high)
        return _no(
            lang,
            f"金额应{zh}，您填写的是 {_yuan_display(yuan)}",
            f"The amount must be {en}; you gave {yuan:,} yuan",
            example,
            example_en,
        )
    return _ok(yuan, lang)


_PERCENT = re.compile(
    r"^(?:百分之(?P<cn>[零〇一二两三四五六七八九十百千点]+)"
    r"|(?P<number>\d+(?:\.\d+)?)\s*(?:%|percent|pct|个百分点|百分点)?)$",
    re.IGNORECASE,
)


def check_percentage(
    raw: str,
    *,
    lang: str = "zh",
    min_value: Decimal | int | None = 0,
    max_value: Decimal | int | None = 100,
    allow_over: bool = False,
) -> Checked[Decimal]:
    """A percentage (12.5% / 12.5 / 百分之十二点五) as the number of percent, 0–100 unless `allow_over`."""
    high = None if allow_over else max_value
    example_value = _clamp(Decimal("12.5"), None if min_value is None else Decimal(min_value), high)
    example = f"{example_value}%"
    text = _ABOUT.sub("", _fold(raw)).strip()
    if refused := _too_long(lang, text, example):
        return refused
    negative = bool(_NEGATIVE.match(text))
    if negative:
        text = _NEGATIVE.sub("", text).strip()
    match = _PERCENT.match(text)
    value = None
    if match:
        value = _cn_decimal(match.group("cn")) if match.group("cn") else _arabic(match.group("number"))
    if value is None:
        return _no(lang, "请填写一个百分比数字", "Please give a percentage as a number", example)
    value = -value if negative else value
    if (min_value is not None and value < min_value) or (high is not None and value > high):
        zh, en = _range_text(min_value, high, "%", "%")
        return _no(
            lang,
            f"百分比应{zh}，您填写的是 {value}%",
            f"The percentage must be {en}; you gave {value}%",
            example,
        )
    return _ok(value, lang)


# ----------------------------------------------------------------------------------------------------- dates

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _impossible(year: int, month: int, day: int) -> tuple[str, str]:
    if not 1 <= month <= 12:
        return f"没有 {month} 月", f"there is no month {month}"
    last = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    return (
        f"{year} 年 {month} 月只有 {last} 天，没有 {day} 日",
        f"{year}-{month:02d} has only {last} days, so there is no day {day}",
    )


def check_date(
    raw: str,
    *,
    lang: str = "zh",
    not_future: bool = False,
    min_date: date | None = None,
    max_date: date | None = None,
    today: date | None = None,
) -> Checked[date]:
    """A calendar date (2024-03-01 / 2024/3/1 / 2024年3月1日 / 2024.03.01) that exists, within the bounds."""
    latest = max_date
    if not_future:
        now = _today(today)
        latest = now if latest is None else min(latest, now)
    example_date = _clamp(date(2024, 3, 1), min_date, latest)
    example = example_date.isoformat()
    text = _fold(raw)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            break
    else:
        return _no(
            lang,
            "请按“年-月-日”或“某年某月某日”填写日期",
            "Please write the date as year-month-day",
            example,
        )
    year, month, day = map(int, match.groups())
    if year < 1:
        return _no(lang, "年份不正确", "The year is not valid", example)
    try:
        value = date(year, month, day)
    except ValueError:
        zh, en = _impossible(year, month, day)
        return _no(lang, f"日期不存在：{zh}", f"That date does not exist: {en}", example)
    if not_future and value > _today(today):
        return _no(lang, f"日期 {value} 还没有到，不能是将来的日期", f"{value} is in the future", example)
    if min_date is not None and value < min_date:
        return _no(lang, f"日期不能早于 {min_date}", f"The date cannot be before {min_date}", example)
    if max_date is not None and value > max_date:
        return _no(lang, f"日期不能晚于 {max_date}", f"The date cannot be after {max_date}", example)
    return _ok(value, lang)


def check_year(
    raw: str,
    *,
    lang: str = "zh",
    min_year: int = 1900,
    max_year: int = 2100,
) -> Checked[int]:
    """A four-digit year (2021 / 2021年) between `min_year` and `max_year`."""
    example = str(_clamp(2021, min_year, max_year))
    match = re.fullmatch(r"(\d{4})\s*年?", _fold(raw))
    if match is None:
        return _no(lang, "请填写四位数的年份", "Please give a four-digit year", example)
    year = int(match.group(1))
    if not min_year <= year <= max_year:
        return _no(
            lang,
            f"年份应在 {min_year} 到 {max_year} 之间",
            f"The year must be between {min_year} and {max_year}",
            example,
        )
    return _ok(year, lang)


class YearMonth(NamedTuple):
    """A month of a year."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Period:
    """A span of months for 起止时间; `end` is None for an ongoing one (至今)."""

    start: YearMonth
    end: YearMonth | None

    def __str__(self) -> str:
        return f"{self.start} – {self.end or '至今'}"


_YM = r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月?|[-./]\s*(\d{1,2}))"
_PERIOD = re.compile(
    rf"^{_YM}\s*(?:-|~|—+|–|―|至|到|to|until|till)\s*"
    rf"(?:{_YM}|(?P<open>今|至今|现在|目前|进行中|now|present|ongoing|today))$",
    re.IGNORECASE,
)
_PERIOD_OPEN = re.compile(rf"^{_YM}\s*(?:起)?\s*(?:至今|迄今|以来|to date)$", re.IGNORECASE)


def check_period(
    raw: str,
    *,
    lang: str = "zh",
    min_year: int = 1900,
    max_year: int = 2100,
) -> Checked[Period]:
    """A start and end month for 起止时间 (2021.03-2024.06 / 2021年3月至今); the end is None for 至今."""
    end_year = _clamp(2024, min_year, max_year)
    example_zh = example_en = f"{max(min_year, end_year - 3)}.03-{end_year}.06"
    text = _fold(raw)
    match = _PERIOD.match(text) or _PERIOD_OPEN.match(text)
    if match is None:
        return _no(
            lang,
            "请写明起止年月，中间用“-”或“至”连接；仍在进行的写“至今”",
            'Please give the start and end month joined by "-"; write "present" if it is still running',
            example_zh,
            example_en,
        )
    groups = match.groups()
    start = YearMonth(int(groups[0]), int(groups[1] or groups[2]))
    end = None
    if len(groups) > 3 and groups[3] is not None:
        end = YearMonth(int(groups[3]), int(groups[4] or groups[5]))
    for ym in (start, end):
        if ym is None:
            continue
        if not 1 <= ym.month <= 12:
            return _no(
                lang, f"月份 {ym.month} 不存在", f"There is no month {ym.month}", example_zh, example_en
            )
        if not min_year <= ym.year <= max_year:
            return _no(
                lang,
                f"年份应在 {min_year} 到 {max_year} 之间",
                f"Years must be between {min_year} and {max_year}",
                example_zh,
                example_en,
            )
    if end is not None and end < start:
        return _no(
            lang,
            f"结束时间 {end} 早于开始时间 {start}",
            f"The end {end} is before the start {start}",
            example_zh,
            example_en,
        )
    return _ok(Period(start=start, end=end), lang)


# -------------------------------------------------------------------------------------------------- contacts

_CN_MOBILE = re.compile(r"1[3-9]\d{9}")


def check_mobile(raw: str, *, lang: str = "zh", allow_international: bool = True) -> Checked[str]:
    """A mobile number: mainland 1[3-9]xxxxxxxxx (with or without +86) or international +<country><number>; E.164."""
    example = "13812345678"
    example_en = "+86 138 1234 5678"
    text = re.sub(r"[\s\-().·]", "", _fold(raw))
    if not text:
        return _no(lang, "请填写手机号码", "Please give a mobile number", example, example_en)
    if text.startswith("00"):
        text = "+" + text[2:]
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isdigit() or not digits.isascii():
        return _no(
            lang,
            "手机号只能包含数字，可以带开头的 + 号",
            "A phone number may only contain digits and a leading +",
            example,
            example_en,
        )
    # Mainland numbers arrive as +86…, 86… (13 digits) or bare; anything else with a + is international.
    national = None
    if digits.startswith("86") and (plus or len(digits) == 13):
        national = digits[2:]
    elif not plus:
        national = digits
    if national is not None:
        if _CN_MOBILE.fullmatch(national):
            return _ok(f"+86{national}", lang)
        if len(national) == 11 and national.startswith("1"):
            reason_zh, reason_en = "中国大陆手机号的第二位应为 3–9", "a mainland mobile number starts 13–19"
        elif national.startswith("1"):
            reason_zh = f"中国大陆手机号应为 11 位，您填写了 {len(national)} 位"
            reason_en = f"a mainland mobile number has 11 digits, this has {len(national)}"
        elif plus or digits.startswith("86"):
            reason_zh, reason_en = (
                "这不是手机号，请填写手机而不是座机",
                "this is not a mobile number (landline?)",
            )
        else:
            reason_zh = "这不是中国大陆手机号；境外号码请加 + 和国家代码"
            reason_en = "this is not a mainland China mobile; add + and the country code for other numbers"
        return _no(lang, reason_zh, reason_en[0].upper() + reason_en[1:], example, example_en)
    if not allow_international:
        return _no(
            lang, "请填写中国大陆手机号", "Please give a mainland China mobile number", example, example_en
        )
    if not re.fullmatch(r"[1-9]\d{6,14}", digits):
        return _no(
            lang,
            "国际号码应为 + 国家代码 + 号码，共 7–15 位数字",
            "An international number is + country code + number, 7–15 digits in all",
            example,
            example_en,
        )
    return _ok(f"+{digits}", lang)


_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def _domain(host: str) -> str | None:
    """The host lower-cased if it is a plausible public domain name (IDN allowed); None otherwise."""
    host = host.lower().rstrip(".")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2:
        return None
    if not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        return None
    return host


def check_email(raw: str, *, lang: str = "zh") -> Checked[str]:
    """An email address with a plausible domain; the domain is lower-cased, the local part kept."""
    example = "name@example.com"
    # A Chinese keyboard easily gives 。 for . and ＠ for @ (NFKC folds the latter).
    text = re.sub(r"^mailto:", "", _fold(raw), flags=re.IGNORECASE).replace("。", ".")
    if not text:
        return _no(lang, "请填写电子邮箱", "Please give an email address", example)
    if any(ch.isspace() for ch in text):
        return _no(lang, "邮箱地址中不能有空格", "An email address cannot contain spaces", example)
    if text.count("@") != 1:
        return _no(lang, "邮箱地址应有且只有一个 @", "An email address has exactly one @", example)
    local, domain = text.split("@")
    if not local or len(local) > 64 or not _LOCAL_PART.match(local):
        return _no(
            lang,
            "@ 前面的用户名部分不正确",
            "The part before the @ is not a valid mailbox name",
            example,
        )
    host = _domain(domain)
    if host is None:
        return _no(
            lang,
            f"@ 后面的域名“{domain[:40]}”不完整或不正确",
            f'The domain "{domain[:40]}" after the @ is incomplete or invalid',
            example,
        )
    return _ok(f"{local}@{host}", lang)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_url(raw: str, *, lang: str = "zh") -> Checked[str]:
    """An http(s) link to a public host; scheme and host lower-cased, default port dropped, empty path '/'."""
    example = "https://www.example.com/materials.pdf"
    text = _fold(raw).strip("<>\"'“”")
    if not text:
        return _no(lang, "请填写链接", "Please give a link", example)
    if any(ch.isspace() for ch in text):
        return _no(
            lang,
            "链接中不能有空格；如有提取码，请另外写明",
            "A link cannot contain spaces; give any access code separately",
            example,
        )
    # A bare "pan.baidu.com/s/abc" is what people copy from an address bar that hides the scheme.
    if "://" not in text and re.match(r"^[\w-]+(?:\.[\w-]+)+(?:[/:?#]|$)", text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed "[" that urlsplit takes for a broken IPv6 address
        return _no(lang, "这不是一个有效的网页链接", "This is not a valid web link", example)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return _no(
            lang, "只接受以 http:// 或 https:// 开头的网页链接", "Only http:// or https:// links", example
        )
    if parts.username is not None or parts.password is not None:
        return _no(
            lang,
            "链接中不能包含用户名或密码",
            "A link cannot contain a user name or password",
            example,
        )
    try:
        port = parts.port
    except ValueError:
        return _no(lang, "链接中的端口号不正确", "The port in this link is invalid", example)
    hostname = parts.hostname or ""
    host = _domain(hostname)
    if host is None:
        try:
            address = ipaddress.ip_address(hostname)
        except ValueError:
            address = None
        if address is None or not address.is_global:
            return _no(
                lang,
                "链接中的网站地址不正确",
                "The site address in this link is not a valid public host",
                example,
            )
        host = f"[{address}]" if address.version == 6 else str(address)
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return _ok(urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment)), lang)


# -------------------------------------------------------------------------------------------- identity codes

# GB 32100-2015: 31 characters, the digits and the capitals without I, O, S, V, Z.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# The standard's own worked example.
_CREDIT_EXAMPLE = "91350100M000100Y43"


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 whose first 17 are given (GB 32100-2015, mod 31)."""
    if len(first17) != 17 or any(ch not in _CREDIT_ALPHABET for ch in first17):
        raise ValueError(f"need 17 characters from {_CREDIT_ALPHABET}, got {first17!r}")
    total = sum(_CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(raw: str, *, lang: str = "zh") -> Checked[str]:
    """A 统一社会信用代码: 18 characters of the GB 32100 alphabet with a correct check character; upper-cased."""
    example = _CREDIT_EXAMPLE
    code = re.sub(r"[\s\-]", "", _fold(raw)).upper()
    if not code:
        return _no(
            lang,
            "请填写 18 位统一社会信用代码",
            "Please give the 18-character unified social credit code",
            example,
        )
    forbidden = sorted({ch for ch in code if ch not in _CREDIT_ALPHABET})
    if forbidden:
        letters = [ch for ch in forbidden if ch in "IOSVZ"]
        if letters and len(letters) == len(forbidden):
            shown = "、".join(letters)
            return _no(
                lang,
                f"统一社会信用代码不使用字母 I、O、S、V、Z，其中有 {shown}（可能是数字 1、0、5 等的误写）",
                f"A credit code never uses the letters I, O, S, V or Z; this has {', '.join(letters)} "
                "(perhaps the digits 1, 0, 5…)",
                example,
            )
        return _no(
            lang,
            "统一社会信用代码只由数字和大写英文字母组成",
            "A credit code consists of digits and capital letters only",
            example,
        )
    if len(code) != 18:
        return _no(
            lang,
            f"统一社会信用代码应为 18 位，您填写了 {len(code)} 位",
            f"A unified social credit code has 18 characters; this has {len(code)}",
            example,
        )
    if not code[2:8].isdigit():
        return _no(
            lang,
            "统一社会信用代码的第 3–8 位是行政区划代码，应为数字",
            "Characters 3–8 of a credit code are the region code and must be digits",
            example,
        )
    if credit_code_check_char(code[:17]) != code[17]:
        return _no(
            lang,
            "统一社会信用代码校验位不符，请对照营业执照逐位核对",
            "The check character does not match; please compare it with the business licence character by "
            "character",
            example,
        )
    return _ok(code, lang)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB 11643-1999's own example.
_ID_EXAMPLE = "11010519491231002X"


def id_number_check_char(first17: str) -> str:
    """The 18th character of a PRC citizen identity number whose first 17 digits are given (GB 11643-1999)."""
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def check_id_number(raw: str, *, lang: str = "zh", today: date | None = None) -> Checked[str]:
    """An 18-digit PRC identity number with a real birth date (1900 to today) and a correct check digit."""
    example = _ID_EXAMPLE
    number = re.sub(r"[\s\-]", "", _fold(raw)).upper()
    if not number:
        return _no(lang, "请填写 18 位身份证号码", "Please give the 18-digit PRC identity number", example)
    if len(number) == 15 and number.isdigit():
        return _no(
            lang,
            "15 位旧身份证已停止使用，请填写 18 位身份证号码",
            "15-digit identity cards are no longer valid; please give the 18-digit number",
            example,
        )
    if len(number) != 18:
        return _no(
            lang,
            f"身份证号码应为 18 位，您填写了 {len(number)} 位",
            f"A PRC identity number has 18 characters; this has {len(number)}",
            example,
        )
    if not number[:17].isdigit() or not number[:17].isascii() or number[17] not in "0123456789X":
        return _no(
            lang,
            "身份证号码前 17 位是数字，最后一位是数字或 X",
            "An identity number is 17 digits followed by a digit or X",
            example,
        )
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        born = date(year, month, day)
    except ValueError:
        return _no(
            lang,
            f"身份证号码中的出生日期 {number[6:14]} 不存在",
            f"The birth date {number[6:14]} in this number does not exist",
            example,
        )
    if born.year < 1900 or born > _today(today):
        return _no(
            lang,
            f"身份证号码中的出生日期 {born} 不合理",
            f"The birth date {born} in this number is impossible",
            example,
        )
    if id_number_check_char(number[:17]) != number[17]:
        return _no(
            lang,
            "身份证号码校验位不符，请逐位核对",
            "The check digit does not match; please check the number digit by digit",
            example,
        )
    return _ok(number, lang)


def check_passport(raw: str, *, lang: str = "zh") -> Checked[str]:
    """A passport number: 5–20 letters and digits, spaces removed, letters upper-cased."""
    example = "E12345678"
    number = re.sub(r"[\s\-]", "", _fold(raw)).upper()
    if not number:
        return _no(lang, "请填写护照号码", "Please give the passport number", example)
    if not re.fullmatch(r"[A-Z0-9]+", number):
        return _no(
            lang, "护照号码只能包含英文字母和数字", "A passport number has only letters and digits", example
        )
    if not 5 <= len(number) <= 20:
        return _no(
            lang,
            f"护照号码应为 5–20 位，您填写了 {len(number)} 位",
            f"A passport number has 5–20 characters; this has {len(number)}",
            example,
        )
    if len(set(number)) == 1:
        return _no(lang, "这不像真实的护照号码", "This does not look like a real passport number", example)
    return _ok(number, lang)


# ----------------------------------------------------------------------------------------------------- names

_NAME_EXAMPLE = ("张伟", "Jane Smith")
_DOTS = str.maketrans(dict.fromkeys("•・･‧∙⋅●", "·"))
_PLACEHOLDERS_ZH = frozenset(
    {
        "匿名", "无名", "无名氏", "佚名", "不详", "未知", "保密", "本人", "自己", "某人", "某某",
        "测试", "用户", "管理员", "客服", "联系人", "负责人", "张三", "李四", "王五", "赵六",
        "路人甲", "先生", "女士", "小姐", "老师", "老板", "同学", "朋友", "无",
    }
)  # fmt: skip
# Honorifics that never end a registered name; a name that ends with one is a form of address.
_TITLES_ZH = (
    "先生", "女士", "小姐", "老师", "教授", "博士", "院士", "经理", "总经理", "董事长", "总监",
    "主任", "老板", "师傅", "同学", "校长", "院长", "所长", "书记", "局长", "处长", "科长", "部长",
)  # fmt: skip
# One-character titles that are also ordinary given-name characters; only a surname before them gives them away.
_SHORT_TITLES_ZH = frozenset("总董工哥姐叔姨爷")
_NICK_PREFIXES = frozenset("小老阿")
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "司徒", "夏侯",
        "尉迟", "公孙", "长孙", "宇文", "独孤", "端木", "百里", "呼延", "南宫", "西门",
    }
)  # fmt: skip
_INTERJECTIONS = frozenset("哈呵嘿嘻啊哦嗯额呃噢喔哇")
_TITLES_EN = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam"})
_PLACEHOLDERS_EN = frozenset(
    {
        "test", "tester", "admin", "administrator", "anonymous", "anon", "user", "username", "demo",
        "null", "none", "nobody", "unknown", "asdf", "qwerty", "xxx", "sample", "example", "name",
    }
)  # fmt: skip
_PLACEHOLDER_FULL_EN = frozenset({"john doe", "jane doe", "zhang san", "li si", "wang wu", "first last"})
_LATIN_PART = re.compile(r"^[^\W\d_]+(?:['-][^\W\d_]+)*\.?$")


def _clean_name(raw: str) -> str:
    # Compatibility form: full-width letters and compatibility ideographs become the ordinary ones.
    return _SPACE_RUN.sub(" ", unicodedata.normalize("NFKC", raw).translate(_INVISIBLE)).strip()


def _name_refusal(lang: str, zh: str, en: str) -> Checked[str]:
    return _no(lang, zh, en, *_NAME_EXAMPLE)


def _chinese_name_problem(name: str) -> tuple[str, str] | None:
    han = name.replace("·", "")
    if name.startswith("·") or name.endswith("·") or "··" in name:
        return "间隔号“·”只能用在名字中间", 'The middle dot "·" can only stand between parts of a name'
    if len(han) < 2:
        return (
            "请填写完整的真实姓名，不能只有一个字",
            "Please give the full real name, not a single character",
        )
    if len(han) > 20:
        return "中文姓名最多 20 个汉字", "A Chinese name has at most 20 characters"
    if name in _PLACEHOLDERS_ZH or "某" in name or "测试" in name:
        return f"“{name}”不是真实姓名", f'"{name}" is not a real name'
    if len(set(han)) == 1 or set(han) <= _INTERJECTIONS:
        return f"“{name}”不像真实姓名（叠字或语气词）", f'"{name}" does not look like a real name'
    title = next((t for t in _TITLES_ZH if han.endswith(t)), None)
    if title is not None:
        return (
            f"请去掉称呼“{title}”，只填写身份证件上的姓名",
            f'Please leave out the form of address "{title}" and give the name as on the identity document',
        )
    rest = han[:-1]
    if han[-1] in _SHORT_TITLES_ZH and (len(rest) == 1 or rest in _COMPOUND_SURNAMES):
        return (
            f"“{name}”是称呼而不是姓名，请填写完整的真实姓名",
            f'"{name}" is a form of address, not a name; please give the full real name',
        )
    if len(han) == 2 and han[0] in _NICK_PREFIXES:
        return (
            f"“{name}”像是昵称，请填写身份证件上的真实姓名",
            f'"{name}" looks like a nickname; please give the real name as on the identity document',
        )
    return None


def _latin_name_problem(name: str) -> tuple[str, str] | None:
    parts = name.split(" ")
    if any(not _LATIN_PART.match(part) for part in parts):
        return (
            "英文姓名只能包含字母、空格、连字符和撇号",
            "A name in Latin letters may contain only letters, spaces, hyphens and apostrophes",
        )
    if any(not _is_latin_letter(ch) for ch in name if ch.isalpha()):
        return "请只用中文或拉丁字母填写姓名", "Please write the name in Chinese characters or Latin letters"
    folded = [part.rstrip(".").casefold() for part in parts]
    if folded[0] in _TITLES_EN:
        return (
            "请去掉称谓（如 Mr、Dr），只填写姓名",
            "Please leave out titles such as Mr or Dr and give the name only",
        )
    if " ".join(folded) in _PLACEHOLDER_FULL_EN or any(p in _PLACEHOLDERS_EN for p in folded):
        return f"“{name}”不是真实姓名", f'"{name}" is not a real name'
    if len(parts) < 2:
        return "请填写名和姓，至少两部分", "Please give both the given name and the family name"
    letters = [p.replace("'", "").replace("-", "") for p in folded]
    if all(len(p) == 1 for p in letters) or len(set(folded)) == 1:
        return f"“{name}”不像真实姓名", f'"{name}" does not look like a real name'
    if any(len(p) >= 3 and len(set(p)) == 1 for p in letters):
        return f"“{name}”不像真实姓名", f'"{name}" does not look like a real name'
    if len(name) > 100:
        return "姓名太长，最多 100 个字符", "The name is too long (at most 100 characters)"
    return None


def check_person_name(raw: str, *, lang: str = "zh") -> Checked[str]:
    """A person's real name: 2–20 Han characters (· between parts allowed) or Latin 'Given Family'."""
    name = _clean_name(raw).translate(_DOTS).replace("’", "'").replace("‘", "'")
    if not name:
        return _name_refusal(lang, "请填写真实姓名", "Please give your real name")
    if name.startswith("@"):
        return _name_refusal(
            lang,
            "请填写真实姓名，而不是 Telegram 用户名",
            "Please give your real name, not a Telegram username",
        )
    if any(ch.isdigit() for ch in name):
        return _name_refusal(lang, "姓名中不能有数字", "A name cannot contain digits")
    if any(_is_emoji_or_symbol(ch) or _is_control(ch) for ch in name):
        return _name_refusal(lang, "姓名中不能有表情或特殊符号", "A name cannot contain emoji or symbols")
    if any(_is_han(ch) for ch in name):
        # Chinese names are written solid; "王 小明" is the same name.
        name = re.sub(r"\s*·\s*", "·", name)
        name = re.sub(r"\s+", "", name) if all(_is_han(ch) or ch in "· " for ch in name) else name
        if not all(_is_han(ch) or ch == "·" for ch in name):
            return _name_refusal(
                lang,
                "中文姓名只能由汉字组成（少数民族或外国人译名可用“·”分隔），不要夹杂字母或标点",
                "A Chinese name consists of Han characters only (with · between parts of a transliterated name)",
            )
        problem = _chinese_name_problem(name)
    elif any(ch.isalpha() for ch in name):
        problem = _latin_name_problem(name)
    else:
        problem = ("请填写真实姓名", "Please give your real name")
    if problem is not None:
        return _name_refusal(lang, *problem)
    return _ok(name, lang)


_ORG_EXAMPLE = ("上海科创先锋科技有限公司", "Pioneer Technologies Ltd.")
# Organisation forms a registered Chinese name ends with (companies, partnerships, public bodies, institutions).
_ORG_FORMS_ZH = (
    "有限责任公司", "股份有限公司", "有限公司", "股份公司", "集团公司", "总公司", "分公司", "公司", "集团",
    "合伙企业", "（有限合伙）", "（普通合伙）", "（特殊普通合伙）", "合作社", "事务所", "个人独资企业",
    "研究院", "研究所", "研究中心", "科学院", "设计院", "医院", "院", "实验室", "大学", "学院", "学校",
    "中心", "管委会", "管理委员会", "委员会", "管理局", "园区", "产业园", "科技园", "孵化器", "开发区",
    "高新区", "示范区", "新区", "街道", "街道办事处", "办事处", "代表处", "人民政府", "政府", "局",
    "协会", "学会", "商会", "基金会", "联合会", "促进会", "研究会", "联盟", "银行", "分行", "支行", "厂",
)  # fmt: skip
# Legal-form endings, compared on lower-case tokens with dots and slashes removed ("S.A." → "sa", "A/S" → "as").
_ORG_FORMS_EN = tuple(
    tuple(form.split())
    for form in (
        "ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp",
        "plc", "pllc", "gmbh", "ggmbh", "ag", "kg", "kgaa", "ohg", "se", "ev", "sa", "sas", "sarl", "sl",
        "sau", "spa", "srl", "bv", "nv", "pty", "kk", "gk", "oy", "oyj", "ab", "as", "asa", "aps", "sro",
        "kft", "zrt", "ltda", "lda", "bhd", "sp z oo", "ulc", "cic", "sagl", "scs", "sca",
    )
)  # fmt: skip
_INSTITUTION_WORDS = frozenset(
    {
        "university", "universität", "universitat", "université", "universite", "universidad",
        "università", "universiteit", "universitet", "institute", "institut", "instituto", "istituto",
        "college", "academy", "akademie", "académie", "school", "hochschule", "polytechnic",
        "politecnico", "laboratory", "laboratories", "foundation", "stiftung", "society", "association",
        "gesellschaft", "hospital", "centre", "center", "council", "agency", "ministry", "authority",
    }
)  # fmt: skip


def _org_refusal(lang: str, zh: str, en: str) -> Checked[str]:
    return _no(lang, zh, en, *_ORG_EXAMPLE)


def check_org_name(raw: str, *, lang: str = "zh") -> Checked[str]:
    """An organisation's full registered name: Chinese with an organisation form, or foreign with a legal form."""
    name = _clean_name(raw)
    if not name:
        return _org_refusal(lang, "请填写单位全称", "Please give the organisation's full registered name")
    if name.startswith("@") or re.search(r"https?://|www\.", name, re.IGNORECASE):
        return _org_refusal(
            lang,
            "请填写营业执照或登记证书上的单位全称，而不是账号或网址",
            "Please give the registered name, not an account or a web address",
        )
    if any((_is_emoji_or_symbol(ch) and ch not in "&+") or _is_control(ch) for ch in name):
        return _org_refusal(
            lang, "单位名称中不能有表情或特殊符号", "An organisation name cannot contain emoji or symbols"
        )
    if not any(ch.isalpha() for ch in name):
        return _org_refusal(
            lang, "单位名称不能只有数字或符号", "An organisation name cannot be only digits or symbols"
        )
    if "某某" in name:
        return _org_refusal(lang, f"“{name}”不是真实的单位名称", f'"{name}" is not a real organisation name')
    if any(_is_han(ch) for ch in name):
        # Registered Chinese names use full-width brackets and no spaces next to Chinese characters.
        name = name.replace("(", "（").replace(")", "）")
        name = re.sub(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+", "", name)
        form = next((f for f in _ORG_FORMS_ZH if name.endswith(f)), None)
        # At least a two-character name before the form: "有限公司" alone names nobody.
        if len(name) < 4 or form is None or len(name) - len(form) < 2:
            return _org_refusal(
                lang,
                "请填写与营业执照或登记证书一致的单位全称，应以“有限公司”“研究院”“大学”“管委会”等组织形式结尾",
                "Please give the full name as registered, ending with its organisation form "
                "(e.g. 有限公司, 研究院, 大学, 管委会)",
            )
        # "腾讯公司" is how people say it, not how it is registered: a bare 公司 follows a longer name.
        if form == "公司" and len(name) - len(form) < 4:
            return _org_refusal(
                lang,
                f"“{name}”是简称，请填写营业执照上的完整名称",
                f'"{name}" is a short name; please give the full name on the business licence',
            )
        return _ok(name, lang)
    if any(ch.isalpha() and not _is_latin_letter(ch) for ch in name):
        return _org_refusal(
            lang,
            "单位名称请用中文或拉丁字母填写",
            "Please write the organisation name in Chinese or Latin letters",
        )
    tokens = re.findall(r"[^\W_]+", re.sub(r"[./]", "", name.casefold()))
    is_institution = any(token in _INSTITUTION_WORDS for token in tokens)
    form_en = next((f for f in _ORG_FORMS_EN if tuple(tokens[-len(f) :]) == f), None)
    body = tokens[: len(tokens) - len(form_en)] if form_en else tokens
    if not is_institution and (form_en is None or not any(ch.isalpha() for ch in "".join(body))):
        return _org_refusal(
            lang,
            "请填写单位注册全称，包括公司形式（如 Ltd、Inc.、GmbH）或大学、研究机构的完整名称",
            "Please give the full registered name including its legal form (e.g. Ltd, Inc., GmbH, S.A.), "
            "or the full name of the university or institute",
        )
    return _ok(name, lang)


# -------------------------------------------------------------------------------------------------- registry


# Every check_* takes (raw, *, lang="zh", **limits); the limits differ by type, hence the loose signature.
Validator = Callable[..., Checked[Any]]

_REGISTRY: dict[str, Validator] = {
    "text": check_text,
    "long_text": check_long_text,
    "choice": check_choice,
    "choices": check_choices,
    "integer": check_integer,
    "money": check_money,
    "percentage": check_percentage,
    "date": check_date,
    "year": check_year,
    "period": check_period,
    "mobile": check_mobile,
    "email": check_email,
    "url": check_url,
    "credit_code": check_credit_code,
    "id_number": check_id_number,
    "passport": check_passport,
    "person_name": check_person_name,
    "org_name": check_org_name,
}
# Field types as the form definitions name them; the intake looks a field's validator up here.
VALIDATORS: Mapping[str, Validator] = MappingProxyType(_REGISTRY)
