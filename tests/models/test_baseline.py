import numpy as np
import pandas as pd

from adrank_pipelines.models.metrics import auc, calibration_ratio
from adrank_pipelines.models.zoo.baseline.regression import (
    AD_CTR_AND_SLOT,
    BaselineColumns,
    baseline_columns,
    fit_baseline,
    predict_baseline,
)
from tests.models.ranker_fixtures import make_ctr_world


def test_baseline_learns_from_ad_ctr_and_position():
    frames, _ = make_ctr_world()
    baseline = fit_baseline(frames["train"])
    predictions = predict_baseline(baseline, frames["valid"])
    assert predictions.columns.tolist() == ["impression_id", "pctr"]
    assert predictions["impression_id"].tolist() == frames["valid"]["impression_id"].tolist()
    assert auc(frames["valid"]["click"], predictions["pctr"]) > 0.6
    assert abs(calibration_ratio(frames["valid"]["click"], predictions["pctr"]) - 1) < 0.15


def test_baseline_scores_positions_unseen_in_train():
    frames, _ = make_ctr_world()
    baseline = fit_baseline(frames["train"])
    predictions = predict_baseline(baseline, frames["test"].assign(position=9))
    assert predictions["pctr"].between(0, 1).all()


def test_the_every_field_regression_reads_the_spec_columns_and_scores_unseen_values():
    rng = np.random.default_rng(0)
    site, price = rng.integers(0, 20, 4_000), rng.normal(size=4_000)
    clicks = rng.random(4_000) < 1 / (1 + np.exp(-(site % 3 - 1.0 + price)))
    frame = pd.DataFrame({"impression_id": np.arange(4_000), "site_idx": site, "price_log": price, "click": clicks})
    spec = {"categorical": {"site_idx": {"kind": "vocabulary"}}, "numeric": ["price_log"]}
    columns = baseline_columns("every_field", spec)
    assert columns == BaselineColumns(one_hot=("site_idx",), numeric=("price_log",))
    assert baseline_columns("ad_ctr_and_slot", spec) == AD_CTR_AND_SLOT
    baseline = fit_baseline(frame.head(3_000), columns, inverse_l2=1.0)
    held_out = frame.tail(1_000)
    assert auc(held_out["click"], predict_baseline(baseline, held_out)["pctr"]) > 0.7
    unseen = predict_baseline(baseline, held_out.assign(site_idx=99))["pctr"]
    assert unseen.between(0, 1).all()
