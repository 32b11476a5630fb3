"""Everything an edition needs before it goes live, and what in it still quotes the edition it was made from.

Problems stop it going live (a file that does not load, dates out of order, an award without a form, the
guideline missing in a language); review items are for a person to read (FAQ answers quoting the previous
edition's year, dates or deadline).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from config.campaign import Campaign, CampaignError
from config.editions import Edition, EditionError, Editions, load_edition
from intake.forms import FormError, load_forms
from judging.scorecards import ScorecardError, load_scorecards
from knowledge.faq import FaqEntry, FaqFileError, load_faq
from knowledge.ingest import IngestError, read_document

__all__ = ["Finding", "check_edition"]

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Finding:
    """One thing `kcxf edition check` reports: a problem (blocks going live) or an item to review."""

    kind: Literal["problem", "review"]
    where: str
    what: str


def check_edition(folder: Path, *, editions: Editions | None = None) -> list[Finding]:
    """Check the edition in `folder`; `editions` (all of them) lets it compare with the edition before."""
    try:
        edition = load_edition(folder)
    except (CampaignError, EditionError) as exc:
        return [Finding("problem", str(folder), str(exc))]
    campaign = edition.campaign
    findings = list(_dates(campaign))
    findings += _forms(edition)
    findings += _guideline(edition)
    try:
        faq = load_faq(edition.faq_file)
    except FaqFileError as exc:
        findings.append(Finding("problem", "faq.yaml", str(exc)))
        faq = []
    previous = _previous(edition, editions)
    if previous is not None:
        findings += _ordered_after(edition, previous)
        findings += _stale_answers(faq, old=previous.campaign, new=campaign)
    return findings


def _previous(edition: Edition, editions: Editions | None) -> Edition | None:
    earlier = [e for e in editions or () if e.year < edition.year]
    return earlier[-1] if earlier else None


def _dates(campaign: Campaign) -> Iterable[Finding]:
    last: tuple[str, date] | None = None
    for phase in campaign.timeline:
        for which, day in (("start", phase.start), ("end", phase.end)):
            if day is None:
                continue
            if last is not None and day < last[1]:
                yield Finding("problem", f"campaign.yaml timeline.{phase.id}.{which}",
                              f"{day} comes before {last[0]} ({last[1]}): the timeline must be in order")
            last = (f"{phase.id}.{which}", day)
    if campaign.opens is not None and campaign.deadline <= campaign.opens:
        yield Finding("problem", "campaign.yaml deadline",
                      f"the deadline {campaign.deadline.isoformat()} is not after entries open ({campaign.opens.date()})")
    if campaign.deadline.year != campaign.edition:
        yield Finding("review", "campaign.yaml deadline",
                      f"the deadline {campaign.deadline.isoformat()} is not in {campaign.edition}")


def _forms(edition: Edition) -> Iterable[Finding]:
    try:
        load_forms(edition.campaign, directory=edition.forms_dir)
    except FormError as exc:
        yield Finding("problem", "forms/", str(exc))
    if edition.scorecards_file.exists():
        try:
            load_scorecards(edition.scorecards_file, edition.campaign)
        except ScorecardError as exc:
            yield Finding("problem", "scorecards.yaml", str(exc))


def _guideline(edition: Edition) -> Iterable[Finding]:
    doc = edition.campaign.guideline_doc
    langs: set[str] = set()
    for path in sorted(edition.docs_dir.glob("*")):
        try:
            document = read_document(path)
        except IngestError as exc:
            yield Finding("problem", f"docs/{path.name}", str(exc))
            continue
        if document.doc == doc:
            langs.add(document.lang)
    for lang in LANGS:
        if lang not in langs:
            yield Finding("problem", "docs/", f"the guideline {doc!r} (campaign.yaml guideline_doc) has no {lang} "
                                              f"document")


def _ordered_after(edition: Edition, previous: Edition) -> Iterable[Finding]:
    opens = edition.opens
    if opens is not None and opens < previous.ends:
        yield Finding("problem", "campaign.yaml timeline",
                      f"entries open on {opens.date()}, before edition {previous.year} ends ({previous.ends.date()})")


def _days(campaign: Campaign) -> set[date]:
    days = {d for p in campaign.timeline for d in (p.start, p.end) if d is not None}
    # The deadline 2024-10-21T00:00 is the end of 20 October, the day the guideline names.
    days |= {campaign.deadline.date(), (campaign.deadline - timedelta(microseconds=1)).date()}
    return days


def _day_pattern(day: date) -> str:
    month = calendar.month_name[day.month]
    return (rf"(?<!\d){day.month}\s*月\s*{day.day}\s*[日号](?!\d)|(?<!\d){day.day}(?:st|nd|rd|th)?\s+{month}"
            rf"|{month}\s+{day.day}(?!\d)|{day.year}-{day.month:02d}-{day.day:02d}")


def _stale_answers(faq: list[FaqEntry], *, old: Campaign, new: Campaign) -> Iterable[Finding]:
    """FAQ answers quoting the old edition: its year, a date of its timeline the new one no longer has, or its
    deadline as displayed."""
    new_days = {(d.month, d.day) for d in _days(new)}
    stale = [d for d in sorted(_days(old)) if (d.month, d.day) not in new_days]
    quotes = [(rf"(?<!\d){old.edition}(?!\d)", str(old.edition))]
    quotes += [(_day_pattern(d), d.strftime("%-d %B")) for d in stale]
    quotes += [(re.escape(old.deadline_display.get(lang)), f"deadline “{old.deadline_display.get(lang)}”")
               for lang in LANGS]
    for entry in faq:
        for lang, answer in entry.answer.items():
            found = [label for pattern, label in quotes if re.search(pattern, answer, flags=re.IGNORECASE)]
            if found:
                yield Finding("review", f"faq.yaml {entry.id} ({lang})",
                              f"quotes {', '.join(dict.fromkeys(found))} of edition {old.edition}: “{answer[:80]}”")
