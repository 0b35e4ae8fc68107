"""Fitting, predicting and candidate scoring of the transformer CTR model on the synthetic world."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from adrank_pipelines.models.prepare import prepare_ads
from adrank_pipelines.models.scoring import candidate_latency_ms, predict_ctr, score_candidates
from adrank_pipelines.models.text_encoder import ad_text_embeddings
from adrank_pipelines.models.training import click_metrics, resolve_device
from adrank_pipelines.models.training_plan import best_epoch, plan_training
from adrank_pipelines.models.zoo.interface import SideTables
from tests.models.transformer_fixtures import (
    SyntheticWorld,
    fit_network,
    synthetic_world,
    tabular_spec,
    tiny_params,
    tiny_tabular_params,
    world,  # noqa: F401 - pytest fixture
)


@pytest.fixture(scope="module")
def fitted(world: SyntheticWorld):
    params = tiny_params(training={"max_epochs": 3, "learning_rate": 0.01})
    text = ad_text_embeddings(world.ad_features, params.text_encoder)
    model, history = fit_network(
        world.train, world.valid, world.spec, params, SideTables(world.sequences, world.ad_features, text)
    )
    return model, history, text


def test_the_model_learns_the_click_rule(world: SyntheticWorld, fitted) -> None:
    model, history, text = fitted
    predictions = predict_ctr(model, world.valid, world.sequences, world.ad_features, text)
    assert roc_auc_score(world.valid["click"], predictions["pctr"]) > 0.65
    assert history[-1]["valid_auc"] > 0.65


def test_the_model_learns_which_audience_likes_which_wording_without_ad_ids() -> None:
    # "premium" creatives attract one audience and repel the other: only a user field x wording
    # interaction separates them, and with the ad ids excluded nothing can memorise the ads instead.
    world = synthetic_world(audience_taste=True)
    params = tiny_params(
        excluded_columns=["ad_id_idx", "advertiser_id_idx", "user_id_idx", "user_id_x_category_hash"],
        training={"max_epochs": 4, "learning_rate": 0.01},
    )
    text = ad_text_embeddings(world.ad_features, params.text_encoder)
    model, _ = fit_network(
        world.train, world.valid, world.spec, params, SideTables(world.sequences, world.ad_features, text)
    )
    valid = world.valid.assign(pctr=predict_ctr(model, world.valid, world.sequences, world.ad_features, text)["pctr"])
    premium = world.ad_features.set_index("ad_id")["title"].str.contains("premium")
    valid["premium"] = premium.loc[valid["ad_id"]].to_numpy()
    mean_pctr = valid.groupby(["audience_idx", "premium"])["pctr"].mean()
    assert mean_pctr[(2, True)] > 1.5 * mean_pctr[(2, False)]  # the audience that likes "premium"
    assert mean_pctr[(3, True)] < 0.67 * mean_pctr[(3, False)]  # the one it repels
    assert roc_auc_score(valid["click"], valid["pctr"]) > 0.7


def test_history_has_per_epoch_metrics(fitted) -> None:
    _, history, _ = fitted
    assert [entry["epoch"] for entry in history] == list(range(1, len(history) + 1))
    for entry in history:
        assert {"train_loss", "valid_logloss", "valid_auc", "seconds", "samples_per_second"} <= set(entry)
        assert entry["samples_per_second"] > 0


def test_predictions_are_probabilities_in_frame_order(world: SyntheticWorld, fitted) -> None:
    model, _, text = fitted
    frame = world.valid.head(333)
    predictions = predict_ctr(model, frame, world.sequences, world.ad_features, text, batch_size=100)
    assert list(predictions.columns) == ["impression_id", "pctr", "pcvr"]
    np.testing.assert_array_equal(predictions["impression_id"], frame["impression_id"])
    assert predictions[["pctr", "pcvr"]].apply(lambda c: c.between(0, 1).all()).all()


def test_candidate_scoring_matches_frame_scoring(world: SyntheticWorld, fitted) -> None:
    model, _, text = fitted
    request = world.valid.iloc[0]
    candidates = world.valid.head(1).loc[np.zeros(len(world.ad_features), dtype=int)].reset_index(drop=True)
    candidates["ad_id"] = world.ad_features["ad_id"].to_numpy()
    for column in ["ad_id_idx", "advertiser_id_idx", "category_idx"]:
        candidates[column] = world.ad_features[column].to_numpy()
    candidates["impression_id"] = np.arange(len(candidates))
    sequence = world.sequences.loc[world.sequences["request_id"] == request["request_id"]]
    ads = prepare_ads(model, world.ad_features, text)
    scores = score_candidates(model, candidates, sequence, ads)
    expected = predict_ctr(model, candidates, world.sequences, world.ad_features, text)["pctr"].to_numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    latency = candidate_latency_ms(model, candidates, sequence, ads, repeats=3)
    assert 0 < latency["median_ms"] <= latency["p99_ms"]


def test_the_field_attention_model_trains_and_predicts_without_text_or_sequences(world: SyntheticWorld) -> None:
    params = tiny_tabular_params(training={"max_epochs": 1})
    model, history = fit_network(world.train, world.valid, tabular_spec(), params)
    predictions = predict_ctr(model, world.valid)
    assert len(history) == 1 and predictions["pctr"].between(0, 1).all()


def test_training_is_seeded(world: SyntheticWorld) -> None:
    params = tiny_tabular_params(training={"max_epochs": 1})
    train, valid = world.train.head(1000), world.valid.head(500)
    first, _ = fit_network(train, valid, tabular_spec(), params)
    second, _ = fit_network(train, valid, tabular_spec(), params)
    np.testing.assert_array_equal(predict_ctr(first, valid)["pctr"], predict_ctr(second, valid)["pctr"])


def test_asking_for_cuda_without_it_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="cuda"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize("metric", ["logloss", "auc"])
def test_early_stopping_hands_back_the_best_epochs_weights(world: SyntheticWorld, metric: str) -> None:
    # A high learning rate on a thousand rows over-fits within a few epochs: later epochs score worse.
    params = tiny_tabular_params(
        training={"max_epochs": 6, "patience": 6, "learning_rate": 0.05, "early_stopping_metric": metric}
    )
    valid = world.valid.head(1000)
    model, history = fit_network(world.train.head(1000), valid, tabular_spec(), params)
    best = best_epoch(history, metric)
    assert len(history) == 6 and best < 6, [entry[f"valid_{metric}"] for entry in history]
    metrics = click_metrics(valid["click"].to_numpy(), predict_ctr(model, valid)["pctr"].to_numpy())
    assert metrics[metric] == pytest.approx(history[best - 1][f"valid_{metric}"], abs=1e-6)
    assert metrics[metric] != pytest.approx(history[-1][f"valid_{metric}"], abs=1e-6)


def test_the_learning_rate_falls_after_an_epoch_without_gain_and_the_history_records_the_plan(
    world: SyntheticWorld,
) -> None:
    params = tiny_tabular_params(
        training={"max_epochs": 6, "patience": 6, "learning_rate": 0.05, "plateau_factor": 0.5, "batch_size": "auto"}
    )
    _, history = fit_network(world.train.head(1000), world.valid.head(1000), tabular_spec(), params)
    rates = [entry["learning_rate"] for entry in history]
    for epoch in range(1, len(history)):
        gained = best_epoch(history[:epoch], "logloss") == epoch
        assert rates[epoch] == pytest.approx(rates[epoch - 1] * (1.0 if gained else 0.5)), history
    assert rates[-1] < rates[0]
    assert {entry["batch_size"] for entry in history} == {plan_training(params.training, 1000).batch_size}
