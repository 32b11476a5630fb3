"""How entries are judged, as data: stages, a scorecard per award group, risk items, recommendations, blind rules.

Read from the edition's scorecards.yaml (config/editions/<year>/) and checked against the campaign at start-up: every group
has a scorecard, every dimension is one of the campaign's, every status a stage names exists. No code names a
dimension, a risk item or a compared field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from config import Campaign, Localized
from config.yaml_location import key_path, line_of, read_yaml
from intake.queue import STATUSES

__all__ = [
    "Blind",
    "Dimension",
    "Recommendation",
    "RiskItem",
    "Scale",
    "Scorecard",
    "ScorecardError",
    "Scorecards",
    "Stage",
    "load_scorecards",
]

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Stage(_Data):
    """A stage of 六 (初审, 终审): the statuses its entries come from, hold while judged, and move to."""

    id: Id
    name: Localized
    entries_from: tuple[str, ...] = Field(min_length=1)
    during: str
    chosen: str
    others: str
    # The committee's decisions wait for the jury chair's sign-off before anything moves (六: 初审 … 评审团主席签核).
    sign_off: bool = False

    @model_validator(mode="after")
    def _known_statuses(self) -> Stage:
        for status in (*self.entries_from, self.during, self.chosen, self.others):
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
        return self


class Recommendation(_Data):
    """A judge's overall recommendation."""

    id: Id
    name: Localized


class RiskItem(_Data):
    """An item of the risk diagnosis; `answer` is the form field where the entrant described it."""

    id: Id
    name: Localized
    guidance: Localized
    answer: str | None = None


class Blind(_Data):
    """What a blind round hides from judges: answers of these field types and these fields."""

    hide_types: frozenset[str] = frozenset()
    hide_fields: frozenset[str] = frozenset()


class Scale(_Data):
    """Whole-number scores from `min` to `max`, both included."""

    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"min {self.min} must be below max {self.max}")
        return self

    def holds(self, value: int) -> bool:
        """Whether `value` is a score on this scale."""
        return self.min <= value <= self.max

    def __str__(self) -> str:
        return f"{self.min}–{self.max}"


class _DimensionSpec(_Data):
    dimension: Id
    weight: Annotated[float, Field(gt=0)]
    scale: Scale
    guidance: Localized


class _ScorecardSpec(_Data):
    group: Id
    dimensions: tuple[_DimensionSpec, ...] = Field(min_length=1)
    compare: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")], ...] = ()


class _FileSpec(_Data):
    stages: tuple[Stage, ...] = Field(min_length=1)
    recommendations: tuple[Recommendation, ...] = Field(min_length=1)
    risks: tuple[RiskItem, ...] = ()
    blind: Blind = Blind()
    scorecards: tuple[_ScorecardSpec, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Dimension:
    """A scored dimension: its id and name (the campaign's), what a judge looks at, its scale and weight."""

    id: str
    name: Localized
    guidance: Localized
    scale: Scale
    weight: float


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The scorecard of one award group."""

    group: str
    dimensions: tuple[Dimension, ...]
    compare: tuple[str, ...]

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension with this id; KeyError if the scorecard has none."""
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)


@dataclass(frozen=True, slots=True)
class Scorecards:
    """Everything an edition's scorecards.yaml says, resolved against the campaign."""

    stages: tuple[Stage, ...]
    recommendations: tuple[Recommendation, ...]
    risks: tuple[RiskItem, ...]
    blind: Blind
    by_group: Mapping[str, Scorecard]
    campaign: Campaign

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; KeyError for an unknown one."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)

    def for_award(self, award_id: str) -> Scorecard:
        """The scorecard of the award's group; KeyError for an unknown award."""
        return self.by_group[self.campaign.award(award_id).group]

    def recommendation(self, recommendation_id: str) -> Recommendation | None:
        """The recommendation with this id, or None."""
        return next((r for r in self.recommendations if r.id == recommendation_id), None)


class ScorecardError(ValueError):
    """The scorecards file is missing or wrong; the message names the file, the key path, the line and the problem."""


def load_scorecards(path: Path, campaign: Campaign) -> Scorecards:
    """Read and check the scorecards file against the campaign; ScorecardError says what is wrong and where."""
    path = Path(path)
    try:
        root, data = read_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScorecardError(f"{path}: cannot read the scorecards file: {exc}") from None
    except yaml.YAMLError as exc:
        raise ScorecardError(f"{path}: YAML error: {exc}") from None
    if not isinstance(data, dict):
        raise ScorecardError(f"{path}: the top level must be a mapping")
    # Keys starting with "_" hold YAML anchors shared by several scorecards; they are not settings.
    data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    try:
        spec = _FileSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            line = line_of(root, loc)
            lines.append(f"{path}{f':{line}' if line else ''}: {key_path(loc)}: {error['msg'].removeprefix('Value error, ')}")
        raise ScorecardError("\n".join(lines)) from None
    return _resolve(path, spec, campaign, data, root)


def _resolve(path: Path, spec: _FileSpec, campaign: Campaign, data: dict[str, Any], root: Any) -> Scorecards:
    problems: list[str] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        line = line_of(root, loc)
        problems.append(f"{path}{f':{line}' if line else ''}: {key_path(loc)}: {message}")

    names = {d.id: d.name for d in campaign.dimensions}
    groups = {g.id for g in campaign.groups}
    by_group: dict[str, Scorecard] = {}
    for i, card in enumerate(spec.scorecards):
        if card.group not in groups:
            problem(("scorecards", i, "group"), f"unknown group {card.group!r}; known: {', '.join(sorted(groups))}")
            continue
        if card.group in by_group:
            problem(("scorecards", i, "group"), f"a second scorecard for {card.group!r}")
        dimensions = []
        for j, d in enumerate(card.dimensions):
            if d.dimension not in names:
                problem(("scorecards", i, "dimensions", j, "dimension"),
                        f"unknown dimension {d.dimension!r}; the campaign's: {', '.join(names)}")
                continue
            dimensions.append(Dimension(id=d.dimension, name=names[d.dimension], guidance=d.guidance,
                                        scale=d.scale, weight=d.weight))
        if len({d.id for d in dimensions}) != len(dimensions):
            problem(("scorecards", i, "dimensions"), "a dimension is listed twice")
        by_group[card.group] = Scorecard(group=card.group, dimensions=tuple(dimensions), compare=card.compare)
    for group in sorted(groups - set(by_group)):
        problem(("scorecards",), f"no scorecard for group {group!r}")
    for key, items in (("stages", spec.stages), ("recommendations", spec.recommendations), ("risks", spec.risks)):
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            problem((key,), "an id is used twice")
    if problems:
        raise ScorecardError("\n".join(problems))
    return Scorecards(stages=spec.stages, recommendations=spec.recommendations, risks=spec.risks, blind=spec.blind,
                      by_group=by_group, campaign=campaign)
