"""The always-valid sequential test of a CTR drop: its false-alarm rate under repeated looks, and its power."""

import math

import numpy as np
import pytest

from adrank_pipelines.lifecycle.sequential import StratifiedClicks
from adrank_pipelines.monitoring.ab_test import two_proportion_z_test

LOOKS, CTR = 48, 0.03
# Impressions per look (champion, challenger) and the hour's CTR multiplier: the challenger's share and the CTR
# both change during the day, as in a rollout.
SHIFTS = [((9_500, 500), 1.0), ((7_500, 2_500), 0.6), ((5_000, 5_000), 1.4)]
STEADY = [((9_500, 500), 1.0)]


def _ever_alarmed(rng: np.random.Generator, ratio: float, sequential: bool, shifts=SHIFTS, alpha: float = 0.05) -> bool:
    """Whether a guardrail reading the accumulating windows after each of ``LOOKS`` looks ever fired."""
    clicks = StratifiedClicks()
    totals = np.zeros(4, dtype=np.int64)  # champion impressions, clicks; challenger impressions, clicks
    for look in range(LOOKS):
        (champion, challenger), hour = shifts[look * len(shifts) // LOOKS]
        counts = (
            champion,
            int(rng.binomial(champion, CTR * hour)),
            challenger,
            int(rng.binomial(challenger, CTR * hour * ratio)),
        )
        clicks = clicks.plus(*counts)
        totals += counts
        if sequential:
            fired = clicks.drop_test(0.0, 0.6).significant(alpha)
        else:
            champion, champion_clicks, challenger, challenger_clicks = (int(total) for total in totals)
            test = two_proportion_z_test(champion_clicks, champion, challenger_clicks, challenger, alpha)
            fired = test["difference"] < 0 and test["p_value"] < alpha
        if fired:
            return True
    return False


def test_read_after_every_window_it_keeps_its_false_alarm_rate_where_a_fixed_test_does_not():
    rng = np.random.default_rng(3)
    sequential = sum(_ever_alarmed(rng, 1.0, sequential=True) for _ in range(300))
    fixed = sum(_ever_alarmed(rng, 1.0, sequential=False, shifts=STEADY) for _ in range(300))
    # Measured: 12 of 300 sequences of 48 looks at equal CTRs alarm with the sequential test while shares and CTRs
    # shift; 42 with a two-proportion test read at every look even at a steady share and CTR.
    assert sequential <= 0.05 * 300 < fixed


def test_a_persistent_drop_is_found_within_the_looks():
    rng = np.random.default_rng(4)
    assert sum(_ever_alarmed(rng, 0.7, sequential=True) for _ in range(100)) >= 95


def _clicks(*windows: tuple[int, int, int, int]) -> StratifiedClicks:
    clicks = StratifiedClicks()
    for window in windows:
        clicks = clicks.plus(*window)
    return clicks


def test_evidence_grows_with_traffic_at_the_same_rates_and_the_threshold_sets_the_null():
    small = _clicks((1_000, 30, 1_000, 20)).drop_test(0.01, 0.6)
    large = _clicks((10_000, 300, 10_000, 200)).drop_test(0.01, 0.6)
    assert small.change == pytest.approx(large.change) == pytest.approx(-1 / 3)
    assert large.p_value < 0.05 < small.p_value
    assert large.significant(0.05) and not small.significant(0.05)
    # A drop of 1/3 is not "beyond 40%": the evidence is for the null.
    assert not _clicks((10_000, 300, 10_000, 200)).drop_test(0.4, 0.6).dropped_past_threshold
    rise = _clicks((10_000, 200, 10_000, 300)).drop_test(0.01, 0.6)
    assert rise.change == pytest.approx(0.5) and not rise.significant(0.05)


def test_each_window_is_compared_at_its_own_ctr():
    # Night: CTR 1%, the challenger at 5%; day: CTR 5%, the challenger at 50%. Pooled, the challenger's CTR looks
    # 2.3 times the champion's; window by window it equals it.
    clicks = _clicks((9_500, 95, 500, 5), (5_000, 250, 5_000, 250))
    test = clicks.drop_test(0.01, 0.6)
    assert test.change == pytest.approx(0.0) and not test.significant(0.05)
    assert clicks.challenger_impressions == 5_500 and clicks.expected == pytest.approx(255.0)
    # A window the champion served nothing in cannot be compared, and is left out.
    assert clicks.plus(0, 0, 300, 3) == clicks


def test_a_challenger_without_clicks_still_has_a_finite_reading():
    no_clicks = _clicks((2_000, 60, 2_000, 0)).drop_test(0.01, 0.6)
    assert no_clicks.change == -1.0 and math.isfinite(no_clicks.log_ratio)
    assert no_clicks.significant(0.05)
    assert math.isnan(_clicks((2_000, 0, 2_000, 5)).drop_test(0.01, 0.6).change)


@pytest.mark.parametrize(
    ("clicks", "arguments", "message"),
    [
        (StratifiedClicks(), (0.01, 0.6), "the challenger needs at least one impression"),
        (_clicks((10, 1, 10, 1)), (1.0, 0.6), r"max_drop must be in \[0, 1\), got 1.0"),
        (_clicks((10, 1, 10, 1)), (0.01, 0.0), "mixture_sd must be positive, got 0.0"),
    ],
)
def test_impossible_arguments_are_refused_by_name(clicks, arguments, message):
    with pytest.raises(ValueError, match=message):
        clicks.drop_test(*arguments)
