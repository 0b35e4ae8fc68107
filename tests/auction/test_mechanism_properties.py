"""Properties of the mechanisms on random auctions (hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adrank_pipelines.auction.mechanisms import clear, eligible, second_price

DISCOUNTS = np.array([1.0, 0.683, 0.547, 0.466])
_FAST = settings(max_examples=60, deadline=None)


@dataclass(frozen=True)
class Instance:
    bid: np.ndarray
    pctr: np.ndarray
    quality: np.ndarray
    allowed: np.ndarray
    reserve: float
    n_slots: np.ndarray


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    n_auctions = draw(st.integers(1, 6))
    n_bidders = draw(st.integers(1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (n_auctions, n_bidders)
    # Bids on a coarse grid so that ties (the edge case of every price rule) actually occur.
    bid = rng.integers(1, 40, shape) / 10.0
    pctr = rng.choice([0.01, 0.02, 0.05, 0.1, 0.2], shape)
    quality = rng.choice([0.5, 1.0, 1.5], shape)
    reserve = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    allowed = eligible(rng.random(shape) < 0.9, bid, pctr, quality, min_quality=0.6, reserve=reserve)
    return Instance(bid, pctr, quality, allowed, reserve, rng.integers(1, len(DISCOUNTS) + 1, n_auctions))


def _clear(kind: str, x: Instance, bid: np.ndarray | None = None):
    bid = x.bid if bid is None else bid
    return clear(kind, bid, x.pctr, x.quality, x.allowed, x.reserve, x.n_slots, DISCOUNTS)


def _paid(x: Instance, allocation, what: np.ndarray) -> np.ndarray:
    rows = np.arange(len(x.bid))[:, None]
    return np.where(allocation.filled, what[rows, np.maximum(allocation.winner, 0)], np.nan)


@_FAST
@given(instances(), st.sampled_from(["second_price", "gsp", "vcg", "first_price"]))
def test_price_between_reserve_and_bid(x: Instance, kind: str):
    allocation = _clear(kind, x)
    filled = allocation.filled
    assert np.all(allocation.price[filled] <= _paid(x, allocation, x.bid)[filled] + 1e-12)
    assert np.all(allocation.price[filled] >= x.reserve - 1e-12)
    assert np.all(x.allowed[np.arange(len(x.bid))[:, None], np.maximum(allocation.winner, 0)][filled])


@_FAST
@given(instances())
def test_second_price_winner_has_the_highest_ecpm(x: Instance):
    allocation = _clear("second_price", x)
    score = np.where(x.allowed, x.bid * x.pctr * x.quality, -np.inf)
    has_bidder = x.allowed.any(axis=1)
    assert np.array_equal(allocation.filled[:, 0], has_bidder)
    winner_score = _paid(x, allocation, score)[:, 0]
    assert np.all(winner_score[has_bidder] == score[has_bidder].max(axis=1))


@_FAST
@given(instances(), st.data())
def test_no_single_slot_bidder_gains_by_misreporting(x: Instance, data: st.DataObject):
    """Each bidder values a click at its bid; reporting anything else never raises its expected surplus."""
    auction = data.draw(st.integers(0, len(x.bid) - 1))
    bidder = data.draw(st.integers(0, x.bid.shape[1] - 1))
    report = data.draw(st.floats(0.0, 10.0))
    value = x.bid[auction, bidder]

    def surplus(bid_of_bidder: float) -> float:
        bid = x.bid[auction : auction + 1].copy()
        bid[0, bidder] = bid_of_bidder
        present = x.allowed[auction : auction + 1] | (np.arange(bid.shape[1]) == bidder)
        allowed = eligible(
            present, bid, x.pctr[auction : auction + 1], x.quality[auction : auction + 1], 0.6, x.reserve
        )
        allocation = second_price(
            bid, x.pctr[auction : auction + 1], x.quality[auction : auction + 1], allowed, x.reserve
        )
        if allocation.winner[0, 0] != bidder:
            return 0.0
        return (value - allocation.price[0, 0]) * x.pctr[auction, bidder]

    assert surplus(report) <= surplus(value) + 1e-12


@_FAST
@given(instances())
def test_gsp_prices_in_ecpm_terms_do_not_increase_down_the_slots(x: Instance):
    """Per impression-equivalent (price x pCTR x quality), a lower slot never costs more."""
    allocation = _clear("gsp", x)
    weighted = allocation.price * _paid(x, allocation, x.pctr * x.quality)
    for row, filled in zip(weighted, allocation.filled, strict=True):
        shown = row[filled]
        assert np.all(np.diff(shown) <= 1e-12)
    # With equal pCTR and quality the per-click prices themselves fall down the slots.
    equal = _clear(
        "gsp", Instance(x.bid, np.full_like(x.pctr, 0.1), np.ones_like(x.quality), x.allowed, x.reserve, x.n_slots)
    )
    for row, filled in zip(equal.price, equal.filled, strict=True):
        assert np.all(np.diff(row[filled]) <= 1e-12)


@_FAST
@given(instances())
def test_vcg_revenue_never_exceeds_gsp_revenue_for_the_same_bids(x: Instance):
    gsp, vcg = _clear("gsp", x), _clear("vcg", x)
    assert np.array_equal(gsp.winner, vcg.winner), "both allocate by eCPM"
    discount = np.where(np.arange(len(DISCOUNTS)) < x.n_slots[:, None], DISCOUNTS, 0.0)

    def revenue(allocation) -> np.ndarray:
        return np.nansum(allocation.price * _paid(x, allocation, x.pctr) * discount, axis=1)

    assert np.all(revenue(vcg) <= revenue(gsp) + 1e-12)
    assert np.all(vcg.price <= gsp.price + 1e-12), "slot by slot, too"


REPORTS = np.round(np.arange(0.1, 6.0, 0.1), 1)


@_FAST
@given(instances(), st.data())
def test_no_vcg_bidder_gains_by_misreporting_even_with_a_reserve(x: Instance, data: st.DataObject):
    """VCG stays truthful with a reserve: each threshold below the bidder's slot is floored at the reserve,
    not only the average price (a bidder whose lower thresholds sit under the reserve must pay for them)."""
    auction = data.draw(st.integers(0, len(x.bid) - 1))
    rows = slice(auction, auction + 1)

    def surplus(bidder: int, bid_of_bidder: float) -> float:
        bid = x.bid[rows].copy()
        bid[0, bidder] = bid_of_bidder
        present = x.allowed[rows] | (np.arange(bid.shape[1]) == bidder)
        allowed = eligible(present, bid, x.pctr[rows], x.quality[rows], 0.6, x.reserve)
        allocation = clear("vcg", bid, x.pctr[rows], x.quality[rows], allowed, x.reserve, x.n_slots[rows], DISCOUNTS)
        slot = np.flatnonzero(allocation.winner[0] == bidder)
        if not slot.size:
            return 0.0
        value = x.bid[auction, bidder]
        return (value - allocation.price[0, slot[0]]) * DISCOUNTS[slot[0]] * x.pctr[auction, bidder]

    for bidder in range(x.bid.shape[1]):
        truthful = surplus(bidder, x.bid[auction, bidder])
        assert max(surplus(bidder, report) for report in REPORTS) <= truthful + 1e-9, bidder
