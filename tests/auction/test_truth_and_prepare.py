"""Ground truth per candidate, and the evaluation day's replay inputs built from the catalog tables."""

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.auction.config import AuctionRules, PacingParams
from adrank_pipelines.auction.prepare import (
    auction_candidates,
    check_ranked_candidates,
    evaluation_day,
    pacing_target,
    replay_inputs,
)
from adrank_pipelines.auction.truth import candidate_ground_truth


def test_candidate_truth_matches_the_simulators_logged_probabilities(auction_world):
    """Logged impressions of the test day, scored as candidates, get the simulator's own true pCTR
    (through the measured position shift) and pCVR."""
    world = auction_world.world
    logged = world.impressions.merge(world.truth_impressions, on="impression_id")
    logged = logged.loc[logged["day"] == auction_world.day].drop_duplicates(["request_id", "ad_id"])
    frame = candidate_ground_truth(logged, world.requests, auction_world.truth).merge(
        logged, on=["request_id", "ad_id"]
    )
    top = frame["true_pctr_x"].to_numpy()
    top_logit = np.log(top) - np.log1p(-top)
    shift = np.asarray(auction_world.shifts)[frame["position"].to_numpy() - 1]
    assert 1 / (1 + np.exp(-(top_logit + shift))) == pytest.approx(frame["true_pctr_y"].to_numpy())
    assert frame["true_pcvr_x"].to_numpy() == pytest.approx(frame["true_pcvr_y"].to_numpy())
    assert auction_world.shifts[0] == 0.0 and np.all(np.diff(auction_world.shifts) < 0)


def test_ranked_candidates_contract_errors_name_the_column():
    good = pd.DataFrame({"request_id": [1], "ad_id": [2], "model": ["m"], "pctr": [0.1], "pcvr": [0.05], "rank": [0]})
    check_ranked_candidates(good)
    with pytest.raises(ValueError, match=r"ranked_candidates lacks columns \['rank'\]"):
        check_ranked_candidates(good.drop(columns="rank"))
    with pytest.raises(ValueError, match=r"ranked_candidates\.pcvr: 1 value\(s\) missing"):
        check_ranked_candidates(good.assign(pcvr=np.nan))
    with pytest.raises(ValueError, match=r"ranked_candidates\.pctr"):
        check_ranked_candidates(good.assign(pctr=1.5))


def test_evaluation_day_is_the_one_day_ranked_or_must_be_set(auction_world):
    requests = auction_world.world.requests
    assert evaluation_day(auction_world.ranked, requests, None) == auction_world.day
    two_days = pd.concat([auction_world.ranked, auction_world.ranked.assign(request_id=1)])
    with pytest.raises(ValueError, match=r"set auction_eval\.evaluation_day"):
        evaluation_day(two_days, requests, None)
    assert evaluation_day(two_days, requests, 0) == 0


def test_pacing_target_from_the_previous_day_needs_that_day(auction_world):
    requests = auction_world.world.requests
    target = pacing_target(requests, auction_world.day, PacingParams(step_minutes=60))
    assert len(target) == 24 and target[-1] == pytest.approx(1.0) and np.all(np.diff(target) >= 0)
    with pytest.raises(ValueError, match="use target_profile: uniform"):
        pacing_target(requests, 0, PacingParams())


def test_auction_candidates_add_the_oracle_over_the_same_pairs(auction_world):
    world = auction_world.world
    frames = auction_candidates(
        auction_world.ranked, auction_world.candidate_truth, world.ads, world.advertisers, AuctionRules(), "oracle"
    )
    assert set(frames) == {"lightgbm", "hybrid", "oracle"}
    oracle, hybrid = frames["oracle"], frames["hybrid"]
    assert len(oracle) == len(hybrid) == len(auction_world.candidate_truth)
    assert oracle["pctr"].to_numpy() == pytest.approx(oracle["true_pctr"].to_numpy())
    assert oracle["order"].to_numpy() == pytest.approx(-(oracle["bid"] * oracle["pctr"] * oracle["quality"]).to_numpy())
    assert hybrid["order"].to_numpy() == pytest.approx(
        auction_world.ranked.query("model == 'hybrid'")["rank"].to_numpy()
    )
    # Quality scores are normalised by each model's own mean pCVR.
    assert all(frame["quality"].median() == pytest.approx(1.0, abs=0.3) for frame in frames.values())
    assert world.advertisers["advertiser_id"].to_numpy()[hybrid["account"]] == pytest.approx(hybrid["advertiser_id"])
    with pytest.raises(ValueError, match="ad ids absent from the ads table"):
        auction_candidates(
            auction_world.ranked,
            auction_world.candidate_truth,
            world.ads.iloc[1:],
            world.advertisers,
            AuctionRules(),
            "oracle",
        )


def test_books_keep_each_requests_best_candidates_first(auction_world, auction_params):
    world = auction_world.world
    params = auction_params.model_copy(update={"candidates_per_request": 5})
    day, _ = replay_inputs(
        auction_world.ranked,
        auction_world.candidate_truth,
        auction_world.shifts,
        world.requests,
        world.ads,
        world.advertisers,
        params,
    )
    book = day.book("hybrid")
    assert book.ad_id.shape == (len(day.requests), 5)
    ranked = auction_world.ranked.query("model == 'hybrid' and rank < 5").set_index(["request_id", "rank"])["ad_id"]
    first = book.request_id[0]
    assert book.ad_id[0].tolist() == [ranked.loc[(first, r)] for r in range(5)]
    oracle = day.book("oracle")
    score = oracle.bid * oracle.pctr * oracle.quality
    assert np.all(np.diff(score, axis=1) <= 1e-12), "the oracle's book is in true eCPM order"


def test_replay_inputs_reject_unknown_models(auction_world, auction_params):
    world = auction_world.world
    bad = auction_params.model_copy(update={"models": ["lightgbm", "catboost"]})
    with pytest.raises(ValueError, match=r"auction_eval.models names \['catboost'\]"):
        replay_inputs(
            auction_world.ranked,
            auction_world.candidate_truth,
            auction_world.shifts,
            world.requests,
            world.ads,
            world.advertisers,
            bad,
        )
    day, models = replay_inputs(
        auction_world.ranked,
        auction_world.candidate_truth,
        auction_world.shifts,
        world.requests,
        world.ads,
        world.advertisers,
        auction_params,
    )
    assert models == ["hybrid", "lightgbm", "oracle"]
    assert day.requests["event_time"].is_monotonic_increasing and (day.requests["day"] == auction_world.day).all()
    assert day.accounts.budget == pytest.approx(
        world.advertisers["daily_budget"].to_numpy() * auction_params.pacing.budget_scale
    )
