"""The world summary reports base rates and ceilings that match a direct computation."""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from adrank_pipelines.marketplace.summary import summarise_world


def test_summary_matches_a_direct_computation(test_world, test_world_config):
    summary = summarise_world(
        test_world.impressions, test_world.truth_impressions, test_world.ads, test_world.truth_world
    )
    impressions = test_world.impressions
    assert summary["impressions"] == len(impressions)
    assert summary["ctr"] == pytest.approx(impressions["click"].mean())
    expected_auc = roc_auc_score(impressions["click"], test_world.truth_impressions["true_pctr"])
    assert summary["oracle_auc"] == pytest.approx(expected_auc)
    assert sorted(summary["per_day"]) == list(range(test_world_config.total_days))
    test_day = summary["per_day"][test_world_config.test_day]
    assert test_day["ad_only_oracle_auc"] < test_day["oracle_auc"]
    assert 0 < summary["test_day_cold_start_impression_share"] < 0.5
