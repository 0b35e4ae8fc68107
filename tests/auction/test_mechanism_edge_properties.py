"""Edge cases of the mechanisms on random auctions (hypothesis): no bidder, one, two, exactly equal
scores (the lower column wins a tie under every mechanism)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adrank_pipelines.auction.mechanisms import Allocation, clear, eligible, rank_by_score, ranking_score
from tests.auction.test_mechanism_properties import DISCOUNTS, Instance

# A division by zero inside numpy must fail the test rather than pass as a warning and a NaN or inf.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_FAST = settings(max_examples=60, deadline=None)
MECHANISMS = ["second_price", "gsp", "vcg", "first_price"]


@dataclass(frozen=True)
class Auctions(Instance):
    """The random instances' fields, with the two views these edge cases ask of them."""

    def clear(self, kind: str) -> Allocation:
        return clear(kind, self.bid, self.pctr, self.quality, self.allowed, self.reserve, self.n_slots, DISCOUNTS)

    @property
    def score(self) -> np.ndarray:
        return ranking_score(self.bid, self.pctr, self.quality, self.allowed)


@st.composite
def auctions(draw: st.DrawFn, max_bidders: int = 2) -> Auctions:
    """0 to ``max_bidders`` bidders; some auctions are exact copies of one bidder (every score tied)."""
    n_auctions = draw(st.integers(1, 5))
    n_bidders = draw(st.integers(0, max_bidders))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (n_auctions, n_bidders)
    # Powers of two: products are exact, so equal scores from different bids and pCTRs tie exactly.
    bid = rng.choice([0.25, 0.5, 1.0, 2.0], shape)
    pctr = rng.choice([0.0625, 0.125, 0.25], shape)
    quality = rng.choice([0.5, 1.0, 2.0], shape)
    copies = rng.random(n_auctions) < 0.4
    bid[copies], pctr[copies], quality[copies] = bid[copies, :1], pctr[copies, :1], quality[copies, :1]
    reserve = draw(st.sampled_from([0.0, 0.25, 0.5]))
    allowed = eligible(rng.random(shape) < 0.9, bid, pctr, quality, min_quality=0.0, reserve=reserve)
    return Auctions(bid, pctr, quality, allowed, reserve, rng.integers(1, len(DISCOUNTS) + 1, n_auctions))


def _expected_order(score: np.ndarray) -> list[list[int]]:
    """Per auction, the allowed columns best first, the lower column first among equal scores."""
    return [sorted((c for c in range(len(row)) if np.isfinite(row[c])), key=lambda c: (-row[c], c)) for row in score]


def _own(x: Auctions, allocation: Allocation, what: np.ndarray) -> np.ndarray:
    rows = np.arange(len(x.bid))[:, None]
    if what.shape[1] == 0:
        return np.zeros(allocation.winner.shape)
    return what[rows, np.maximum(allocation.winner, 0)]


@_FAST
@given(auctions(max_bidders=8), st.sampled_from(MECHANISMS))
def test_prices_are_finite_between_the_reserve_and_the_bid_and_empty_slots_cost_nothing(x: Auctions, kind: str):
    allocation = x.clear(kind)
    filled = allocation.filled
    assert np.isfinite(allocation.price).all()
    assert (allocation.price >= 0.0).all()
    assert (allocation.price[~filled] == 0.0).all()
    assert (allocation.price[filled] <= _own(x, allocation, x.bid)[filled]).all()
    assert (allocation.price[filled] >= x.reserve).all()
    assert _own(x, allocation, x.allowed.astype(np.int8))[filled].all(), "only eligible bidders win"


@_FAST
@given(auctions(max_bidders=8), st.sampled_from(MECHANISMS))
def test_slots_go_by_score_and_equal_scores_by_the_lower_column(x: Auctions, kind: str):
    allocation = x.clear(kind)
    sold = np.ones(len(x.bid), dtype=np.int64) if kind == "second_price" else x.n_slots
    for row, expected, n_sold in zip(allocation.winner, _expected_order(x.score), sold, strict=True):
        n_shown = min(len(expected), int(n_sold))
        assert row[:n_shown].tolist() == expected[:n_shown]
        assert (row[n_shown:] == -1).all(), "slots fill from the top, and only the slots on sale"


