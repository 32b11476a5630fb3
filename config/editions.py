"""Editions of the call as folders of data, and which one is live at an instant.

An edition is a folder named by its year under the editions folder (config/editions/<year>/) holding what that
year's call says: campaign.yaml, forms/*.yaml, scorecards.yaml, docs/*.md (the guideline in zh and en) and
faq.yaml. Code never names a year: the folders say which editions exist, and their dates say which one is live.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from config.campaign import Campaign, load_campaign
from config.settings import Settings

__all__ = ["STATES", "Edition", "EditionError", "Editions", "State", "live_edition", "load_edition", "load_editions"]

State = Literal["preparing", "open", "reviewing", "closed"]
STATES: tuple[State, ...] = ("preparing", "open", "reviewing", "closed")
CAMPAIGN_FILE = "campaign.yaml"


class EditionError(ValueError):
    """The editions folder, or the edition asked for, is missing or inconsistent."""


# eq=False: an edition is itself (hashed by identity), so its loaded forms can be cached per edition.
@dataclass(frozen=True, eq=False)
class Edition:
    """One year's call: its folder and its validated campaign."""

    year: int
    folder: Path
    campaign: Campaign

    @property
    def forms_dir(self) -> Path:
        return self.folder / "forms"

    @property
    def scorecards_file(self) -> Path:
        return self.folder / "scorecards.yaml"

    @property
    def docs_dir(self) -> Path:
        return self.folder / "docs"

    @property
    def faq_file(self) -> Path:
        return self.folder / "faq.yaml"

    @property
    def opens(self) -> datetime | None:
        """When entries open, from the timeline (the first phase start); None when the edition does not say."""
        return self.campaign.opens

    @property
    def ends(self) -> datetime:
        """The end of the edition's window: the day after its last dated phase, or its deadline."""
        days = [d for p in self.campaign.timeline for d in (p.start, p.end) if d is not None]
        last = max(days, default=None)
        if last is None:
            return self.campaign.deadline
        return max(self.campaign.deadline, _midnight(last + timedelta(days=1), self.campaign))

    def state(self, now: datetime) -> State:
        """preparing before entries open, open until the deadline, reviewing until the window ends, then closed."""
        if self.opens is not None and now < self.opens:
            return "preparing"
        if now < self.campaign.deadline:
            return "open"
        return "reviewing" if now < self.ends else "closed"

    def holds(self, now: datetime) -> bool:
        """Whether `now` falls inside this edition's window (open or reviewing)."""
        return self.state(now) in ("open", "reviewing")


def _midnight(day: date, campaign: Campaign) -> datetime:
    return datetime.combine(day, time(0), tzinfo=campaign.deadline.tzinfo)


class Editions(Sequence[Edition]):
    """Every edition found, oldest first."""

    def __init__(self, editions: Sequence[Edition]) -> None:
        if not editions:
            raise EditionError("no edition found")
        self._items = tuple(sorted(editions, key=lambda e: e.year))

    def __getitem__(self, i):  # type: ignore[no-untyped-def, override]
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Edition]:
        return iter(self._items)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(e.year for e in self._items)

    def get(self, year: int) -> Edition:
        """The edition of `year`; EditionError naming the known years if there is none."""
        for edition in self._items:
            if edition.year == year:
                return edition
        raise EditionError(f"no edition {year}; known: {', '.join(map(str, self.years))}")

    def live(self, now: datetime, *, override: int | None = None) -> Edition:
        """The edition the bot serves at `now`: `override` if set; else the one whose window holds now; else the
        latest that has opened (a prepared edition whose entries open later is announced, not served)."""
        if override is not None:
            return self.get(override)
        holding = [e for e in self._items if e.holds(now)]
        if holding:
            return holding[-1]
        started = [e for e in self._items if e.state(now) != "preparing"]
        return started[-1] if started else self._items[0]

    def next_after(self, edition: Edition, now: datetime) -> Edition | None:
        """The first later edition whose entries open after `now` with a known date (what /apply can announce)."""
        for later in self._items:
            if later.year > edition.year and later.state(now) == "preparing" and later.opens is not None:
                return later
        return None


def load_edition(folder: Path) -> Edition:
    """Load one edition folder; CampaignError from a broken campaign file, EditionError on a misnamed folder."""
    campaign = load_campaign(folder / CAMPAIGN_FILE)
    if str(campaign.edition) != folder.name:
        raise EditionError(f"{folder / CAMPAIGN_FILE}: edition {campaign.edition} sits in folder {folder.name!r}; "
                           f"an edition's folder is named by its year")
    return Edition(year=campaign.edition, folder=folder, campaign=campaign)


def load_editions(root: Path) -> Editions:
    """Every edition under `root` (folders named by a year, holding campaign.yaml)."""
    root = Path(root)
    if not root.is_dir():
        raise EditionError(f"editions folder {root} not found")
    folders = [p for p in sorted(root.iterdir()) if p.is_dir() and p.name.isdigit() and (p / CAMPAIGN_FILE).exists()]
    if not folders:
        raise EditionError(f"no edition in {root} (expected folders like {root}/<year>/{CAMPAIGN_FILE})")
    return Editions([load_edition(p) for p in folders])


def live_edition(settings: Settings) -> tuple[Editions, Edition]:
    """The editions the settings point to, and the one live at the settings' clock (or KCXF_EDITION)."""
    editions = load_editions(settings.editions_dir)
    return editions, editions.live(settings.clock().now(), override=settings.edition)
