import numpy as np
import pytest

from adrank_pipelines.models.metrics import auc, calibration_ratio
from adrank_pipelines.models.zoo.hybrid.blend import predict_hybrid, train_hybrid
from adrank_pipelines.models.zoo.lightgbm.booster import (
    LightGBMParams,
    predict_lightgbm,
    select_features,
    train_lightgbm,
)
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


UPSTREAM = ["lightgbm", "transformer"]


@pytest.fixture(scope="module")
def upstream(world):
    """Each split's pCTR of the hybrid's two upstream models: LightGBM and a noisy stand-in for the transformer."""
    frames, truth = world
    lightgbm = train_lightgbm(frames["train"], frames["valid"], SPEC, FAST)
    return {
        split: {
            "lightgbm": predict_lightgbm(lightgbm, frame)["pctr"].to_numpy(),
            "transformer": noisy_score(truth, frame, noise=0.3)["pctr"].to_numpy(),
        }
        for split, frame in frames.items()
    }


# The feature method reads the upstream logits of the train days, where LightGBM's own are in-sample,
# so it combines the transformer's score with its own trees rather than with another LightGBM; its
# trees on ~6k rows add to LightGBM but not to a score this close to the truth. The blend beats both.
@pytest.mark.parametrize(
    ("method", "models", "beaten"),
    [("feature", ["transformer"], ["lightgbm"]), ("blend", UPSTREAM, UPSTREAM)],
)
def test_the_hybrid_beats_its_upstream_models_and_is_calibrated(world, upstream, method, models, beaten):
    frames, _ = world
    hybrid = train_hybrid(
        frames["train"], frames["valid"], SPEC, upstream["train"], upstream["valid"], models, method, FAST
    )
    assert hybrid.method == method and hybrid.models == tuple(models)
    pctr = predict_hybrid(hybrid, frames["test"], upstream["test"])
    labels = frames["test"]["click"]
    assert auc(labels, pctr) > max(auc(labels, upstream["test"][name]) for name in beaten)
    assert abs(calibration_ratio(labels, pctr) - 1) < 0.1


def test_the_blend_weighs_every_informative_model(world, upstream):
    frames, _ = world
    hybrid = train_hybrid(
        frames["train"], frames["valid"], SPEC, upstream["train"], upstream["valid"], UPSTREAM, "blend", FAST
    )
    assert hybrid.blend is not None and (hybrid.blend.coef_[0] > 0.1).all()
    alone = train_hybrid(
        frames["train"], frames["valid"], SPEC, upstream["train"], upstream["valid"], ["transformer"], "blend", FAST
    )
    # A blend of one model is a monotone recalibration: the order of its scores is unchanged.
    test = upstream["test"]
    np.testing.assert_array_equal(
        np.argsort(predict_hybrid(alone, frames["test"], test), kind="stable"),
        np.argsort(test["transformer"], kind="stable"),
    )


def test_the_hybrid_refuses_missing_or_misaligned_upstream_scores(world, upstream):
    frames, _ = world
    hybrid = train_hybrid(
        frames["train"], frames["valid"], SPEC, upstream["train"], upstream["valid"], UPSTREAM, "blend", FAST
    )
    test = upstream["test"]
    with pytest.raises(ValueError, match=r"needs the pCTR of \['transformer'\]"):
        predict_hybrid(hybrid, frames["test"], {"lightgbm": test["lightgbm"]})
    with pytest.raises(ValueError, match=r"\['transformer'\] does not hold one score per row"):
        predict_hybrid(hybrid, frames["test"], {**test, "transformer": test["transformer"][10:]})
