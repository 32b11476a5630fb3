"""Identity codes: the 统一社会信用代码 and the 居民身份证号码 (checksums by python-stdnum), and passport numbers."""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from intake.validation.checked import Checked, accept, fold, refuse, today_in_beijing

__all__ = ["check_credit_code", "check_id_number", "check_passport"]

# GB 32100-2015: 31 characters, the digits and the capitals without I, O, S, V, Z. Spelled out so that a refusal
# can name the letters a code never uses.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# The standard's own worked example.
_CREDIT_EXAMPLE = "91350100M000100Y43"


def check_credit_code(raw: str, *, lang: str = "zh") -> Checked[str]:
    """A 统一社会信用代码: 18 characters of the GB 32100 alphabet with a correct check character; upper-cased."""
    example = _CREDIT_EXAMPLE
    code = re.sub(r"[\s\-]", "", fold(raw)).upper()
    if not code:
        return refuse(
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
            return refuse(
                lang,
                f"统一社会信用代码不使用字母 I、O、S、V、Z，其中有 {shown}（可能是数字 1、0、5 等的误写）",
                f"A credit code never uses the letters I, O, S, V or Z; this has {', '.join(letters)} "
                "(perhaps the digits 1, 0, 5…)",
                example,
            )
        return refuse(
            lang,
            "统一社会信用代码只由数字和大写英文字母组成",
            "A credit code consists of digits and capital letters only",
            example,
        )
    if len(code) != 18:
        return refuse(
            lang,
            f"统一社会信用代码应为 18 位，您填写了 {len(code)} 位",
            f"A unified social credit code has 18 characters; this has {len(code)}",
            example,
        )
    if not code[2:8].isdigit():
        return refuse(
            lang,
            "统一社会信用代码的第 3–8 位是行政区划代码，应为数字",
            "Characters 3–8 of a credit code are the region code and must be digits",
            example,
        )
    # Only the check character is stdnum's: its validate() also wants the first two characters to be digits,
    # while GB 32100 lets them be letters (the A, N and Y registration authorities).
    if uscc.calc_check_digit(code) != code[17]:
        return refuse(
            lang,
            "统一社会信用代码校验位不符，请对照营业执照逐位核对",
            "The check character does not match; please compare it with the business licence character by "
            "character",
            example,
        )
    return accept(code, lang)


# GB 11643-1999's own example.
_ID_EXAMPLE = "11010519491231002X"


def check_id_number(raw: str, *, lang: str = "zh", today: date | None = None) -> Checked[str]:
    """An 18-digit PRC identity number with a real birth date (1900 to today) and a correct check digit."""
    example = _ID_EXAMPLE
    number = re.sub(r"[\s\-]", "", fold(raw)).upper()
    if not number:
        return refuse(lang, "请填写 18 位身份证号码", "Please give the 18-digit PRC identity number", example)
    if len(number) == 15 and number.isdigit():
        return refuse(
            lang,
            "15 位旧身份证已停止使用，请填写 18 位身份证号码",
            "15-digit identity cards are no longer valid; please give the 18-digit number",
            example,
        )
    if len(number) != 18:
        return refuse(
            lang,
            f"身份证号码应为 18 位，您填写了 {len(number)} 位",
            f"A PRC identity number has 18 characters; this has {len(number)}",
            example,
        )
    if not number[:17].isdigit() or not number[:17].isascii() or number[17] not in "0123456789X":
        return refuse(
            lang,
            "身份证号码前 17 位是数字，最后一位是数字或 X",
            "An identity number is 17 digits followed by a digit or X",
            example,
        )
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return refuse(
            lang,
            f"身份证号码中的出生日期 {number[6:14]} 不存在",
            f"The birth date {number[6:14]} in this number does not exist",
            example,
        )
    if born.year < 1900 or born > today_in_beijing(today):
        return refuse(
            lang,
            f"身份证号码中的出生日期 {born} 不合理",
            f"The birth date {born} in this number is impossible",
            example,
        )
    # Only the check digit is stdnum's: its validate() also refuses a region code that did not yet exist in the
    # birth year, but a number carries the code of where it was issued, often years after the birth (浦东新区's
    # 310115 dates from 1992 and is on the cards of people born in 1990).
    if ric.calc_check_digit(number) != number[17]:
        return refuse(
            lang,
            "身份证号码校验位不符，请逐位核对",
            "The check digit does not match; please check the number digit by digit",
            example,
        )
    return accept(number, lang)


def check_passport(raw: str, *, lang: str = "zh") -> Checked[str]:
    """A passport number: 5–20 letters and digits, spaces removed, letters upper-cased."""
    example = "E12345678"
    number = re.sub(r"[\s\-]", "", fold(raw)).upper()
    if not number:
        return refuse(lang, "请填写护照号码", "Please give the passport number", example)
    if not re.fullmatch(r"[A-Z0-9]+", number):
        return refuse(
            lang, "护照号码只能包含英文字母和数字", "A passport number has only letters and digits", example
        )
    if not 5 <= len(number) <= 20:
        return refuse(
            lang,
            f"护照号码应为 5–20 位，您填写了 {len(number)} 位",
            f"A passport number has 5–20 characters; this has {len(number)}",
            example,
        )
    if len(set(number)) == 1:
        return refuse(lang, "这不像真实的护照号码", "This does not look like a real passport number", example)
    return accept(number, lang)
