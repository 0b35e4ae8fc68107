"""The market-quality figures read from a finished run: top-slot and cold-start calibration against the truth."""

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.bench_market_figures import cold_start_pred_over_obs, top_slot_pred_over_true


def _write(data: Path, relative: str, frame: pd.DataFrame) -> None:
    path = data / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)


def test_the_top_slot_ratio_reads_each_models_rank_one_ads_against_their_true_pctr(tmp_path: Path):
    ranked = pd.DataFrame(
        {
            "request_id": [1, 1, 2, 2, 1, 2],
            "ad_id": [10, 11, 20, 21, 11, 21],
            "model": ["a", "a", "a", "a", "b", "b"],
            "pctr": [0.2, 0.5, 0.4, 0.9, 0.1, 0.1],
            "rank": [1, 2, 1, 2, 1, 1],
        }
    )
    truth = pd.DataFrame({"request_id": [1, 1, 2, 2], "ad_id": [10, 11, 20, 21], "true_pctr": [0.1, 0.2, 0.2, 0.3]})
    _write(tmp_path, "07_model_output/ranked_candidates.parquet", ranked)
    _write(tmp_path, "07_model_output/candidate_truth.parquet", truth)
    ratios = top_slot_pred_over_true(tmp_path)
    assert ratios == pytest.approx({"a": 0.3 / 0.15, "b": 0.1 / 0.25})


def test_a_top_slot_ad_without_truth_is_refused(tmp_path: Path):
    ranked = pd.DataFrame({"request_id": [1], "ad_id": [99], "model": ["a"], "pctr": [0.2], "rank": [1]})
    _write(tmp_path, "07_model_output/ranked_candidates.parquet", ranked)
    _write(tmp_path, "07_model_output/candidate_truth.parquet", ranked[["request_id"]].assign(ad_id=1, true_pctr=0.1))
    with pytest.raises(ValueError, match="candidate_truth lacks the true pCTR"):
        top_slot_pred_over_true(tmp_path)


def test_the_cold_start_ratio_reads_only_new_ads_on_the_test_day(tmp_path: Path):
    world = {"cold_start_ad_ids": [7], "days": {"test_day": 6}}
    (tmp_path / "01_raw" / "ground_truth").mkdir(parents=True)
    (tmp_path / "01_raw" / "ground_truth" / "truth_world.json").write_text(json.dumps(world))
    impressions = pd.DataFrame(
        {"impression_id": [1, 2, 3, 4, 5], "ad_id": [7, 7, 7, 8, 7], "day": [6, 6, 6, 6, 5], "click": [1, 0, 0, 1, 1]}
    )
    _write(tmp_path, "01_raw/impressions.parquet", impressions)
    predictions = pd.DataFrame({"impression_id": [1, 2, 3, 4, 5], "split": "test", "pctr": [0.1, 0.1, 0.1, 0.9, 0.9]})
    _write(tmp_path, "07_model_output/a/calibrated_predictions.parquet", predictions)
    figures = cold_start_pred_over_obs(tmp_path, ["a"])
    assert figures["impressions"] == 3 and figures["clicks"] == 1
    assert figures["a"] == pytest.approx(0.1 / (1 / 3))
