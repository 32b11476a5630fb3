"""The scorecards file: the guideline's dimensions and risk items as shipped, and a broken file named line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Campaign
from judging.scorecards import ScorecardError, load_scorecards
from tests.shipped import shipped_edition

SHIPPED = shipped_edition().scorecards_file


def test_the_shipped_scorecards_follow_the_guideline(campaign: Campaign):
    cards = load_scorecards(SHIPPED, campaign)
    assert [d.name.zh for d in cards.for_award("pioneer_product").dimensions] == [
        "创新性", "科技性", "前沿性", "应用性", "市场潜力"]
    for award in ("enterprise_npf", "pioneer_person", "innovation_park"):
        assert [d.name.zh for d in cards.for_award(award).dimensions] == [
            "所属行业赛道", "融资进展", "创新评级", "创新投入", "知识产权资产"]
    assert [r.name.zh for r in cards.risks] == ["技术合作", "专利转让/许可", "无效诉讼"]
    assert [s.name.zh for s in cards.stages] == ["初审", "终审"]


def test_a_broken_file_is_refused_with_each_problem_and_its_line(campaign: Campaign, tmp_path: Path):
    text = SHIPPED.read_text(encoding="utf-8").replace("dimension: frontier", "dimension: frontiers", 1)
    text = text.replace("scale: {min: 1, max: 10}", "scale: {min: 10, max: 1}", 1)
    broken = tmp_path / "scorecards.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ScorecardError) as caught:
        load_scorecards(broken, campaign)
    message = str(caught.value)
    assert "min 10 must be below max 1" in message and f"{broken}:" in message
    fixed = text.replace("scale: {min: 10, max: 1}", "scale: {min: 1, max: 10}", 1)
    broken.write_text(fixed, encoding="utf-8")
    with pytest.raises(ScorecardError, match=r"scorecards\.yaml:\d+: scorecards\[3\]\.dimensions\[2\]\.dimension: "
                                              r"unknown dimension 'frontiers'"):
        load_scorecards(broken, campaign)
