"""Ranking: weighted totals on 0–100, a strict and a lenient judge weighing the same once normalised, ties shared."""

from __future__ import annotations

import pytest

from config import Localized
from judging.compare import percentile_ranks
from judging.rank import Card, card_total, rank_entries
from judging.scorecards import Dimension, Scale, Scorecard

TEXT = Localized(zh="维度", en="dimension")
CARD = Scorecard(group="g", compare=(), dimensions=(
    Dimension(id="a", name=TEXT, guidance=TEXT, scale=Scale(min=1, max=10), weight=3),
    Dimension(id="b", name=TEXT, guidance=TEXT, scale=Scale(min=0, max=5), weight=1),
))
ENTRIES = [(1, "R-1", "一"), (2, "R-2", "二"), (3, "R-3", "三"), (4, "R-4", "四")]


def card(entry: int, judge: str, a: int, b: int) -> Card:
    return Card(entry_id=entry, judge=judge, scores={"a": a, "b": b}, risks={}, recommendation=None)


def test_a_card_total_places_each_score_on_its_scale_and_weighs_it():
    assert card_total({"a": 10, "b": 5}, CARD) == 100
    assert card_total({"a": 1, "b": 0}, CARD) == 0
    assert card_total({"a": 10, "b": 0}, CARD) == pytest.approx(75)


def test_a_strict_and_a_lenient_judge_weigh_the_same_once_normalised():
    # N judges per entry: the lenient judge scored entries 1 and 2, the strict one 3 and 4. Raw totals put both of
    # the lenient judge's entries first; normalised, each judge's better entry shares first place.
    cards = [card(1, "lenient", 10, 5), card(2, "lenient", 9, 5), card(3, "strict", 2, 1), card(4, "strict", 1, 0)]
    raw = rank_entries(ENTRIES, cards, CARD, by="total")
    assert [(r.reference, r.rank) for r in raw] == [("R-1", 1), ("R-2", 2), ("R-3", 3), ("R-4", 4)]
    normalised = rank_entries(ENTRIES, cards, CARD, by="normalised")
    assert [(r.reference, r.rank, r.tied, r.normalised) for r in normalised] == [
        ("R-1", 1, True, 1.0), ("R-3", 1, True, 1.0), ("R-2", 3, True, -1.0), ("R-4", 3, True, -1.0)]


def test_an_entry_shows_its_judges_spread_and_dimension_means():
    cards = [card(1, "x", 10, 5), card(1, "y", 1, 0), card(2, "x", 5, 2), card(2, "y", 6, 3)]
    first = rank_entries(ENTRIES[:2], cards, CARD)[0]
    assert first.reference == "R-1" and first.spread == 100 and first.total == 50
    assert first.dimensions == {"a": 5.5, "b": 2.5}
    assert [j.judge for j in first.judges] == ["x", "y"]


def test_ties_share_a_place_and_unscored_entries_come_last():
    cards = [card(1, "x", 8, 4), card(2, "x", 8, 4), card(3, "x", 2, 1)]
    ranked = rank_entries(ENTRIES, cards, CARD)
    assert [(r.reference, r.rank, r.tied) for r in ranked] == [
        ("R-1", 1, True), ("R-2", 1, True), ("R-3", 3, False), ("R-4", None, False)]


def test_percentiles_count_half_of_the_equal_values():
    assert percentile_ranks([10, 20, 20, None, 40]) == [12.5, 50.0, 50.0, None, 87.5]
