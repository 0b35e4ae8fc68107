"""Feature drift: zero for identical windows, flags exactly the shifted features, fails clearly on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.monitoring.alerts import apply_rules
from adrank_pipelines.monitoring.feature_drift import (
    MonitoredFeature,
    feature_drift,
    fit_reference_profile,
    monitored_features,
)
from adrank_pipelines.monitoring.params import RuleParams
from adrank_pipelines.monitoring.statistics import statistics_frame
from tests.monitoring.drift_windows import FEATURES, window


def _statistics(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    profile = fit_reference_profile(reference, FEATURES, max_categories=50, numeric_bins=10, share_floor=1e-4)
    return statistics_frame(feature_drift(profile, current, "current")).set_index(["subject", "statistic"])


def test_identical_windows_give_zero_drift():
    reference = window(np.random.default_rng(0), 20_000)
    statistics = _statistics(reference, reference.sample(frac=1.0, random_state=1))
    assert (statistics["value"] == 0.0).all()
    assert statistics.xs("ks", level="statistic")["p_value"].tolist() == pytest.approx([1.0, 1.0])


def test_a_window_from_the_same_process_stays_below_the_warning_thresholds():
    rng = np.random.default_rng(1)
    evaluated = apply_rules(_statistics(window(rng, 20_000), window(rng, 5_000)).reset_index(), RuleParams())
    assert (evaluated["severity"] == "ok").all(), evaluated.loc[evaluated["severity"] != "ok"]


def test_a_shifted_window_is_flagged_on_the_shifted_features_only():
    rng = np.random.default_rng(2)
    reference = window(rng, 20_000)
    current = window(rng, 5_000, platform_shares={2: 0.3, 3: 0.35, 4: 0.35}, new_category_share=0.02, bid_shift=0.3)
    evaluated = apply_rules(_statistics(reference, current).reset_index(), RuleParams()).set_index(
        ["subject", "statistic"]
    )
    severity = evaluated["severity"]
    assert severity[("platform_idx", "psi")] in {"warn", "alert"}
    assert severity[("category_idx", "unseen_share_increase")] == "alert"
    assert severity[("log_bid", "ks")] in {"warn", "alert"} and severity[("log_bid", "psi")] in {"warn", "alert"}
    assert severity[("category_idx", "psi")] == "ok"  # the known categories keep their mix
    assert severity[("age_hours", "psi")] == "ok"
    unseen = evaluated.loc[("category_idx", "unseen_share_increase")]
    assert unseen["current_value"] == pytest.approx((current["category_idx"] == 1).mean())
    assert unseen["reference_value"] == 0.0


def test_report_only_features_are_computed_but_marked():
    rng = np.random.default_rng(3)
    statistics = _statistics(window(rng, 2_000), window(rng, 2_000))
    assert not statistics.loc[("age_hours", "psi"), "alerting"]
    assert statistics.loc[("log_bid", "psi"), "alerting"]
    assert statistics.loc[("platform_idx", "psi"), "source"] == "platform"


def test_an_empty_current_window_gives_no_rows_and_an_empty_reference_an_error():
    reference = window(np.random.default_rng(4), 1_000)
    profile = fit_reference_profile(reference, FEATURES, 50, 10, 1e-4)
    assert feature_drift(profile, reference.iloc[:0], "drift") == []
    with pytest.raises(ValueError, match="reference window 'train' has no rows"):
        fit_reference_profile(reference.iloc[:0], FEATURES, 50, 10, 1e-4, window="train")


def test_a_missing_feature_column_is_named_with_its_window():
    reference = window(np.random.default_rng(5), 1_000)
    profile = fit_reference_profile(reference, FEATURES, 50, 10, 1e-4)
    with pytest.raises(KeyError, match=r"window 'test' lacks .*\['log_bid'\]"):
        feature_drift(profile, reference.drop(columns="log_bid"), "test")


def test_monitored_features_follow_the_spec_and_reject_unknown_names():
    features = monitored_features(
        categorical={"platform_idx": ["platform"], "day_of_week_idx": ["event_time"]},
        numeric=["log_bid", "ad_id_ctr"],
        unseen_codes={"platform_idx": {1}},
        excluded=["day_of_week_idx"],
        report_only=["ad_id_ctr"],
    )
    assert features == [
        MonitoredFeature("platform_idx", "categorical", ("platform",), frozenset({1})),
        MonitoredFeature("log_bid", "numeric", ("log_bid",)),
        MonitoredFeature("ad_id_ctr", "numeric", ("ad_id_ctr",), alerting=False),
    ]
    with pytest.raises(ValueError, match=r"drift\.features\.report_only names \['ad_ctr'\]"):
        monitored_features({}, ["ad_id_ctr"], {}, report_only=["ad_ctr"])
