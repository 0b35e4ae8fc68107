"""lightgbm.dask (``engine: dask``): the same model as lgb.train on one worker, the same early-stopping rule."""

from __future__ import annotations

import lightgbm as lgb
import pytest
from distributed import Client, LocalCluster

from adrank_pipelines.models.zoo.lightgbm.booster import (
    LABEL_COLUMN,
    _booster_params,
    _dataset,
    predict_lightgbm,
    select_features,
    train_lightgbm,
)
from adrank_pipelines.models.zoo.lightgbm.distributed import early_stopped_iteration
from tests.models.ranker_fixtures import SPEC, make_ctr_world
from tests.models.test_lightgbm_ranker import FAST


@pytest.fixture(scope="module")
def frames():
    return make_ctr_world()[0]


def test_the_early_stopping_rule_picks_lgb_trains_best_iteration(frames):
    features = select_features(SPEC, FAST)
    stopped = train_lightgbm(frames["train"], frames["valid"], SPEC, FAST)
    # Every tree grown, no callback: the rule applied afterwards must stop where the callback did.
    grown = lgb.train(_booster_params(FAST), _dataset(frames["train"], features), num_boost_round=FAST.n_estimators)
    best, valid_auc = early_stopped_iteration(
        grown, frames["valid"], features.columns, LABEL_COLUMN, FAST.early_stopping_rounds
    )
    assert best == stopped.best_iteration < FAST.n_estimators
    assert valid_auc == pytest.approx(stopped.valid_auc, abs=1e-9)


def test_on_one_worker_lightgbm_dask_trains_the_in_process_model(frames):
    on_dask = FAST.model_copy(update={"engine": "dask"})
    one_worker = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    with one_worker as cluster, Client(cluster):
        distributed = train_lightgbm(frames["train"], frames["valid"], SPEC, on_dask)
    local = train_lightgbm(frames["train"], frames["valid"], SPEC, FAST)
    assert distributed.best_iteration == local.best_iteration
    assert predict_lightgbm(distributed, frames["test"]).equals(predict_lightgbm(local, frames["test"]))


def test_the_dask_engine_without_a_cluster_says_how_to_get_one(frames):
    with pytest.raises(ValueError, match="engine is 'dask' but no Dask client is running: run with --env dask"):
        train_lightgbm(frames["train"], frames["valid"], SPEC, FAST.model_copy(update={"engine": "dask"}))
