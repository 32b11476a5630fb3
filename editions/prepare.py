"""Make next year's edition from an existing one: a copy whose dates are a year later, for the operator to correct.

The campaign file is edited as text, so its comments stay: on every line that is not a comment the old year
becomes the new one (edition, dates, names, display texts, the guideline's id). The guideline documents are
renamed to the new id; their text, the forms, the scorecards and the FAQ are copied as they are. REVIEW.md in
the new folder lists what a person must look at; `kcxf edition check` finds the FAQ answers still quoting the
old edition.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from config.editions import CAMPAIGN_FILE, Edition, EditionError, load_edition

__all__ = ["REVIEW_FILE", "Prepared", "prepare_edition"]

REVIEW_FILE = "REVIEW.md"
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


@dataclass(frozen=True)
class Prepared:
    """The new edition's folder and what the operator must review."""

    folder: Path
    review: tuple[str, ...]


def _year_pattern(year: int) -> re.Pattern[str]:
    # Not inside a longer number ("2024" in "120245"), but next to CJK text ("2024年") or a date ("2024-10-21").
    return re.compile(rf"(?<!\d){year}(?!\d)")


def _valid(match: re.Match[str]) -> str:
    """A date moved to a year without 29 February becomes the 28th rather than an invalid date."""
    y, m, d = (int(g) for g in match.groups())
    try:
        date(y, m, d)
    except ValueError:
        return f"{y:04d}-{m:02d}-28"
    return match.group(0)


def _moved_campaign(text: str, old: int, new: int) -> tuple[str, list[str]]:
    """The campaign text with the year moved on its data lines, and a line to review per changed line."""
    year = _year_pattern(old)
    lines, review = [], []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if line.lstrip().startswith("#"):
            lines.append(line)
            continue
        code, hash_, comment = line.partition("#")
        if year.search(code):
            moved = _ISO_DATE.sub(_valid, year.sub(str(new), code))
            review.append(f"{CAMPAIGN_FILE}:{number}: `{code.strip()}` → `{moved.strip()}`")
            line = moved + hash_ + comment
        lines.append(line)
    return "".join(lines), review


def prepare_edition(source: Edition, year: int, *, root: Path) -> Prepared:
    """Copy `source` into root/<year> with its dates moved by the difference in years; EditionError if that
    folder exists or the year does not follow."""
    if year <= source.year:
        raise EditionError(f"edition {year} must come after the one it is made from ({source.year})")
    target = root / str(year)
    if target.exists():
        raise EditionError(f"{target} exists already; an edition is prepared once, then edited")
    scratch = root / f".{year}.preparing"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(source.folder, scratch, ignore=shutil.ignore_patterns(REVIEW_FILE, "__pycache__"))
    try:
        review = _move(scratch, source, year)
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    load_edition(target)  # the copy loads, or the error says where it does not
    return Prepared(folder=target, review=tuple(review))


def _move(folder: Path, source: Edition, year: int) -> list[str]:
    old = source.year
    campaign = folder / CAMPAIGN_FILE
    text, review = _moved_campaign(campaign.read_text(encoding="utf-8"), old, year)
    campaign.write_text(text, encoding="utf-8")
    docs = folder / "docs"
    renamed = []
    for path in sorted(docs.glob("*")) if docs.is_dir() else []:
        if _year_pattern(old).search(path.name):
            new_path = path.with_name(_year_pattern(old).sub(str(year), path.name))
            body = path.read_text(encoding="utf-8")
            # Only the id in the front matter: the text is the old guideline until the new one replaces it.
            body = re.sub(rf"^doc:\s*(\S*){old}(\S*)\s*$", rf"doc: \g<1>{year}\g<2>", body, count=1,
                          flags=re.MULTILINE)
            new_path.write_text(body, encoding="utf-8")
            path.unlink()
            renamed.append(new_path.name)
    lines = [
        f"# Edition {year}: to review before it goes live",
        "",
        f"Prepared by `kcxf edition new {year} --from {old}`. Every date below moved by {year - old} year(s);",
        "correct each to what the new guideline says (weekdays in display texts do not follow by themselves).",
        "Run `kcxf edition check " + str(year) + "` until it reports no problem, then delete this file.",
        "",
        "## Campaign (dates, names, display texts)",
        "",
        *[f"- {item}" for item in review],
        "",
        "## Guideline",
        "",
        *[f"- docs/{name}: still the {old} text under the new id; replace it with the {year} guideline (zh and en)"
          for name in renamed],
        "",
        "## Forms, scorecards, FAQ",
        "",
        f"- forms/ and scorecards.yaml are {old}'s: add, rename or remove awards in campaign.yaml and their forms",
        f"- faq.yaml is {old}'s: `kcxf edition check {year}` lists the answers that quote {old}'s dates",
        "",
    ]
    (folder / REVIEW_FILE).write_text("\n".join(lines), encoding="utf-8")
    return review + [f"docs/{name}" for name in renamed]
