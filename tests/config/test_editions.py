"""Editions as folders: loading them, each one's state over the year, and which one is live."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.editions import EditionError, Editions, load_edition, load_editions
from config.settings import Settings
from editions.prepare import prepare_edition

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIPPED = Settings(_env_file=None).editions_dir  # type: ignore[call-arg]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def two(tmp_path: Path) -> Editions:
    """The shipped 2024 edition and a 2025 made from it by `kcxf edition new`."""
    root = Path(shutil.copytree(SHIPPED, tmp_path / "editions"))
    prepare_edition(load_editions(root).get(2024), 2025, root=root)
    return load_editions(root)


def test_the_shipped_folder_holds_2024_and_no_code_names_it():
    editions = load_editions(SHIPPED)
    assert 2024 in editions.years
    edition = editions.get(2024)
    assert edition.campaign.guideline_doc == "guideline-2024" and edition.forms_dir.is_dir()
    assert edition.opens == at(2024, 9, 15) and edition.ends == at(2024, 12, 1)


@pytest.mark.parametrize(("now", "state"), [
    (at(2024, 9, 14, 23, 59), "preparing"), (at(2024, 9, 15), "open"), (at(2024, 10, 20, 23, 59), "open"),
    (at(2024, 10, 21), "reviewing"), (at(2024, 11, 30, 12), "reviewing"), (at(2024, 12, 1), "closed"),
])
def test_an_editions_state_follows_its_dates(now: datetime, state: str):
    assert load_editions(SHIPPED).get(2024).state(now) == state


@pytest.mark.parametrize(("now", "live"), [
    (at(2024, 10, 1), 2024),   # 2024 open
    (at(2024, 11, 5), 2024),   # 2024 reviewing
    (at(2025, 6, 1), 2024),    # between: the latest that ran, not the one still being prepared
    (at(2025, 9, 20), 2025),   # 2025 open
    (at(2027, 1, 1), 2025),    # both over: the latest
])
def test_the_live_edition_is_the_one_whose_window_holds_now_else_the_latest_that_ran(two: Editions, now, live):
    assert two.live(now).year == live


def test_a_setting_overrides_the_dates_and_an_unknown_year_is_refused(two: Editions):
    assert two.live(at(2025, 6, 1), override=2025).year == 2025
    with pytest.raises(EditionError, match="no edition 2031; known: 2024, 2025"):
        two.live(at(2025, 6, 1), override=2031)


def test_the_next_call_is_announced_only_while_it_is_prepared(two: Editions):
    past = two.get(2024)
    assert two.next_after(past, at(2025, 6, 1)) is two.get(2025)
    assert two.next_after(past, at(2025, 9, 20)) is None  # open already: it is the live one


def test_a_folder_must_be_named_by_its_editions_year(tmp_path: Path):
    folder = Path(shutil.copytree(SHIPPED / "2024", tmp_path / "2023"))
    with pytest.raises(EditionError, match="edition 2024 sits in folder '2023'"):
        load_edition(folder)
    with pytest.raises(EditionError, match="no edition in"):
        load_editions(tmp_path / "2023" / "forms")


def test_a_new_edition_moves_every_date_a_year_and_keeps_the_comments(two: Editions):
    old, new = two.get(2024), two.get(2025)
    assert new.campaign.deadline == old.campaign.deadline.replace(year=2025)
    assert [p.start and p.start.year for p in new.campaign.timeline] == [None, 2025, 2025, 2025]
    assert new.campaign.name.zh == "2025 科创先锋案例征集" and new.campaign.guideline_doc == "guideline-2025"
    text = (new.folder / "campaign.yaml").read_text(encoding="utf-8")
    assert "# Section 五(三)" in text and "The 2024 edition of 科创先锋案例征集" in text  # comments untouched
    assert sorted(p.name for p in new.docs_dir.iterdir()) == ["guideline-2025.en.md", "guideline-2025.zh.md"]
    assert (new.forms_dir / "pioneer_product.yaml").read_bytes() == (old.forms_dir / "pioneer_product.yaml").read_bytes()
    with pytest.raises(EditionError, match="exists already"):
        prepare_edition(old, 2025, root=new.folder.parent)
    with pytest.raises(EditionError, match="must come after"):
        prepare_edition(new, 2024, root=new.folder.parent)
