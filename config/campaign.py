"""The edition of the campaign as validated data: awards, groups, tracks, categories, timeline and deadline."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.yaml_location import Loc, key_path, line_of, read_yaml

__all__ = [
    "Award",
    "Campaign",
    "CampaignError",
    "Committee",
    "Dimension",
    "Group",
    "Keywords",
    "Localized",
    "Phase",
    "ProductCategory",
    "Reminders",
    "Track",
    "load_campaign",
]

# Ids become prompt keys (intake.ask.<field_id>) and callback data, so they stay plain ASCII identifiers.
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, Field(min_length=1)]

_SUBJECT_FIELDS = frozenset({"award", "entrant"})
_MAILBOX = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Data(BaseModel):
    """Base of every campaign model: immutable, and a misspelt key is an error rather than silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Localized(_Data):
    """A text in Chinese and English."""

    zh: Text
    en: Text

    def get(self, lang: str) -> str:
        """The text in `lang` ('zh', 'en', region suffixes ignored); Chinese, the campaign's language, otherwise."""
        return self.en if lang.lower().startswith("en") else self.zh

    def __str__(self) -> str:
        return self.zh


class Terms(_Data):
    """A list of short texts in each language."""

    zh: tuple[Text, ...] = ()
    en: tuple[Text, ...] = ()

    def get(self, lang: str) -> tuple[str, ...]:
        """The texts for `lang`."""
        return self.en if lang.lower().startswith("en") else self.zh


class Keywords(Terms):
    """Words by which an entrant's own description points to a group, award or track (matching aid, not rules)."""


class Committee(_Data):
    """Where the organising committee sits and where entries are mailed."""

    location: Localized
    mailbox: Annotated[str, Field(pattern=_MAILBOX.pattern)]


class Phase(_Data):
    """One step of the timeline; dates are inclusive and unknown ones are null."""

    id: Id
    name: Localized
    start: date | None = None
    end: date | None = None
    # The guideline gives some dates only as 中旬 or 月底; those are marked so nobody quotes them as exact.
    approximate: bool = False
    display: Localized
    description: Localized | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class Dimension(_Data):
    """A dimension along which the jury describes or measures an entry."""

    id: Id
    name: Localized
    hint: Localized | None = None


class Group(_Data):
    """A family of awards sharing an entrant kind (enterprise, person, city case, product)."""

    id: Id
    name: Localized
    dimensions: tuple[Id, ...] = ()
    # 二·征集范围 limits enterprises and people to the industry tracks; parks, districts and products are not.
    in_track_scope: bool = False
    keywords: Keywords = Keywords()


class Award(_Data):
    """One of the lists (榜单) an entry can compete for."""

    id: Id
    group: Id
    name: Localized
    summary: Localized
    criteria: tuple[Localized, ...] = Field(min_length=1)
    keywords: Keywords = Keywords()
    # What entrants call it besides its name ("the product award", "人物奖"): read as its name when matching.
    aliases: Terms = Terms()


class Track(_Data):
    """An industry track (行业赛道) with the guideline's example fields."""

    id: Id
    name: Localized
    examples: Terms = Terms()
    keywords: Keywords = Keywords()


class ProductCategory(_Data):
    """A product category (产品类目)."""

    id: Id
    name: Localized


class Reminders(_Data):
    """When entrants with an unfinished draft are reminded (intake.reminders); empty: never."""

    # One reminder at each of these many days before the deadline, to drafts begun before that moment.
    days_before_deadline: tuple[Annotated[int, Field(gt=0)], ...] = ()
    # One reminder once a draft has had neither work nor a reminder for this many days; None: none.
    quiet_after_days: Annotated[int, Field(gt=0)] | None = None
    # No message in these hours of `time_zone` (they may wrap past midnight); one due then waits for `quiet_until`.
    quiet_from: time | None = None
    quiet_until: time | None = None
    time_zone: Text = "Asia/Shanghai"

    @field_validator("days_before_deadline")
    @classmethod
    def _distinct(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(value)) != len(value):
            raise ValueError("each day is named once")
        return tuple(sorted(value, reverse=True))

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _both_ends(self) -> Reminders:
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValueError("quiet_from and quiet_until are given together")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The zone quiet hours are read in."""
        return ZoneInfo(self.time_zone)

    @property
    def quiet_after(self) -> timedelta | None:
        return None if self.quiet_after_days is None else timedelta(days=self.quiet_after_days)

    def is_quiet(self, now: datetime) -> bool:
        """Whether the aware instant `now` falls in the quiet hours."""
        if self.quiet_from is None or self.quiet_until is None:
            return False
        local = now.astimezone(self.tz).time()
        if self.quiet_from <= self.quiet_until:
            return self.quiet_from <= local < self.quiet_until
        return local >= self.quiet_from or local < self.quiet_until


class _Problems(ValueError):
    """Several cross-reference problems found at once, each with its own key path."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key_path(loc)}: {msg}" for loc, msg in problems))


