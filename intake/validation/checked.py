"""What every field check returns, and the few helpers all of them share.

Every check has the shape ``check_x(raw, *, lang="zh", **limits) -> Checked``. A refusal never raises: it comes
back as ``Checked(ok=False, error=Localized(zh=..., en=...))`` and both texts say what is wrong and end with
``例如：<example>`` / ``Example: <example>``, an answer the same check accepts with the same limits. The checks
are pure (no I/O); the only ambient input is today's date, which every date-aware check takes as ``today`` and
falls back to Beijing time only when it is not given.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from config import Localized

T = TypeVar("T")

BEIJING = ZoneInfo("Asia/Shanghai")


# Invisible characters that arrive with copy-and-paste and carry no meaning: dropped rather than refused.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))


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


def accept(value: T, lang: str) -> Checked[T]:
    """The answer is taken, as `value`."""
    return Checked(ok=True, value=value, lang=lang)


def refuse(lang: str, zh: str, en: str, example: str, example_en: str | None = None) -> Checked[Any]:
    """The answer is refused: why, in both languages, and an answer that would be taken."""
    # The example goes last, after a fixed marker, so the applicant (and the tests) can find it.
    return Checked(
        ok=False,
        error=Localized(zh=f"{zh}。例如：{example}", en=f"{en}. Example: {example_en or example}"),
        lang=lang,
    )


def today_in_beijing(today: date | None) -> date:
    """`today` when the caller gives it, else today's date in Beijing."""
    # The campaign runs on Beijing time; callers with an injected clock pass `today` and stay deterministic.
    return today if today is not None else datetime.now(BEIJING).date()


def fold(raw: str) -> str:
    """Compatibility form: full-width digits, letters and punctuation become their ASCII forms."""
    return unicodedata.normalize("NFKC", raw).translate(INVISIBLE).strip()


def clamp(value: T, low: T | None, high: T | None) -> T:
    """`value` moved into [low, high] (either bound may be None); used to pick examples within the limits."""
    if low is not None and value < low:  # type: ignore[operator]
        value = low
    if high is not None and value > high:  # type: ignore[operator]
        value = high
    return value