@_FAST
@given(auctions(max_bidders=8))
def test_every_mechanism_gives_the_top_slot_to_the_same_bidder(x: Auctions):
    winners = {kind: x.clear(kind).winner[:, 0].tolist() for kind in MECHANISMS}
    assert len({tuple(w) for w in winners.values()}) == 1, winners


@_FAST
@given(auctions(max_bidders=0), st.sampled_from(MECHANISMS))
def test_no_bidder_leaves_every_slot_empty(x: Auctions, kind: str):
    allocation = x.clear(kind)
    assert allocation.winner.shape == (len(x.bid), 1 if kind == "second_price" else len(DISCOUNTS))
    assert (allocation.winner == -1).all() and (allocation.price == 0.0).all()


@_FAST
@given(auctions(max_bidders=1), st.sampled_from(MECHANISMS))
def test_a_single_bidder_pays_the_reserve_or_under_first_price_its_bid(x: Auctions, kind: str):
    allocation = x.clear(kind)
    alone = x.allowed[:, 0] if x.bid.shape[1] else np.zeros(len(x.bid), dtype=bool)
    assert np.array_equal(allocation.filled[:, 0], alone)
    assert not allocation.filled[:, 1:].any(), "one bidder fills one slot at most"
    own_bid = x.bid[:, 0] if x.bid.shape[1] else np.zeros(len(x.bid))
    expected = own_bid[alone] if kind == "first_price" else np.full(int(alone.sum()), x.reserve)
    np.testing.assert_array_equal(allocation.price[alone, 0], expected)


@_FAST
@given(auctions(max_bidders=2).filter(lambda x: x.bid.shape[1] == 2), st.sampled_from(["second_price", "gsp"]))
def test_with_two_bidders_the_winner_pays_the_runner_ups_score_over_its_own_weight(x: Auctions, kind: str):
    allocation = x.clear(kind)
    score = np.where(x.allowed, x.bid * x.pctr * x.quality, 0.0)
    for a in np.flatnonzero(x.allowed.all(axis=1)):
        winner = allocation.winner[a, 0]
        loser = 1 - winner
        needed = score[a, loser] / (x.pctr[a, winner] * x.quality[a, winner])
        assert allocation.price[a, 0] == pytest.approx(min(max(needed, x.reserve), x.bid[a, winner]))
        if score[a, 0] == score[a, 1]:
            assert winner == 0, "an exact tie goes to the lower column"
            assert allocation.price[a, 0] == pytest.approx(x.bid[a, 0]), "a tie costs the winner its bid"


@_FAST
@given(st.integers(1, 4), st.integers(1, 12), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_rank_by_score_breaks_ties_by_column_and_pads_short_rows(n_rows: int, n_columns: int, depth: int, seed: int):
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 3, (n_rows, n_columns)).astype(np.float64)
    score[rng.random(score.shape) < 0.3] = -np.inf
    columns, ranked = rank_by_score(score, depth)
    assert columns.shape == ranked.shape == (n_rows, depth)
    for row, got, got_scores in zip(score, columns, ranked, strict=True):
        expected = sorted(range(n_columns), key=lambda c: (-row[c], c))[:depth]
        expected += [-1] * (depth - len(expected))
        assert got.tolist() == expected
        assert np.array_equal(got_scores[got >= 0], row[got[got >= 0]])
        assert np.all(got_scores[got < 0] == -np.inf)


def test_a_score_that_is_not_a_number_never_enters():
    bid = np.array([[np.nan, 1.0]])
    score = ranking_score(bid, np.full((1, 2), 0.1), np.ones((1, 2)), np.ones((1, 2), dtype=bool))
    assert score[0, 0] == -np.inf
    for kind in MECHANISMS:
        allocation = clear(
            kind, bid, np.full((1, 2), 0.1), np.ones((1, 2)), np.ones((1, 2), dtype=bool), 0.1, np.array([2]), DISCOUNTS
        )
        assert allocation.winner[0, 0] == 1 and np.isfinite(allocation.price).all()
