"""The queue's filters — award, status, dates, 境内/境外, text — read from a query string and turned into SQL.

The list page and the exports read the same filters, so an export holds exactly the entries the list shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_

from config.editions import Editions
from intake.queue import STATUSES, Submission

__all__ = ["PAGE_SIZES", "REGION_FIELD", "Problem", "QueueFilter"]

# The common form's 境内/境外 choice (the guideline's language rule hangs on it).
REGION_FIELD = "region"
PAGE_SIZES = (25, 50, 100)
MAX_QUERY = 100



@dataclass(frozen=True, slots=True)
class Problem:
    """A filter value that could not be used: the text key (console.queue.*) and its variables."""

    key: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the reviewer asked to see; `problems` are the values that could not be understood."""

    # The edition whose entries are listed; the live one unless the address names another (`live` says which).
    edition: int = 0
    live: int = field(default=0, compare=False)
    award: str | None = None
    status: str | None = None
    region: str | None = None
    since: date | None = None
    until: date | None = None
    q: str = ""
    page: int = 1
    per_page: int = PAGE_SIZES[0]
    newest_first: bool = False
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(
        cls, params: Mapping[str, str], *, editions: Editions, live: int, regions: Mapping[str, Any],
    ) -> QueueFilter:
        """Read the filters from query parameters; an unknown or malformed value is dropped with a problem."""
        problems: list[Problem] = []

        def pick(name: str, known: set[str] | Mapping[str, Any]) -> str | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            if value not in known:
                problems.append(Problem("console.queue.unknown_filter", value))
                return None
            return value

        def day(name: str) -> date | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                problems.append(Problem("console.queue.bad_date", value))
                return None

        edition = int(pick("edition", {str(y) for y in editions.years}) or live)
        award = pick("award", {a.id for a in editions.get(edition).campaign.awards})
        status = pick("status", STATUSES)
        region = pick("region", regions)
        since, until = day("from"), day("to")
        if since and until and since > until:
            problems.append(Problem("console.queue.bad_range"))
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        try:
            per_page = int(params.get("per") or PAGE_SIZES[0])
        except ValueError:
            per_page = PAGE_SIZES[0]
        return cls(
            edition=edition, live=live, award=award, status=status, region=region, since=since, until=until,
            q=" ".join((params.get("q") or "").split())[:MAX_QUERY], page=page,
            per_page=per_page if per_page in PAGE_SIZES else PAGE_SIZES[0],
            newest_first=params.get("sort") == "new", problems=tuple(problems),
        )

    def conditions(self, tz: ZoneInfo, *, with_status: bool = True) -> list[ColumnElement[bool]]:
        """SQL conditions on Submission; `with_status=False` leaves the status out (for the counts per status)."""
        where: list[ColumnElement[bool]] = []
        if self.edition:
            where.append(Submission.edition == self.edition)
        if self.award:
            where.append(Submission.award_id == self.award)
        if self.status and with_status:
            where.append(Submission.status == self.status)
        if self.region:
            where.append(Submission.answers[REGION_FIELD].as_string() == self.region)
        # Dates are the committee's days (the campaign's zone), as the list shows them.
        if self.since:
            where.append(Submission.created_at >= datetime.combine(self.since, time(), tz))
        if self.until:
            where.append(Submission.created_at < datetime.combine(self.until + timedelta(days=1), time(), tz))
        if self.q:
            where.append(or_(
                Submission.entrant_name.icontains(self.q, autoescape=True),
                Submission.reference.icontains(self.q, autoescape=True),
                Submission.subject.icontains(self.q, autoescape=True),
            ))
        return where

    def params(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters (defaults left out), with `changes` applied."""
        f = replace(self, **changes)
        values = {
            "edition": str(f.edition) if f.edition and f.edition != f.live else "",
            "award": f.award or "", "status": f.status or "", "region": f.region or "",
            "from": f.since.isoformat() if f.since else "", "to": f.until.isoformat() if f.until else "",
            "q": f.q, "sort": "new" if f.newest_first else "",
            "per": str(f.per_page) if f.per_page != PAGE_SIZES[0] else "", "page": str(f.page) if f.page > 1 else "",
        }
        return {k: v for k, v in values.items() if v}

    def query(self, **changes: Any) -> str:
        """`params` as a query string, '?…' or ''."""
        encoded = urlencode(self.params(**changes))
        return f"?{encoded}" if encoded else ""

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return bool(self.award or self.status or self.region or self.since or self.until or self.q)

