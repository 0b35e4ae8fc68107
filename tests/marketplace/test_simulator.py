"""The simulated marketplace: determinism, base rates, and a ground truth consistent with the labels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score

from adrank_pipelines.marketplace import Context, GroundTruth, MarketplaceConfig, simulate_marketplace
from adrank_pipelines.marketplace.vocabulary import DRIFT_CATEGORY


def _with(config: MarketplaceConfig, **changes) -> MarketplaceConfig:
    return MarketplaceConfig.model_validate({**config.model_dump(), **changes})


def _labelled(world) -> pd.DataFrame:
    return world.impressions.merge(world.truth_impressions, on="impression_id", validate="one_to_one")


def test_same_seed_gives_identical_tables(test_world_config, test_world):
    again = simulate_marketplace(test_world_config, show_progress=False)
    for name in (
        "users",
        "advertisers",
        "ads",
        "requests",
        "impressions",
        "user_events",
        "truth_impressions",
        "truth_ads",
    ):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(test_world, name))
    assert again.truth_world == test_world.truth_world


def test_another_seed_gives_another_world(test_world_config, test_world):
    other = simulate_marketplace(_with(test_world_config, seed=test_world_config.seed + 1), show_progress=False)
    assert not other.impressions["click"].equals(test_world.impressions["click"])


def test_base_rates_look_like_display_advertising(test_world):
    labelled = _labelled(test_world)
    ctr = labelled["click"].mean()
    conversions_per_click = labelled["conversion"].sum() / labelled["click"].sum()
    oracle_auc = roc_auc_score(labelled["click"], labelled["true_pctr"])
    assert 0.02 <= ctr <= 0.06
    assert 0.05 <= conversions_per_click <= 0.2
    assert 0.72 <= oracle_auc <= 0.88


def test_drawn_labels_agree_with_the_true_probabilities(test_world):
    labelled = _labelled(test_world)
    clicks, expected = labelled["click"].sum(), labelled["true_pctr"].sum()
    assert abs(clicks - expected) < 4 * np.sqrt(expected)
    deciles = pd.qcut(labelled["true_pctr"], 5, labels=False)
    by_bin = labelled.groupby(deciles).agg(observed=("click", "mean"), predicted=("true_pctr", "mean"))
    assert by_bin["observed"].is_monotonic_increasing
    clicked = labelled[labelled["click"] == 1]
    assert labelled.loc[labelled["click"] == 0, "conversion"].sum() == 0
    assert abs(clicked["conversion"].sum() - clicked["true_pcvr"].sum()) < 4 * np.sqrt(clicked["true_pcvr"].sum())


def test_ground_truth_rebuilt_from_the_saved_entries_reproduces_every_probability(test_world):
    world = json.loads(json.dumps(test_world.truth_world))
    truth = GroundTruth(test_world.truth_users, test_world.truth_ads, world)
    impressions = test_world.impressions
    context = Context(
        position=impressions["position"].to_numpy(),
        hour=impressions["hour"].to_numpy(),
        day=impressions["day"].to_numpy(),
        placement=impressions["placement"].to_numpy(),
        platform=impressions["platform"].to_numpy(),
    )
    pctr = truth.click_probability(impressions["user_id"].to_numpy(), impressions["ad_id"].to_numpy(), context)
    np.testing.assert_allclose(pctr, test_world.truth_impressions["true_pctr"].to_numpy(), rtol=1e-12)


def test_counterfactual_scoring_responds_to_position(test_world):
    truth = GroundTruth(test_world.truth_users, test_world.truth_ads, test_world.truth_world)
    n = 50
    users = test_world.users["user_id"].to_numpy()[:n]
    ads = np.full(n, test_world.ads["ad_id"].iloc[0])

    def at(position: int) -> np.ndarray:
        context = Context(np.full(n, position), np.full(n, 20), np.zeros(n), np.full(n, "feed"), np.full(n, "ios"))
        return truth.click_probability(users, ads, context)

    assert np.all(at(1) > at(3))


def test_logit_components_add_up_to_the_click_probability(test_world):
    truth = GroundTruth(test_world.truth_users, test_world.truth_ads, test_world.truth_world)
    n = 40
    users = test_world.users["user_id"].to_numpy()[:n]
    ads = test_world.ads["ad_id"].to_numpy()[:n]
    context = Context(np.full(n, 2), np.full(n, 8), np.zeros(n), np.full(n, "search"), np.full(n, "web"))
    components = truth.click_logit_components(users, ads, context)
    logit = sum(components.values())
    np.testing.assert_allclose(1.0 / (1.0 + np.exp(-logit)), truth.click_probability(users, ads, context))
    click_model = test_world.truth_world["click_model"]
    np.testing.assert_allclose(components["position"], -click_model["position_decay"] * np.log(2.0))
    ad_rows = pd.Series(np.arange(len(test_world.truth_ads)), index=test_world.truth_ads["ad_id"]).loc[ads]
    np.testing.assert_allclose(components["quality"], test_world.truth_ads["quality"].to_numpy()[ad_rows])


def test_ids_alone_carry_much_less_signal_than_the_full_truth(test_world, test_world_config):
    labelled = _labelled(test_world)
    test_day = labelled[labelled["day"] == test_world_config.test_day]
    by_ad = test_day.groupby("ad_id")["true_pctr"].transform("mean")
    assert roc_auc_score(test_day["click"], by_ad) < roc_auc_score(test_day["click"], test_day["true_pctr"]) - 0.08


def test_cold_start_ads_first_serve_on_the_test_day(test_world, test_world_config):
    first_seen = test_world.impressions.groupby("ad_id")["day"].min()
    cold_ids = set(test_world.truth_world["cold_start_ad_ids"])
    assert cold_ids, "the test world must have cold-start ads"
    served_cold = first_seen[first_seen.index.isin(cold_ids)]
    assert (served_cold == test_world_config.test_day).all()
    assert len(served_cold) > 0


def test_no_impression_shows_an_ad_before_its_first_day(test_world):
    joined = test_world.impressions.merge(test_world.ads[["ad_id", "first_day"]], on="ad_id")
    assert (joined["day"] >= joined["first_day"]).all()


def test_drift_window_brings_a_new_category_and_a_new_platform_mix(test_world, test_world_config):
    joined = test_world.impressions.merge(test_world.ads[["ad_id", "category"]], on="ad_id")
    in_window = joined["day"] >= test_world_config.n_days
    assert in_window.any()
    assert (joined.loc[~in_window, "category"] != DRIFT_CATEGORY).all()
    assert (joined.loc[in_window, "category"] == DRIFT_CATEGORY).any()
    requests = test_world.requests
    web_share = requests.groupby(requests["day"] >= test_world_config.n_days)["platform"].apply(
        lambda p: (p == "web").mean()
    )
    assert web_share[True] > web_share[False] + 0.1


def test_drift_can_be_disabled(test_world_config):
    drift = {**test_world_config.drift.model_dump(), "enabled": False}
    world = simulate_marketplace(_with(test_world_config, drift=drift), show_progress=False)
    assert world.impressions["day"].max() == test_world_config.n_days - 1
    assert world.truth_world["drift"]["start_day"] is None


def test_wording_carries_the_theme_beyond_the_category(test_world):
    ads = test_world.ads.merge(test_world.truth_ads[["ad_id", "theme", "is_clear"]], on="ad_id")
    clear = ads[ads["is_clear"]]
    assert clear["title"].str.len().gt(10).all()
    same_category = clear.groupby("category")["theme"].nunique()
    assert (same_category > 1).all(), "each category should mix several themes"


def test_an_unknown_drift_category_is_named_in_the_error(test_world_config):
    drift = {**test_world_config.drift.model_dump(), "shifted_categories": ["knitting"]}
    with pytest.raises(ValidationError, match="knitting"):
        _with(test_world_config, drift=drift)


def test_browsing_follows_each_users_interests(test_world):
    events = test_world.user_events
    assert events["event_time"].is_monotonic_increasing
    assert set(events["user_id"]) <= set(test_world.users["user_id"])
    # Views per category of each user, against that user's true interests: heavy users' top category matches.
    counts = pd.crosstab(events["user_id"], events["category"])
    interests = test_world.truth_users.set_index("user_id")[[f"interest_{c}" for c in counts.columns]].loc[counts.index]
    heavy = counts.sum(axis=1) >= 60
    top_viewed = counts.loc[heavy].to_numpy().argmax(axis=1)
    top_interest = interests.loc[heavy].to_numpy().argmax(axis=1)
    assert heavy.sum() > 50
    assert (top_viewed == top_interest).mean() > 0.7


def test_browsing_leaves_the_ad_log_unchanged(test_world_config, test_world):
    quiet_browsing = {"events_per_user": 5.0, "history_days": 3}
    quiet = simulate_marketplace(_with(test_world_config, browsing=quiet_browsing), show_progress=False)
    pd.testing.assert_frame_equal(quiet.impressions, test_world.impressions)
    assert len(quiet.user_events) < len(test_world.user_events) / 5
