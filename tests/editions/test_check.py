"""`kcxf edition check`'s findings: each problem that keeps an edition from going live, and what to review."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.campaign import CampaignError
from config.editions import Editions, load_editions
from config.settings import Settings
from editions.check import check_edition
from editions.prepare import prepare_edition


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = Path(shutil.copytree(Settings(_env_file=None).editions_dir, tmp_path / "editions"))  # type: ignore[call-arg]
    prepare_edition(load_editions(root).get(2024), 2025, root=root)
    return root


def findings(root: Path) -> list[tuple[str, str, str]]:
    try:
        editions: Editions | None = load_editions(root)
    except CampaignError:  # as `kcxf edition check` does: the broken edition is checked alone
        editions = None
    return [(f.kind, f.where, f.what) for f in check_edition(root / "2025", editions=editions)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_shipped_edition_has_no_problem():
    folder = Settings(_env_file=None).editions_dir / "2024"  # type: ignore[call-arg]
    assert [f for f in check_edition(folder) if f.kind == "problem"] == []


def test_a_fresh_copy_has_no_problem_and_lists_the_faq_answers_quoting_the_old_year(root: Path):
    found = findings(root)
    assert [f for f in found if f[0] == "problem"] == []
    deadline = [what for kind, where, what in found if where == "faq.yaml deadline (zh)"]
    assert deadline and "quotes 2024" in deadline[0]


def test_an_answer_quoting_a_date_the_new_edition_moved_is_listed(root: Path):
    edit(root / "2025" / "campaign.yaml", 'deadline: "2025-10-21T00:00:00+08:00"', 'deadline: "2025-10-31T00:00:00+08:00"')
    edit(root / "2025" / "campaign.yaml", 'end: "2025-10-20"', 'end: "2025-10-30"')
    edit(root / "2025" / "faq.yaml", "报名截止时间为 2024 年 10 月 20 日（周日）24 点。", "报名截止时间为 10 月 20 日 24 点。")
    [what] = [what for kind, where, what in findings(root) if where == "faq.yaml deadline (zh)"]
    assert "20 October" in what and "quotes 2024" not in what


def test_dates_out_of_order_are_a_problem(root: Path):
    edit(root / "2025" / "campaign.yaml", 'start: "2025-10-21"', 'start: "2025-10-01"')
    assert any(kind == "problem" and "timeline.review.start" in where for kind, where, _ in findings(root))


def test_an_edition_opening_before_the_last_one_ends_is_a_problem(root: Path):
    edit(root / "2025" / "campaign.yaml", 'start: "2025-09-15"', 'start: "2024-11-15"')
    assert any(kind == "problem" and "before edition 2024 ends" in what for kind, _, what in findings(root))


def test_an_award_without_a_form_is_a_problem(root: Path):
    (root / "2025" / "forms" / "pioneer_product.yaml").unlink()
    assert any(kind == "problem" and where == "forms/" and "pioneer_product" in what
               for kind, where, what in findings(root))


def test_the_guideline_must_exist_in_both_languages(root: Path):
    (root / "2025" / "docs" / "guideline-2025.en.md").unlink()
    assert ("problem", "docs/", "the guideline 'guideline-2025' (campaign.yaml guideline_doc) has no en document") \
        in findings(root)


def test_a_campaign_that_does_not_load_is_reported_not_raised(root: Path):
    edit(root / "2025" / "campaign.yaml", "group: person", "group: persons")
    [(kind, _, what)] = findings(root)
    assert kind == "problem" and "persons" in what
