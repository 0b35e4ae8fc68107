"""Edge cases of the drift statistics and alert rules on random inputs (hypothesis): empty windows,
one row, all-equal values, ties, missing values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adrank_pipelines.monitoring.alerts import (
    ALERT,
    NONE,
    OK,
    RETRAIN,
    SEVERITY_ORDER,
    UNDEFINED,
    WARN,
    WATCH,
    alert_table,
    apply_rules,
    retrain_recommendation,
    window_decision,
)
from adrank_pipelines.monitoring.ks import ks_test, sorted_finite
from adrank_pipelines.monitoring.params import RuleParams
from adrank_pipelines.monitoring.psi import CategoricalBinning, NumericBinning, population_stability_index
from adrank_pipelines.monitoring.report import drift_report
from adrank_pipelines.monitoring.statistics import DriftStatistic, Group, statistics_frame

# A NaN or inf out of numpy's internals must surface as a failure, not as a warning nobody reads.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_FAST = settings(max_examples=60, deadline=None)

histograms = st.lists(st.integers(0, 50), min_size=1, max_size=8)
# A coarse grid with NaN: ties and missing values are the edge cases every statistic must survive.
samples = st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5, np.nan]), min_size=0, max_size=30)


# --- PSI ------------------------------------------------------------------------------------------


@_FAST
@given(histograms, st.integers(1, 7))
def test_psi_of_a_histogram_and_any_multiple_of_it_is_zero(counts: list[int], factor: int):
    psi = population_stability_index(counts, [factor * c for c in counts])
    if sum(counts) == 0:
        assert math.isnan(psi)
    else:
        assert psi == 0.0


@st.composite
def histogram_pairs(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Two histograms over the same bins (possibly all zeros: an empty window)."""
    n_bins = draw(st.integers(1, 8))
    bins = st.lists(st.integers(0, 50), min_size=n_bins, max_size=n_bins)
    return draw(bins), draw(bins)


@_FAST
@given(histogram_pairs())
def test_psi_is_non_negative_symmetric_and_nan_only_on_an_empty_window(pair: tuple[list[int], list[int]]):
    reference, current = pair
    psi = population_stability_index(reference, current)
    if sum(reference) == 0 or sum(current) == 0:
        assert math.isnan(psi)
        return
    assert math.isfinite(psi) and psi >= 0.0
    assert population_stability_index(current, reference) == pytest.approx(psi, rel=1e-9, abs=1e-12)


def test_psi_on_an_empty_window_or_a_single_bin():
    assert math.isnan(population_stability_index([5, 5], [0, 0]))
    assert math.isnan(population_stability_index([0, 0], [5, 5]))
    assert math.isnan(population_stability_index([], []))
    assert population_stability_index([3], [1000]) == 0.0


@_FAST
@given(samples, samples, st.integers(2, 6))
def test_numeric_bins_count_every_row_once_missing_values_last(reference: list[float], current: list[float], n: int):
    binning = NumericBinning.fit(np.array(reference), n)
    counts = binning.counts(np.array(current))
    assert counts.sum() == len(current)
    assert counts[-1] == int(np.isnan(current).sum())
    assert np.all(np.diff(binning.edges) > 0)


@_FAST
@given(st.sampled_from([0.0, 1.0, -3.5]), st.integers(1, 30), st.integers(2, 10))
def test_an_all_equal_reference_has_one_edge_and_zero_psi_against_itself(value: float, rows: int, n: int):
    reference = np.full(rows, value)
    binning = NumericBinning.fit(reference, n)
    assert binning.edges.tolist() == [value]
    counts = binning.counts(reference)
    assert counts.tolist() == [0, rows, 0]
    assert population_stability_index(counts, counts) == 0.0


def test_an_all_missing_reference_bins_every_value_apart_from_the_missing_ones():
    binning = NumericBinning.fit(np.array([np.nan, np.nan]), 5)
    assert binning.edges.size == 0
    assert binning.counts(np.array([1.0, np.nan, 2.0])).tolist() == [2, 1]


categories = st.lists(st.sampled_from(["ios", "android", "web", None]), min_size=0, max_size=25)


@_FAST
@given(categories, categories, st.integers(1, 4))
def test_categorical_bins_with_missing_values_count_every_row_once(
    reference: list[str | None], current: list[str | None], max_categories: int
):
    binning = CategoricalBinning.fit(pd.Series(reference, dtype=object), max_categories)
    counts, unseen = binning.counts(pd.Series(current, dtype=object))
    assert counts.sum() + unseen == len(current)
    assert counts.size == binning.n_bins
    known = set(pd.Series(reference, dtype=object).fillna("<missing>"))
    seen = pd.Series(current, dtype=object).fillna("<missing>").isin(known)
    assert unseen == int((~seen).sum())


