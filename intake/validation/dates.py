"""Dates and spans of time: a calendar date, a year, and a 起止时间 period of months (possibly 至今)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from intake.validation.checked import Checked, accept, clamp, fold, refuse, today_in_beijing

__all__ = ["Period", "YearMonth", "check_date", "check_period", "check_year"]

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
        now = today_in_beijing(today)
        latest = now if latest is None else min(latest, now)
    example_date = clamp(date(2024, 3, 1), min_date, latest)
    example = example_date.isoformat()
    text = fold(raw)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            break
    else:
        return refuse(
            lang,
            "请按“年-月-日”或“某年某月某日”填写日期",
            "Please write the date as year-month-day",
            example,
        )
    year, month, day = map(int, match.groups())
    if year < 1:
        return refuse(lang, "年份不正确", "The year is not valid", example)
    try:
        value = date(year, month, day)
    except ValueError:
        zh, en = _impossible(year, month, day)
        return refuse(lang, f"日期不存在：{zh}", f"That date does not exist: {en}", example)
    if not_future and value > today_in_beijing(today):
        return refuse(lang, f"日期 {value} 还没有到，不能是将来的日期", f"{value} is in the future", example)
    if min_date is not None and value < min_date:
        return refuse(lang, f"日期不能早于 {min_date}", f"The date cannot be before {min_date}", example)
    if max_date is not None and value > max_date:
        return refuse(lang, f"日期不能晚于 {max_date}", f"The date cannot be after {max_date}", example)
    return accept(value, lang)


def check_year(
    raw: str,
    *,
    lang: str = "zh",
    min_year: int = 1900,
    max_year: int = 2100,
) -> Checked[int]:
    """A four-digit year (2021 / 2021年) between `min_year` and `max_year`."""
    example = str(clamp(2021, min_year, max_year))
    match = re.fullmatch(r"(\d{4})\s*年?", fold(raw))
    if match is None:
        return refuse(lang, "请填写四位数的年份", "Please give a four-digit year", example)
    year = int(match.group(1))
    if not min_year <= year <= max_year:
        return refuse(
            lang,
            f"年份应在 {min_year} 到 {max_year} 之间",
            f"The year must be between {min_year} and {max_year}",
            example,
        )
    return accept(year, lang)


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
    end_year = clamp(2024, min_year, max_year)
    example_zh = example_en = f"{max(min_year, end_year - 3)}.03-{end_year}.06"
    text = fold(raw)
    match = _PERIOD.match(text) or _PERIOD_OPEN.match(text)
    if match is None:
        return refuse(
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
            return refuse(
                lang, f"月份 {ym.month} 不存在", f"There is no month {ym.month}", example_zh, example_en
            )
        if not min_year <= ym.year <= max_year:
            return refuse(
                lang,
                f"年份应在 {min_year} 到 {max_year} 之间",
                f"Years must be between {min_year} and {max_year}",
                example_zh,
                example_en,
            )
    if end is not None and end < start:
        return refuse(
            lang,
            f"结束时间 {end} 早于开始时间 {start}",
            f"The end {end} is before the start {start}",
            example_zh,
            example_en,
        )
    return accept(Period(start=start, end=end), lang)
