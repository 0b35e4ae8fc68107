"""Hand-computed auctions for each mechanism."""

import numpy as np
import pytest

from adrank_pipelines.auction.config import QualityScoreParams
from adrank_pipelines.auction.mechanisms import clear, ecpm, eligible, quality_score, second_price

DISCOUNTS = np.array([1.0, 0.5, 0.25])


def _single(bid, pctr, quality, reserve=0.0):
    bid, pctr, quality = (np.array([x], dtype=float) for x in (bid, pctr, quality))
    return second_price(bid, pctr, quality, np.ones_like(bid, dtype=bool), reserve)


def test_second_price_winner_pays_the_runner_up_score_over_its_own_pctr():
    # scores 0.2, 0.3, 0.15: bidder 1 wins and needs 0.2 / 0.3 per click to stay ahead.
    allocation = _single([2.0, 1.0, 3.0], [0.1, 0.3, 0.05], [1.0, 1.0, 1.0])
    assert allocation.winner.tolist() == [[1]]
    assert allocation.price[0, 0] == pytest.approx(0.2 / 0.3)


def test_second_price_quality_score_reorders_and_reprices():
    # quality halves bidder 1: scores 0.2, 0.15, 0.15 -> bidder 0 wins, pays 0.15 / (0.1 x 1).
    allocation = _single([2.0, 1.0, 3.0], [0.1, 0.3, 0.05], [1.0, 0.5, 1.0])
    assert allocation.winner.tolist() == [[0]]
    assert allocation.price[0, 0] == pytest.approx(1.5)


def test_second_price_reserve_floors_the_price_and_a_lone_bidder_pays_it():
    assert _single([2.0, 1.0, 3.0], [0.1, 0.3, 0.05], [1, 1, 1], reserve=0.7).price[0, 0] == pytest.approx(0.7)
    assert _single([2.0], [0.1], [1.0], reserve=0.25).price[0, 0] == pytest.approx(0.25)


def test_no_eligible_bidder_leaves_the_slot_empty():
    bid = np.array([[1.0, 2.0]])
    allocation = second_price(bid, np.full_like(bid, 0.1), np.ones_like(bid), np.zeros_like(bid, dtype=bool), 0.0)
    assert allocation.winner.tolist() == [[-1]] and allocation.price.tolist() == [[0.0]]


def test_eligibility_applies_reserve_and_quality_threshold():
    bid = np.array([[0.5, 0.04, 0.5, 0.5]])
    quality = np.array([[1.0, 1.0, 0.3, 1.0]])
    pctr = np.array([[0.1, 0.1, 0.1, 0.0]])
    valid = np.array([[True, True, True, True]])
    allowed = eligible(valid, bid, pctr, quality, min_quality=0.5, reserve=0.05)
    assert allowed.tolist() == [[True, False, False, False]]


def _ladder(kind, n_slots=3):
    bid = np.array([[4.0, 3.0, 2.0, 1.0]])
    pctr = np.full_like(bid, 0.1)
    return clear(kind, bid, pctr, np.ones_like(bid), np.ones_like(bid, dtype=bool), 0.0, np.array([n_slots]), DISCOUNTS)


def test_gsp_each_slot_pays_the_next_bid_when_pctr_and_quality_are_equal():
    allocation = _ladder("gsp")
    assert allocation.winner.tolist() == [[0, 1, 2]]
    assert allocation.price[0] == pytest.approx([3.0, 2.0, 1.0])


def test_vcg_prices_are_the_externalities_per_expected_click():
    # Scores 0.4 .. 0.1, discounts 1 / .5 / .25: t2 = .25 x .1, t1 = .25 x .2 + t2, t0 = .5 x .3 + t1,
    # per click t_k / (d_k x 0.1) = 2.25, 1.5, 1.0.
    assert _ladder("vcg").price[0] == pytest.approx([2.25, 1.5, 1.0])


def test_vcg_with_fewer_slots_than_discounts():
    # Two slots: t1 = .5 x .2 = .1 -> 2.0 per click; t0 = .5 x .3 + .1 = .25 -> 2.5.
    allocation = _ladder("vcg", n_slots=2)
    assert allocation.winner.tolist() == [[0, 1, -1]]
    assert allocation.price[0] == pytest.approx([2.5, 2.0, 0.0])


def test_first_price_winners_pay_their_bids():
    assert _ladder("first_price").price[0] == pytest.approx([4.0, 3.0, 2.0])


def test_second_price_kind_sells_one_slot_like_a_one_slot_gsp():
    single, gsp = _ladder("second_price"), _ladder("gsp", n_slots=1)
    assert single.winner.tolist() == [[0]] == gsp.winner[:, :1].tolist()
    assert single.price[0, 0] == pytest.approx(gsp.price[0, 0]) == pytest.approx(3.0)


def test_gsp_with_fewer_bidders_than_slots_pays_the_reserve_in_the_last_filled_slot():
    bid = np.array([[2.0, 1.0]])
    allocation = clear(
        "gsp",
        bid,
        np.full_like(bid, 0.1),
        np.ones_like(bid),
        np.ones_like(bid, dtype=bool),
        0.3,
        np.array([3]),
        DISCOUNTS,
    )
    assert allocation.winner.tolist() == [[0, 1, -1]]
    assert allocation.price[0] == pytest.approx([1.0, 0.3, 0.0])


def test_ecpm_and_quality_score():
    assert ecpm(np.array(2.0), np.array(0.05), np.array(1.5)) == pytest.approx(150.0)
    params = QualityScoreParams(pcvr_exponent=0.5, floor=0.2, cap=5.0)
    assert quality_score(np.array([0.04, 0.16, 0.0, 100.0]), params, 0.04) == pytest.approx([1.0, 2.0, 0.2, 5.0])
    assert quality_score(np.array([0.3]), QualityScoreParams(pcvr_exponent=0.0), 0.1) == pytest.approx([1.0])
    with pytest.raises(ValueError, match="reference must be positive"):
        quality_score(np.array([0.1]), params, 0.0)