@_FAST
@given(categories, st.randoms(use_true_random=False))
def test_categorical_binning_does_not_depend_on_row_order(reference: list[str | None], random):
    shuffled = list(reference)
    random.shuffle(shuffled)
    first = CategoricalBinning.fit(pd.Series(reference, dtype=object), 2)
    second = CategoricalBinning.fit(pd.Series(shuffled, dtype=object), 2)
    assert first.known_values.equals(second.known_values)
    assert first.bin_of_known.tolist() == second.bin_of_known.tolist()


def test_categorical_ties_rank_by_value_with_the_missing_value_last():
    binning = CategoricalBinning.fit(pd.Series(["web", None, "ios", "web", None, "ios"], dtype=object), 2)
    assert binning.known_values[:2].tolist() == ["ios", "web"]
    assert pd.isna(binning.known_values[2])
    counts, unseen = binning.counts(pd.Series([None, "ios", "tv"], dtype=object))
    assert counts.tolist() == [1, 0, 1] and unseen == 1


def test_a_window_of_only_unseen_values_has_no_psi():
    binning = CategoricalBinning.fit(pd.Series([2, 3, 3]), 5, unseen_codes={1})
    counts, unseen = binning.counts(pd.Series([1, 1, 9]))
    assert unseen == 3
    assert math.isnan(population_stability_index(binning.counts(pd.Series([2, 3, 3]))[0], counts))


# --- KS -------------------------------------------------------------------------------------------


@_FAST
@given(samples, samples)
def test_ks_is_a_symmetric_gap_in_the_unit_interval_or_nan_on_an_empty_side(
    reference: list[float], current: list[float]
):
    result = ks_test(sorted_finite(reference), current)
    if not np.isfinite(reference).any() or not np.isfinite(current).any():
        assert math.isnan(result.statistic) and math.isnan(result.p_value)
        return
    assert 0.0 <= result.statistic <= 1.0
    assert 0.0 <= result.p_value <= 1.0
    assert ks_test(sorted_finite(current), reference).statistic == pytest.approx(result.statistic, abs=1e-12)


@_FAST
@given(samples.filter(lambda s: np.isfinite(s).any()), st.integers(0, 5))
def test_ks_of_identical_samples_is_zero_whatever_the_missing_values(values: list[float], extra_missing: int):
    result = ks_test(sorted_finite(values), values[::-1] + [np.nan] * extra_missing)
    assert result.statistic == 0.0
    assert result.p_value == pytest.approx(1.0)


@_FAST
@given(st.sampled_from([0.0, 1.0, 2.5]), st.sampled_from([0.0, 1.0, 2.5]), st.integers(1, 20), st.integers(1, 20))
def test_ks_of_two_all_equal_samples_is_zero_or_one(a: float, b: float, n: int, m: int):
    assert ks_test(sorted_finite(np.full(n, a)), np.full(m, b)).statistic == (0.0 if a == b else 1.0)


def test_ks_of_one_row_each():
    assert ks_test(sorted_finite([1.0]), [1.0]).statistic == 0.0
    assert ks_test(sorted_finite([1.0]), [2.0]).statistic == 1.0
    empty = ks_test(sorted_finite([]), [1.0])
    assert math.isnan(empty.statistic) and math.isnan(empty.p_value)


# --- alert rules ----------------------------------------------------------------------------------

RULES = RuleParams()
STATISTICS: list[tuple[Group, str]] = [
    ("feature", "psi"),
    ("feature", "ks"),
    ("feature", "unseen_share_increase"),
    ("prediction", "psi"),
    ("label", "ctr_change"),
    ("calibration", "calibration_change"),
    ("performance", "auc_drop"),
    ("performance", "logloss_increase"),
]
WINDOWS = ["drift", "test"]


@st.composite
def statistic_tables(draw: st.DrawFn) -> pd.DataFrame:
    """Rows on a coarse grid of values (exact ties, values on a threshold, NaN), maybe none at all."""
    n_rows = draw(st.integers(0, 12))
    rows = []
    for i in range(n_rows):
        group, statistic = draw(st.sampled_from(STATISTICS))
        rows.append(
            DriftStatistic(
                window=draw(st.sampled_from(WINDOWS)),
                group=group,
                subject=f"s{i}",  # the input position, to check the sort is stable
                statistic=statistic,
                value=draw(st.sampled_from([0.0, 0.01, 0.03, 0.1, 0.2, 0.25, 0.5, np.nan])),
                reference_window="train",
                n_reference=100,
                n_current=100,
                p_value=draw(st.sampled_from([np.nan, 0.001, 0.5])),
                alerting=draw(st.booleans()),
            )
        )
    return statistics_frame(rows)


