import numpy as np
import pytest

from adrank_pipelines.models.zoo.lightgbm.booster import (
    blended_pctr,
    predict_hybrid,
    predict_lightgbm,
    select_features,
    train_hybrid,
    train_lightgbm,
)
from adrank_pipelines.models.metrics import auc, calibration_ratio
from adrank_pipelines.models.evaluation_config import CtrLightGBMParams, HybridParams, LightGBMParams
from tests.models.ranker_fixtures import SPEC, make_ctr_world, noisy_score

# Small and fast; a high learning rate so early stopping triggers well before n_estimators.
FAST = LightGBMParams(
    num_leaves=15,
    learning_rate=0.3,
    n_estimators=300,
    early_stopping_rounds=10,
    min_child_samples=50,
    num_threads=1,
    max_categorical_cardinality=50,
)


@pytest.fixture(scope="module")
def world():
    return make_ctr_world()


def test_feature_groups_follow_the_spec():
    groups = ["numeric", "categorical", "ids", "crosses"]
    as_integers = select_features(SPEC, FAST.model_copy(update={"feature_groups": groups}))
    assert set(as_integers.columns) == set(SPEC["numeric"]) | set(SPEC["categorical"])
    assert as_integers.categorical == ("category_idx",)
    ids_as_categories = {"feature_groups": groups, "id_encoding": "categorical"}
    as_categories = select_features(SPEC, FAST.model_copy(update=ids_as_categories))
    assert as_categories.categorical == ("category_idx", "user_id_idx")
    assert select_features(SPEC, FAST).columns == ("position", "signal", "ad_id_ctr", "category_idx")


def test_lightgbm_learns_the_signal_and_stops_early(world):
    frames, truth = world
    ranker = train_lightgbm(frames["train"], frames["valid"], SPEC, FAST)
    assert ranker.best_iteration < FAST.n_estimators
    assert ranker.booster.num_trees() <= ranker.best_iteration + FAST.early_stopping_rounds
    predictions = predict_lightgbm(ranker, frames["test"])
    assert predictions["impression_id"].tolist() == frames["test"]["impression_id"].tolist()
    test_auc = auc(frames["test"]["click"], predictions["pctr"])
    true_pctr = truth.set_index("impression_id").loc[predictions["impression_id"], "true_pctr"]
    oracle_auc = auc(frames["test"]["click"], true_pctr)
    assert test_auc > 0.7
    assert test_auc > oracle_auc - 0.05


def test_lightgbm_is_deterministic(world):
    frames, _ = world
    first, second = (
        predict_lightgbm(train_lightgbm(frames["train"], frames["valid"], SPEC, FAST), frames["test"]) for _ in range(2)
    )
    np.testing.assert_array_equal(first["pctr"], second["pctr"])


@pytest.mark.parametrize("method", ["feature", "blend"])
def test_hybrid_uses_the_transformer_score_and_is_calibrated(world, method):
    frames, truth = world
    transformer = {split: noisy_score(truth, frame, noise=0.3) for split, frame in frames.items()}
    params = CtrLightGBMParams(model=FAST, hybrid=HybridParams(method=method))
    lightgbm = train_lightgbm(frames["train"], frames["valid"], SPEC, FAST)
    hybrid = train_hybrid(
        frames["train"], frames["valid"], SPEC, transformer["train"], transformer["valid"], params, lightgbm=lightgbm
    )
    assert hybrid.method == method
    predictions = predict_hybrid(hybrid, frames["test"], transformer["test"])
    labels = frames["test"]["click"]
    assert auc(labels, predictions["pctr"]) > auc(labels, predict_lightgbm(lightgbm, frames["test"])["pctr"])
    assert abs(calibration_ratio(labels, predictions["pctr"]) - 1) < 0.1


def test_hybrid_refuses_impressions_without_a_transformer_score(world):
    frames, truth = world
    transformer = {split: noisy_score(truth, frame, noise=0.3) for split, frame in frames.items()}
    params = CtrLightGBMParams(model=FAST)
    hybrid = train_hybrid(frames["train"], frames["valid"], SPEC, transformer["train"], transformer["valid"], params)
    with pytest.raises(ValueError, match="lacks 10 of"):
        predict_hybrid(hybrid, frames["test"], transformer["test"].iloc[10:])


def test_blending_held_scores_equals_predicting_the_hybrid(world):
    frames, truth = world
    transformer = {split: noisy_score(truth, frame, noise=0.3) for split, frame in frames.items()}
    lightgbm = train_lightgbm(frames["train"], frames["valid"], SPEC, FAST)
    hybrid = train_hybrid(frames["train"], frames["valid"], SPEC, transformer["train"], transformer["valid"],
                          CtrLightGBMParams(model=FAST), lightgbm=lightgbm)  # fmt: skip
    test, scores = frames["test"], transformer["test"].set_index("impression_id").loc[frames["test"]["impression_id"]]
    held = blended_pctr(hybrid, predict_lightgbm(lightgbm, test)["pctr"].to_numpy(), scores["pctr"].to_numpy())
    np.testing.assert_allclose(held, predict_hybrid(hybrid, test, transformer["test"])["pctr"], rtol=1e-12)
    feature_hybrid = train_hybrid(frames["train"], frames["valid"], SPEC, transformer["train"], transformer["valid"],
                                  CtrLightGBMParams(model=FAST, hybrid=HybridParams(method="feature")))  # fmt: skip
    with pytest.raises(ValueError, match="'feature' hybrid does not blend"):
        blended_pctr(feature_hybrid, held, held)
