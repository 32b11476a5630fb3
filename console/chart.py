"""The dashboard's chart: entries submitted per day, stacked by award, drawn as inline SVG on the server.

No JavaScript library and nothing fetched: the page stays readable offline and in a screenshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

__all__ = ["COLORS", "MAX_DAYS", "Series", "daily_counts", "stacked_bars"]

# Seven awards, seven colours that stay apart for the common colour-vision deficiencies (Okabe–Ito order).
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C7A00", "#999999")
MAX_DAYS = 60


@dataclass(frozen=True, slots=True)
class Series:
    """One award's daily counts over the chart's days."""

    key: str
    label: str
    slot: int  # the award's place in the campaign: its colour, here and in the legend (CSS class c<slot>)
    counts: tuple[int, ...]

    @property
    def color(self) -> str:
        """The series' fill colour."""
        return COLORS[self.slot % len(COLORS)]


def daily_counts(
    rows: Iterable[tuple[str, datetime]], *, awards: Sequence[tuple[str, str]], tz: ZoneInfo
) -> tuple[list[date], list[Series]]:
    """Bucket (award id, submitted at) by the committee's calendar day; the last MAX_DAYS days that have any."""
    per_day: Counter[tuple[str, date]] = Counter()
    days_seen: set[date] = set()
    for award_id, instant in rows:
        day = instant.astimezone(tz).date()
        per_day[(award_id, day)] += 1
        days_seen.add(day)
    if not days_seen:
        return [], []
    last = max(days_seen)
    first = max(min(days_seen), last - timedelta(days=MAX_DAYS - 1))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    known = [award_id for award_id, _ in awards]
    labels = dict(awards)
    others = sorted({a for a, _ in per_day} - set(known))
    series = [
        Series(key=a, label=labels.get(a, a), slot=n % len(COLORS),
               counts=tuple(per_day[(a, d)] for d in days))
        for n, a in enumerate([*known, *others])
    ]
    return days, [s for s in series if any(s.counts)]


def stacked_bars(days: Sequence[date], series: Sequence[Series], *, title: str, width: int = 880,
                 height: int = 240) -> Markup:
    """An SVG bar chart, one bar per day stacked by series, with a y scale and a few date labels."""
    left, right, top, bottom = 36, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.counts[i] for s in series) for i in range(len(days))]
    peak = _nice_ceiling(max(totals, default=0))
    slot = plot_w / max(len(days), 1)
    bar = max(2.0, slot * 0.72)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in _ticks(peak):
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{tick}</text>')
    for i, day in enumerate(days):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for s in series:
            n = s.counts[i]
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{s.color}">'
                f"<title>{day.isoformat()} · {escape(s.label)}: {n}</title></rect>"
            )
    step = max(1, round(len(days) / 8))
    for i in range(0, len(days), step):
        x = left + slot * i + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" class="tick" text-anchor="middle">'
                     f"{days[i].strftime('%m-%d')}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value`."""
    base = 1
    while True:
        for factor in (1, 2, 5):
            if base * factor >= value:
                return base * factor
        base *= 10


def _ticks(peak: int) -> list[int]:
    """Four or five evenly spaced whole numbers from 0 to a nice peak."""
    if peak < 10:
        return list(range(0, peak + 1))
    step = peak // (4 if str(peak)[0] == "2" else 5)
    return list(range(0, peak + 1, step))