def _expected_severity(row: pd.Series) -> str:
    if math.isnan(row["value"]):
        return UNDEFINED
    thresholds = RULES.thresholds(row["group"], row["subject"], row["statistic"])
    significant = math.isnan(row["p_value"]) or row["p_value"] < RULES.max_p_value
    if significant and row["value"] >= thresholds.alert:
        return ALERT
    if significant and row["value"] >= thresholds.warn:
        return WARN
    return OK


@_FAST
@given(statistic_tables())
def test_severity_follows_the_thresholds_and_the_significance_gate(statistics: pd.DataFrame):
    evaluated = apply_rules(statistics, RULES)
    assert len(evaluated) == len(statistics)
    assert evaluated["severity"].tolist() == [_expected_severity(row) for _, row in statistics.iterrows()]
    assert evaluated.loc[evaluated["value"].isna(), "severity"].eq(UNDEFINED).all(), "no value, no flag"


@_FAST
@given(statistic_tables())
def test_the_alert_table_holds_exactly_the_flagged_alerting_rows_in_order(statistics: pd.DataFrame):
    evaluated = apply_rules(statistics, RULES)
    alerts = alert_table(evaluated)
    assert alerts.columns.tolist() == evaluated.columns.tolist()
    flagged = evaluated.loc[evaluated["alerting"].astype(bool) & evaluated["severity"].isin([WARN, ALERT]), "subject"]
    assert sorted(alerts["subject"]) == sorted(flagged)
    keys = [
        (
            -SEVERITY_ORDER[row["severity"]],
            row["window"],
            -row["value"] / row["alert_threshold"],
            int(row["subject"][1:]),
        )
        for _, row in alerts.iterrows()
    ]
    assert keys == sorted(keys), "alerts first, then window, then excess; ties keep their input order"


@_FAST
@given(statistic_tables(), st.integers(1, 3))
def test_decisions_count_the_flags_of_each_window(statistics: pd.DataFrame, min_alerts: int):
    alerts = alert_table(apply_rules(statistics, RULES))
    recommendation = retrain_recommendation(alerts, WINDOWS, min_alerts)
    for window in WINDOWS:
        decision = recommendation["windows"][window]
        flags = alerts.loc[alerts["window"] == window]
        n_alerts = int((flags["severity"] == ALERT).sum())
        assert decision["alerts"] == n_alerts
        assert decision["warnings"] == len(flags) - n_alerts
        assert len(decision["reasons"]) == len(flags)
        assert decision["decision"] == (RETRAIN if n_alerts >= min_alerts else WATCH if len(flags) else NONE)
    assert recommendation["recommendation"] == recommendation["windows"][WINDOWS[-1]]["decision"]


@pytest.mark.parametrize("n_rows", [0, 1, 5])
def test_no_flag_gives_an_empty_alert_table_and_no_decision(n_rows: int):
    rows = [
        DriftStatistic("test", "feature", f"f{i}", "psi", 0.01, "train", 100, 100, alerting=True) for i in range(n_rows)
    ]
    evaluated = apply_rules(statistics_frame(rows), RULES)
    assert (evaluated["severity"] == OK).all()
    alerts = alert_table(evaluated)
    assert alerts.empty
    assert alerts.columns.tolist() == evaluated.columns.tolist()
    assert window_decision(alerts, "test", 1) == {"decision": NONE, "alerts": 0, "warnings": 0, "reasons": []}
    assert retrain_recommendation(alerts, ["test"], 1)["recommendation"] == NONE


def test_flags_of_report_only_statistics_never_reach_the_alert_table():
    rows = [DriftStatistic("test", "feature", "age", "psi", 5.0, "train", 100, 100, alerting=False)]
    evaluated = apply_rules(statistics_frame(rows), RULES)
    assert evaluated["severity"].tolist() == [ALERT]
    assert alert_table(evaluated).empty


def test_a_window_whose_every_feature_psi_is_undefined_reports_no_largest_psi():
    rows = [
        DriftStatistic("test", "feature", "platform_idx", "psi", np.nan, "train", 100, 100),
        DriftStatistic("test", "feature", "platform_idx", "unseen_share_increase", 1.0, "train", 100, 100),
    ]
    evaluated = apply_rules(statistics_frame(rows), RULES)
    recommendation = retrain_recommendation(alert_table(evaluated), ["test"], 1)
    report = drift_report(evaluated, recommendation, "model", ["test"], {})
    assert report["windows"]["test"]["features"]["max_psi"] is None
    assert report["recommendation"] == RETRAIN, "the unseen share still raises its alert"
