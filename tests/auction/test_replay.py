"""A hand-checked day through the replay, its outcome metrics, and first-price shading."""

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.auction.book import Accounts
from adrank_pipelines.auction.config import AuctionRules, MechanismSpec, PacingParams, ShadingParams
from adrank_pipelines.auction.outcomes import account_outcomes, outcome_metrics, pacing_curve
from adrank_pipelines.auction.replay import replay_day
from adrank_pipelines.auction.shading import score_to_beat
from tests.auction.books import hourly_target, one_book, random_book

CERTAIN = 1.0  # true pCTR / pCVR of 1: every impression is clicked and converts


def _requests(hours: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "request_id": np.arange(1, len(hours) + 1),
            "user_id": np.arange(1, len(hours) + 1) * 10,
            "event_time": pd.Timestamp("2026-01-10") + pd.to_timedelta(hours, unit="h"),
            "n_slots": 1,
        }
    )


def _candidates(request_ids: list[int], ads: list[tuple[int, int, float]]) -> pd.DataFrame:
    """ads: (ad_id, account, bid) offered to every request, pCTR 0.1, quality 1."""
    rows = [
        {
            "request_id": r,
            "ad_id": ad,
            "account": account,
            "bid": bid,
            "pctr": 0.1,
            "pcvr": 0.1,
            "quality": 1.0,
            "true_pctr": CERTAIN,
            "true_pcvr": CERTAIN,
            "order": -bid,
        }
        for r in request_ids
        for ad, account, bid in ads
    ]
    return pd.DataFrame(rows)


ACCOUNTS = Accounts(
    advertiser_id=np.array([1, 2]), budget=np.array([1.5, 100.0]), value_per_conversion=np.array([10.0, 5.0])
)


def test_a_hand_checked_day_under_gsp_without_pacing():
    # Hours 3, 1, 2 arrive out of order: the replay serves them by time. A (bid 2) beats B (bid 1) and
    # pays B's 1.0 per click until its 1.5 budget is gone after its second click; then B wins alone
    # and pays the 0.05 reserve.
    requests = _requests([3, 1, 2])
    book = one_book(_candidates([1, 2, 3], [(11, 0, 2.0), (12, 1, 1.0)]), requests, ACCOUNTS)
    assert book.request_id.tolist() == [2, 3, 1]
    log = replay_day(
        book,
        MechanismSpec(kind="gsp"),
        AuctionRules(min_quality=0.0),
        PacingParams(kind="none"),
        hourly_target(),
        seed=0,
    )
    assert book.ad_id[log.request_row, log.column].tolist() == [11, 11, 12]
    assert log.price == pytest.approx([1.0, 1.0, 0.05])
    assert log.click.all() and log.conversion.all()
    assert log.spend_by_step[-1] == pytest.approx([2.0, 0.05])

    metrics = outcome_metrics(log, book, hourly_target(), min_utilisation=0.5)
    realised, expected = metrics["realised"], metrics["expected"]
    assert realised["clicks"] == 3 and realised["impressions"] == 3 and realised["fill_rate"] == 1.0
    assert realised["revenue"] == pytest.approx(2.05)
    assert realised["advertiser_value"] == pytest.approx(2 * 10.0 + 5.0)
    assert realised["advertiser_surplus"] == pytest.approx(25.0 - 2.05)
    assert realised["advertiser_roi"] == pytest.approx((25.0 - 2.05) / 2.05)
    assert realised["social_welfare"] == pytest.approx(25.0)
    assert realised["budget_utilisation"] == pytest.approx(2.05 / 101.5)
    assert realised["budget_exhausted_share"] == pytest.approx(0.5)
    assert expected["revenue"] == pytest.approx(2.05) and expected["clicks"] == pytest.approx(3.0)

    accounts = account_outcomes(log, book).set_index("advertiser_id")
    assert accounts.loc[1, "exhausted_step"] == 2 and accounts.loc[2, "exhausted_step"] == -1
    assert accounts.loc[1, "surplus"] == pytest.approx(20.0 - 2.0)
    curve = pacing_curve(log, book, hourly_target(), min_utilisation=0.5)
    assert curve["bound_accounts"].iloc[0] == 1
    assert curve["bound_spend_share"].iloc[-1] == pytest.approx(2.0 / 1.5)


def test_the_second_slot_shows_the_runner_up_at_the_truths_lower_click_probability():
    """A second slot shows the runner-up at the truth's lower click probability."""
    requests = _requests([1]).assign(n_slots=2)
    candidates = _candidates([1], [(11, 0, 2.0), (12, 1, 1.0)]).assign(true_pctr=0.2)
    book = one_book(candidates, requests, ACCOUNTS)
    log = replay_day(
        book,
        MechanismSpec(kind="gsp"),
        AuctionRules(min_quality=0.0),
        PacingParams(kind="none"),
        hourly_target(),
        seed=0,
    )
    expected_second = 1 / (1 + np.exp(-(np.log(0.2 / 0.8) + np.log(0.683))))
    assert log.slot.tolist() == [0, 1]
    assert log.true_pctr == pytest.approx([0.2, expected_second])


def test_replays_with_the_same_seed_share_their_draws():
    book = random_book(5, budget=1e6)  # budgets that never bind: the two mechanisms serve the same top ads
    rules, pacing = AuctionRules(), PacingParams(kind="none")
    first, again = (replay_day(book, MechanismSpec(kind="gsp"), rules, pacing, hourly_target(), 7) for _ in range(2))
    assert np.array_equal(first.click, again.click) and np.array_equal(first.price, again.price)
    # The top slot's draw is the same whether a mechanism sells one slot or four.
    single = replay_day(book, MechanismSpec(kind="second_price"), rules, pacing, hourly_target(), 7)
    top = first.slot == 0
    same_ad = book.ad_id[single.request_row, single.column] == book.ad_id[first.request_row[top], first.column[top]]
    assert same_ad.all()
    assert np.array_equal(single.click[same_ad], first.click[top][same_ad])


def test_score_to_beat_is_the_nth_best_competitor():
    score = np.array([[4.0, 3.0, 2.0, 1.0]])
    # One slot: the leader must beat 3, everyone else 4. Two slots: the top two beat 2, the rest 3.
    assert score_to_beat(score, np.array([1])).tolist() == [[3.0, 4.0, 4.0, 4.0]]
    assert score_to_beat(score, np.array([2])).tolist() == [[2.0, 2.0, 3.0, 3.0]]


def test_a_dominant_first_price_bidder_learns_to_shade_down():
    """Against a rival bidding 1.0, a bidder worth 10.0 learns to bid 3.0 (0.3 of its value)
    and keeps winning, while a fixed factor of 0.8 keeps paying 8.0."""
    hours = list(np.repeat(np.arange(24), 5))
    requests = _requests(hours)
    book = one_book(
        _candidates(list(range(1, len(hours) + 1)), [(11, 0, 10.0), (12, 1, 1.0)]),
        requests,
        Accounts(np.array([1, 2]), np.array([1e6, 1e6]), np.array([1.0, 1.0])),
    )
    rules, pacing = AuctionRules(min_quality=0.0), PacingParams(kind="none")

    def last_price(shading: ShadingParams) -> tuple[float, set[int]]:
        log = replay_day(book, MechanismSpec(kind="first_price", shading=shading), rules, pacing, hourly_target(), 0)
        return float(log.price[-1]), set(book.ad_id[log.request_row, log.column].tolist())

    assert last_price(ShadingParams(kind="factor", factor=0.8)) == (pytest.approx(8.0), {11})
    assert last_price(ShadingParams(kind="learned", factor=0.8)) == (pytest.approx(3.0), {11})
