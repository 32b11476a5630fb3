"""Numbers and money: counts, amounts in RMB and percentages, in digits or in Chinese numerals (read by cn2an)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from intake.validation.checked import Checked, accept, clamp, fold, refuse

__all__ = ["check_integer", "check_money", "check_percentage"]

# The characters of a Chinese numeral in its everyday (二十五) and financial (贰拾伍) forms.
_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"


def _cn_number(text: str) -> Decimal | None:
    """A Chinese numeral with an optional 点 fraction (二十五, 一亿二千万, 十二点五, 伍佰万) as a Decimal."""
    if not text:
        return None
    # cn2an's strict mode, which refuses digit strings (一二三) and spoken short forms (三万五) rather than
    # guess, wants 二 for 两, 零 for 〇 and the 一 that speech drops before a leading 百 or 千 (百分之百).
    text = text.replace("两", "二").replace("〇", "零")
    if text[0] in "百千佰仟":
        text = "一" + text
    # Imported here: cn2an reads its YAML configuration (ruamel.yaml) six times on import, a quarter of a
    # second that every `kcxf` command paid at start-up (this module comes with the forms), few reading a number.
    import cn2an

    try:
        value = cn2an.cn2an(text, "strict")
    except ValueError:
        return None
    # A fraction comes back as a float rounded to its own (at most 16) digits: its shortest repr is those digits.
    return Decimal(str(value))


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
    return _cn_number(text)


_NEGATIVE = re.compile(r"^(?:-|−|负)")
_ABOUT = re.compile(r"^(?:约合|大约|约|approximately|approx\.?|about|around|~)\s*", re.IGNORECASE)


# No count or amount on the form needs more digits; longer input is a paste accident, and refusing it early keeps
# Decimal arithmetic exact and messages short.
_MAX_NUMBER_CHARS = 40
_MAX_YUAN = 10**18


def _too_long(lang: str, text: str, example: str, example_en: str | None = None) -> Checked[Any] | None:
    if len(text) <= _MAX_NUMBER_CHARS:
        return None
    return refuse(
        lang,
        "数字太长，请检查是否多输了",
        "That number is far too long; please check it",
        example,
        example_en,
    )


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
    example = str(clamp(120, min_value, max_value))
    text = _COUNT_WORDS.sub("", _ABOUT.sub("", fold(raw))).strip()
    if refused := _too_long(lang, text, example):
        return refused
    negative = bool(_NEGATIVE.match(text))
    if negative:
        text = _NEGATIVE.sub("", text).strip()
    value = _number(text)
    if value is None:
        return refuse(lang, "请填写一个整数（阿拉伯数字）", "Please give a whole number in digits", example)
    if value != value.to_integral_value():
        return refuse(
            lang, "这里需要整数，不能带小数", "A whole number is needed here, without decimals", example
        )
    number = -int(value) if negative else int(value)
    if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
        zh, en = _range_text(min_value, max_value)
        return refuse(
            lang, f"数值应{zh}，您填写的是 {number}", f"The number must be {en}; you gave {number}", example
        )
    return accept(number, lang)


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
    rf"(?:(?:元|圆|块|yuan|rmb|cny|人民币)(?:整|钱)?)?$",
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
    example_amount = clamp(5_000_000, min_value, max_value)
    example = _yuan_display(example_amount)
    example_en = f"RMB {example_amount:,}"
    text = _ABOUT.sub("", fold(raw)).strip()
    if refused := _too_long(lang, text, example, example_en):
        return refused
    if not text:
        return refuse(lang, "请填写金额（人民币）", "Please give an amount in RMB", example, example_en)
    if _FOREIGN_CURRENCY.search(text):
        return refuse(
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
        return refuse(
            lang,
            "无法识别这个金额，请写一个数字，可带“元”“万元”“亿元”等单位",
            "This amount could not be read; write one number, in yuan or with 万 (10,000) / 亿 (100 million)",
            example,
            example_en,
        )
    unit = match.group("unit")
    amount = number * _MONEY_UNITS[unit.lower()] if unit else number
    if negative and amount:
        return refuse(lang, "金额不能为负数", "The amount cannot be negative", example, example_en)
    if amount >= _MAX_YUAN:
        return refuse(
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
        return refuse(
            lang,
            f"金额应{zh}，您填写的是 {_yuan_display(yuan)}",
            f"The amount must be {en}; you gave {yuan:,} yuan",
            example,
            example_en,
        )
    return accept(yuan, lang)


_PERCENT = re.compile(
    rf"^(?:百分之(?P<cn>[{_CN_NUMERAL}点]+)"
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
    example_value = clamp(Decimal("12.5"), None if min_value is None else Decimal(min_value), high)
    example = f"{example_value}%"
    text = _ABOUT.sub("", fold(raw)).strip()
    if refused := _too_long(lang, text, example):
        return refused
    negative = bool(_NEGATIVE.match(text))
    if negative:
        text = _NEGATIVE.sub("", text).strip()
    match = _PERCENT.match(text)
    value = None
    if match:
        value = _cn_number(match.group("cn")) if match.group("cn") else _arabic(match.group("number"))
    if value is None:
        return refuse(lang, "请填写一个百分比数字", "Please give a percentage as a number", example)
    value = -value if negative else value
    if (min_value is not None and value < min_value) or (high is not None and value > high):
        zh, en = _range_text(min_value, high, "%", "%")
        return refuse(
            lang,
            f"百分比应{zh}，您填写的是 {value}%",
            f"The percentage must be {en}; you gave {value}%",
            example,
        )
    return accept(value, lang)
