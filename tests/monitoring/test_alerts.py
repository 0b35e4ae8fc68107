"""Alert rules: thresholds with overrides, the significance gate, the alert table and the recommendation."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from adrank_pipelines.monitoring.alerts import alert_table, apply_rules, retrain_recommendation
from adrank_pipelines.monitoring.params import DriftParams, RuleParams
from adrank_pipelines.monitoring.statistics import DriftStatistic, statistics_frame


def _row(window, group, subject, statistic, value, p_value=np.nan, alerting=True) -> DriftStatistic:
    return DriftStatistic(
        window=window,
        group=group,
        subject=subject,
        statistic=statistic,
        value=value,
        reference_window="train",
        n_reference=100,
        n_current=100,
        p_value=p_value,
        alerting=alerting,
    )


RULES = RuleParams.model_validate(
    {"feature_overrides": {"ad_id_idx": {"unseen_share_increase": {"warn": 0.2, "alert": 0.3}}}}
)


def test_thresholds_come_from_the_group_and_a_feature_override_wins():
    assert RULES.thresholds("feature", "platform_idx", "psi").alert == 0.25
    assert RULES.thresholds("feature", "ad_id_idx", "unseen_share_increase").warn == 0.2
    assert RULES.thresholds("feature", "ad_id_idx", "psi").alert == 0.25  # only the named statistic moves
    assert RULES.thresholds("label", "click", "ctr_change").warn == 0.05
    with pytest.raises(KeyError, match=r"drift\.rules\.label thresholds for the statistic 'psi'"):
        RULES.thresholds("label", "click", "psi")


def test_severity_needs_magnitude_and_significance():
    statistics = statistics_frame(
        [
            _row("test", "feature", "platform_idx", "psi", 0.09),
            _row("test", "feature", "category_idx", "psi", 0.1),
            _row("test", "feature", "country_idx", "psi", 0.3),
            _row("test", "label", "click", "ctr_change", 0.3, p_value=0.2),  # large but not significant
            _row("test", "label", "click", "ctr_change", 0.06, p_value=0.001),
            _row("test", "feature", "ad_id_idx", "unseen_share_increase", 0.11),  # under its override
            _row("test", "performance", "pctr", "auc_drop", np.nan),
        ]
    )
    severity = ["ok", "warn", "alert", "ok", "warn", "ok", "undefined"]
    assert apply_rules(statistics, RULES)["severity"].tolist() == severity


def test_an_undefined_statistic_is_neither_ok_nor_flagged_and_a_quiet_window_decides_none():
    statistics = statistics_frame(
        [
            _row("test", "performance", "pctr", "auc_drop", np.nan),
            _row("test", "feature", "platform_idx", "psi", 0.01),
        ]
    )
    evaluated = apply_rules(statistics, RULES)
    assert evaluated["severity"].tolist() == ["undefined", "ok"]
    alerts = alert_table(evaluated)
    assert alerts.empty and list(alerts.columns) == list(evaluated.columns)
    decision = retrain_recommendation(alerts, ["test"], min_alerts=2)["windows"]["test"]
    assert decision == {"decision": "none", "alerts": 0, "warnings": 0, "reasons": []}


def test_the_alert_table_holds_alerting_flags_alerts_first():
    statistics = statistics_frame(
        [
            _row("drift", "feature", "platform_idx", "psi", 0.2),
            _row("drift", "feature", "ad_id_ctr", "psi", 5.0, alerting=False),
            _row("drift", "feature", "category_idx", "psi", 0.3),
            _row("drift", "feature", "country_idx", "psi", 0.9),
            _row("test", "feature", "country_idx", "psi", 0.01),
        ]
    )
    alerts = alert_table(apply_rules(statistics, RULES))
    assert alerts["subject"].tolist() == ["country_idx", "category_idx", "platform_idx"]
    assert alerts["severity"].tolist() == ["alert", "alert", "warn"]


def test_retrain_recommendation_follows_the_latest_window():
    statistics = statistics_frame(
        [
            _row("test", "feature", "platform_idx", "psi", 0.2),
            _row("drift", "feature", "category_idx", "psi", 0.3),
        ]
    )
    alerts = alert_table(apply_rules(statistics, RULES))
    recommendation = retrain_recommendation(alerts, ["test", "drift"], min_alerts=1)
    assert recommendation["recommendation"] == "retrain"
    assert recommendation["windows"]["test"]["decision"] == "watch"
    assert recommendation["windows"]["drift"]["reasons"] == ["drift: feature category_idx psi 0.3 >= 0.25 (alert)"]
    assert retrain_recommendation(alerts, ["drift"], min_alerts=2)["recommendation"] == "watch"
    assert retrain_recommendation(alerts.iloc[:0], ["test"], min_alerts=1)["recommendation"] == "none"


def test_parameters_fail_naming_the_bad_key():
    with pytest.raises(ValidationError, match="must not exceed alert"):
        DriftParams.model_validate({"rules": {"feature": {"psi": {"warn": 0.3, "alert": 0.25}}}})
    with pytest.raises(ValidationError, match="psii"):
        DriftParams.model_validate({"rules": {"feature": {"psii": {"warn": 0.1, "alert": 0.25}}}})
    with pytest.raises(ValidationError, match="max_p_value"):
        DriftParams.model_validate({"rules": {"max_p_value": 0}})