class Campaign(_Data):
    """One edition of the campaign."""

    edition: Annotated[int, Field(ge=2000, le=2100)]
    guideline_doc: Text
    name: Localized
    organizer: Localized
    committee: Committee
    deadline: datetime
    deadline_display: Localized
    subject_format: Text
    timeline: tuple[Phase, ...] = Field(min_length=1)
    dimensions: tuple[Dimension, ...] = ()
    groups: tuple[Group, ...] = Field(min_length=1)
    awards: tuple[Award, ...] = Field(min_length=1)
    tracks: tuple[Track, ...] = Field(min_length=1)
    product_categories: tuple[ProductCategory, ...] = Field(min_length=1)
    # The guideline's own terms in both languages ("申报表" / "application form"): an entrant who writes one in the
    # other language ("which email do i send the 申报表 to") is read as if they had written it in theirs.
    glossary: tuple[Localized, ...] = ()
    reminders: Reminders = Reminders()

    @field_validator("deadline")
    @classmethod
    def _aware_deadline(cls, value: datetime) -> datetime:
        # A naive deadline would be read in whatever zone the server runs in, and comparing it fails at run time.
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must carry a UTC offset, e.g. 2024-10-21T00:00:00+08:00")
        return value

    @field_validator("subject_format")
    @classmethod
    def _subject_placeholders(cls, value: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"not a format string: {exc}") from None
        if fields != _SUBJECT_FIELDS:
            raise ValueError(f"must use exactly {{award}} and {{entrant}}, found {sorted(fields)}")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Campaign:
        problems = _reference_problems(self.model_dump())
        if problems:
            raise _Problems(problems)
        return self

    def award(self, award_id: str) -> Award:
        """The award with this id; KeyError if there is none."""
        for award in self.awards:
            if award.id == award_id:
                return award
        raise KeyError(f"unknown award {award_id!r}")

    def group(self, group_id: str) -> Group:
        """The group with this id; KeyError if there is none."""
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(f"unknown group {group_id!r}")

    def awards_in(self, group_id: str) -> tuple[Award, ...]:
        """The awards of a group, in file order; KeyError for an unknown group so a typo is not an empty list."""
        self.group(group_id)
        return tuple(a for a in self.awards if a.group == group_id)

    def dimensions_of(self, group_id: str) -> tuple[Dimension, ...]:
        """The dimensions that describe entries of a group, in the group's order."""
        by_id = {d.id: d for d in self.dimensions}
        return tuple(by_id[d] for d in self.group(group_id).dimensions)

    @property
    def opens(self) -> datetime | None:
        """When entries open: the first dated phase's start, at midnight in the deadline's zone; None if undated."""
        starts = [p.start for p in self.timeline if p.start is not None]
        if not starts:
            return None
        return datetime.combine(min(starts), time(0), tzinfo=self.deadline.tzinfo)

    def is_open(self, now: datetime) -> bool:
        """Whether entries are accepted at the aware instant `now`: from the opening day until the deadline."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware; take it from a config.clock.Clock")
        opens = self.opens
        return (opens is None or opens <= now) and now < self.deadline

    def subject(self, award_id: str, entrant_name: str) -> str:
        """The mail subject the guideline asks for, e.g. 参选类别（年度科创先锋产品）+ 某某科技有限公司."""
        entrant = entrant_name.strip()
        if not entrant:
            raise ValueError("entrant name is empty")
        return self.subject_format.format(award=self.award(award_id).name.zh, entrant=entrant)


def _reference_problems(data: dict[str, Any]) -> list[tuple[Loc, str]]:
    """Duplicate ids and dangling references; tolerant of malformed data so the loader can run it on raw YAML."""

    def items(key: str) -> list[tuple[int, dict[str, Any]]]:
        value = data.get(key)
        return (
            [(i, x) for i, x in enumerate(value) if isinstance(x, dict)]
            if isinstance(value, list | tuple)
            else []
        )

    problems: list[tuple[Loc, str]] = []
    for key in ("timeline", "dimensions", "groups", "awards", "tracks", "product_categories"):
        first: dict[str, int] = {}
        for i, item in items(key):
            item_id = item.get("id")
            if not isinstance(item_id, str):
                continue
            if item_id in first:
                problems.append(
                    ((key, i, "id"), f"duplicate id {item_id!r}, first used at {key}[{first[item_id]}]")
                )
            else:
                first[item_id] = i
    group_ids = [g["id"] for _, g in items("groups") if isinstance(g.get("id"), str)]
    dimension_ids = [d["id"] for _, d in items("dimensions") if isinstance(d.get("id"), str)]
    for i, award in items("awards"):
        group = award.get("group")
        if isinstance(group, str) and group not in group_ids:
            problems.append(
                (("awards", i, "group"), f"unknown group {group!r}; known: {', '.join(group_ids)}")
            )
    for i, group in items("groups"):
        refs = group.get("dimensions")
        for j, ref in enumerate(refs if isinstance(refs, list | tuple) else []):
            if isinstance(ref, str) and ref not in dimension_ids:
                known = ", ".join(dimension_ids) or "(none)"
                problems.append(
                    (("groups", i, "dimensions", j), f"unknown dimension {ref!r}; known: {known}")
                )
    return problems


class CampaignError(ValueError):
    """The campaign file is missing or invalid; the message names the file, each key path and the problem."""

    def __init__(self, path: Path, problems: Iterable[tuple[str, int | None, str]]) -> None:
        self.path = path
        # (key path, 1-based line or None, what is wrong), for callers that want more than the message.
        self.problems = tuple(problems)
        lines = [
            f"{path}{f':{line}' if line else ''}: {key + ': ' if key else ''}{message}"
            for key, line, message in self.problems
        ]
        head = f"invalid campaign file, {len(lines)} problems:\n  " if len(lines) > 1 else ""
        super().__init__(head + "\n  ".join(lines))


def load_campaign(path: Path) -> Campaign:
    """Read and validate a campaign YAML file; CampaignError says what is wrong and where."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CampaignError(path, [("", None, "campaign file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError(path, [("", None, f"cannot read campaign file: {exc}")]) from None

    try:
        root, data = read_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise CampaignError(path, [("", line, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise CampaignError(path, [("", None, f"YAML error: {exc}")]) from None

    if not isinstance(data, dict):
        raise CampaignError(path, [("", 1, f"top level must be a mapping, found {type(data).__name__}")])
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise CampaignError(path, _describe(exc, data, root)) from None


def _describe(
    exc: ValidationError, data: dict[str, Any], root: yaml.Node
) -> list[tuple[str, int | None, str]]:
    problems: list[tuple[str, int | None, str]] = []
    errors = exc.errors(include_url=False)
    # Pydantic skips the cross-reference check when a field is invalid; run it on the raw data so that one
    # edit-and-reload cycle shows every problem.
    if not any(isinstance((e.get("ctx") or {}).get("error"), _Problems) for e in errors):
        problems += [(key_path(loc), line_of(root, loc), msg) for loc, msg in _reference_problems(data)]
    for error in errors:
        cause = (error.get("ctx") or {}).get("error")
        # Cross-reference checks report many problems through one error; list each under its own key.
        if isinstance(cause, _Problems):
            problems += [(key_path(loc), line_of(root, loc), msg) for loc, msg in cause.problems]
            continue
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (misspelt, or not part of the campaign schema)"
        problems.append((key_path(loc), line_of(root, loc), message))
    return problems
