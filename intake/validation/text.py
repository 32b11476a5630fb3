"""Free text: one-line and long answers, the characters they may hold, and which script (language) they are in."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Literal

from config import Localized
from intake.validation.checked import INVISIBLE, Checked, accept, refuse

__all__ = ["Script", "check_long_text", "check_text", "detect_script", "is_chinese_text"]

# Joiners are format characters too, but emoji sequences (👩‍💻) need them.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
SPACE_RUN = re.compile(r"\s+")
_HSPACE_RUN = re.compile(r"[^\S\n]+")


# CJK ideographs: the unified blocks, extension A, the compatibility block and the supplementary planes' B-H.
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_HAN = re.compile(f"[{_HAN_RANGES}]")


def is_han(ch: str) -> bool:
    """True for a Han (CJK) ideograph."""
    return _HAN.match(ch) is not None


def is_latin_letter(ch: str) -> bool:
    """True for a letter of the Latin script, accented ones included."""
    if ch.isascii():
        return ch.isalpha()
    return ch.isalpha() and "LATIN" in unicodedata.name(ch, "")


def is_control(ch: str) -> bool:
    """True for a control, private-use or unassigned character (emoji joiners excepted)."""
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _ALLOWED_FORMAT
    # Han extensions newer than this Python's Unicode tables read as unassigned (Cn) but are real characters.
    return category in {"Cc", "Cs", "Co", "Cn"} and not is_han(ch)


def is_emoji_or_symbol(ch: str) -> bool:
    """True for an emoji, pictograph or symbol no name contains."""
    # So covers emoji and pictographs; Sk/Sm catch modifiers and maths signs nobody has in a name.
    return unicodedata.category(ch) in {"So", "Sk", "Sm", "Cs", "Co"} or 0x1F000 <= ord(ch) < 0x20000


def clean_line(raw: str) -> str:
    """One line: NFC, invisible characters dropped, runs of whitespace made one space."""
    return SPACE_RUN.sub(" ", unicodedata.normalize("NFC", raw).translate(INVISIBLE)).strip()


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
        if is_latin_letter(ch):
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
        if is_control(ch):
            return ch
    return None


def _empty_or_control(
    text: str, *, lang: str, examples: tuple[str, str], allow_newline: bool
) -> Checked[Any] | None:
    """The refusal shared by one-line and long text: nothing typed, or invisible control characters."""
    if not text:
        return refuse(lang, "这一项不能为空", "This answer cannot be empty", *examples)
    if _bad_char(text, allow_newline=allow_newline) is not None:
        return refuse(
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
    text = clean_line(raw)
    refused = _empty_or_control(text, lang=lang, examples=(ex_zh, ex_en), allow_newline=False)
    if refused is not None:
        return refused
    if len(text) < min_len:
        return refuse(
            lang,
            f"内容太短：至少 {min_len} 个字符，现在只有 {len(text)} 个",
            f"Too short: at least {min_len} characters are needed, this has {len(text)}",
            ex_zh,
            ex_en,
        )
    if len(text) > max_len:
        return refuse(
            lang,
            f"内容太长：最多 {max_len} 个字符，现在有 {len(text)} 个",
            f"Too long: at most {max_len} characters, this has {len(text)}",
            ex_zh,
            ex_en,
        )
    return accept(text, lang)


def _clean_paragraphs(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).translate(INVISIBLE)
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
        return refuse(
            lang,
            f"内容太短：至少 {min_len} 字，现在只有 {len(text)} 字",
            f"Too short: at least {min_len} characters are needed, this has {len(text)}",
            ex_zh,
            ex_en,
        )
    if len(text) > max_len:
        return refuse(
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
            return refuse(
                lang,
                "境内参选者请用中文填写这一项",
                "Entries from mainland China must answer this in Chinese",
                ex_zh,
                ex_en,
            )
        if allowed == {"en"} and script not in {"latin", "none"}:
            return refuse(lang, "这一项请用英文填写", "Please answer this in English", ex_en, ex_en)
        if allowed == {"zh", "en"} and script == "other":
            return refuse(
                lang,
                "这一项请用中文或英文填写",
                "Please answer this in Chinese or English",
                ex_zh,
                ex_en,
            )
    return accept(text, lang)
