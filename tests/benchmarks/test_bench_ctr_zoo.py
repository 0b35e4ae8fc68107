"""The default world's multi-seed CTR figures: each model's calibrated score where it has one, averaged over seeds."""

import pytest

from benchmarks.bench_ctr_zoo import MODELS, SEED_PARAMETERS, seed_params, summarise
from tests.conftest import project_parameters


def _metrics(auc: float, ratio: float) -> dict[str, float]:
    return {"auc": auc, "calibration_ratio": ratio}


def _report(offset: float) -> dict:
    # Raw scores are worse and miscalibrated; the calibrated ones are what a model is judged by.
    metrics = {}
    for position, model in enumerate(MODELS):
        metrics[model] = _metrics(0.5, 1.5)
        if model != "baseline":
            metrics[f"{model}_calibrated"] = _metrics(0.6 + 0.01 * position + offset, 1.0 + offset)
    cold = {name: {**value, "auc": value["auc"] + 0.05} for name, value in metrics.items()}
    return {"subsets": {"all": {"metrics": metrics}, "cold_start": {"metrics": cold}}}


def test_each_model_reads_its_calibrated_score_and_the_spread_is_over_seeds():
    summary = summarise([_report(0.0), _report(0.02), _report(0.04)])

    assert list(summary) == MODELS
    lightgbm = summary["lightgbm"]
    assert lightgbm["auc_by_seed"] == pytest.approx([0.61, 0.63, 0.65])
    assert lightgbm["auc"] == pytest.approx(0.63)
    assert lightgbm["auc_std"] == pytest.approx(0.02)
    assert lightgbm["cold_start_auc"] == pytest.approx(0.68)
    assert lightgbm["calibration_ratio"] == pytest.approx(1.02)
    # The baseline has no calibrator: its raw score, the same on every seed.
    assert summary["baseline"]["auc"] == pytest.approx(0.5) and summary["baseline"]["auc_std"] == 0.0


def test_every_trained_models_seed_moves_by_the_offset():
    assert seed_params(2) == ",".join(f"{key}={base + 2}" for key, base in SEED_PARAMETERS.values())
    assert "ctr_models.lightgbm.seed=44" in seed_params(2).split(",")
    assert "ctr_models.transformer.training.seed=2" in seed_params(2).split(",")


def test_the_seed_parameters_are_conf_bases_at_offset_0():
    parameters = project_parameters("local")
    for key, base in SEED_PARAMETERS.values():
        value = parameters
        for part in key.split("."):
            value = value[part]
        assert value == base, key
