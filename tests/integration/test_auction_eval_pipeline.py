"""auction_eval on the test environment: the grid, its reports, the A/B readout and MLflow.

Ranked candidates come from the ranking pipeline; this test stands them in with noisy oracles of
known quality (``auction.synthetic``) so that it exercises auction_eval alone, in seconds, without
training the upstream models.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from adrank_pipelines.auction.synthetic import noisy_oracle_candidates
from adrank_pipelines.marketplace import GroundTruth, MarketplaceTables
from tests.conftest import project_parameters

pytestmark = pytest.mark.integration


def _write_inputs(project: Path, world: MarketplaceTables) -> None:
    """The test world's validated tables and ground truth, and stand-in ranked candidates, saved
    through the project's own catalog entries (ingest and validate have integration tests of their own)."""
    truth = GroundTruth(world.truth_users, world.truth_ads, world.truth_world)
    ranked = noisy_oracle_candidates(
        world.requests,
        world.ads,
        truth,
        world.truth_world["days"]["test_day"],
        per_request=10,
        model_noise={"lightgbm": 1.0, "hybrid": 0.4},
        seed=0,
    )
    inputs = {
        "validated_requests": world.requests,
        "validated_ads": world.ads,
        "validated_advertisers": world.advertisers,
        "validated_impressions": world.impressions,
        "truth_users": world.truth_users,
        "truth_ads": world.truth_ads,
        "truth_world": world.truth_world,
        "ranked_candidates": ranked,
    }
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test") as session:
        catalog = session.load_context().catalog
        for name, data in inputs.items():
            catalog.save(name, data)


def test_auction_eval_replays_every_mechanism_and_model_and_reads_out_the_ab_test(
    project_copy: Path, test_world: MarketplaceTables
):
    _write_inputs(project_copy, test_world)
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_name="auction_eval")

    reporting = project_copy / "data" / "08_reporting"
    outcomes = pd.read_csv(reporting / "auction_outcomes.csv")
    mechanisms = {"second_price", "gsp", "vcg", "first_price", "first_price_learned"}
    assert set(outcomes["mechanism"]) == mechanisms
    assert set(outcomes["model"]) == {"lightgbm", "hybrid", "oracle"}
    assert len(outcomes) == len(mechanisms) * 3 * 2
    expected = outcomes.loc[outcomes["reading"] == "expected"].set_index(["mechanism", "model"])
    assert (expected["revenue"] > 0).all() and (expected["social_welfare"] > expected["revenue"]).all()
    assert (expected["fill_rate"] <= 1).all()
    # One slot sold per request against up to four.
    assert (expected.loc["second_price", "impressions"] < expected.loc["gsp", "impressions"]).all()
    # Every cell is replayed once per click-draw seed; the outcomes are their mean and sd.
    params = project_parameters("test")
    seeds = params["auction_eval"]["draw_seeds"]
    by_seed = pd.read_csv(reporting / "auction_outcomes_by_seed.csv")
    assert seeds > 1 and len(by_seed) == len(outcomes) * seeds and (outcomes["draw_seeds"] == seeds).all()
    welfare = by_seed.groupby(["mechanism", "model", "reading"])["social_welfare"]
    summary = outcomes.set_index(["mechanism", "model", "reading"])
    pd.testing.assert_series_equal(
        summary["social_welfare"].sort_index(), welfare.mean().sort_index(), check_names=False
    )
    pd.testing.assert_series_equal(
        summary["social_welfare_std"].sort_index(), welfare.std().sort_index(), check_names=False
    )

    advertisers = pd.read_parquet(reporting / "auction_advertiser_outcomes.parquet")
    bids = test_world.ads.groupby("advertiser_id")["bid"].max()
    over = advertisers["spend"] - advertisers["budget"]
    assert (over <= bids.loc[advertisers["advertiser_id"]].to_numpy() + 1e-9).all(), "over budget by more than a click"

    report = json.loads((reporting / "auction_comparison.json").read_text())
    assert report["results"]["gsp"]["hybrid"]["expected"]["revenue"] == pytest.approx(
        expected.loc[("gsp", "hybrid"), "revenue"]
    )
    assert report["share_of_oracle"]["gsp"]["oracle"]["revenue"] == pytest.approx(1.0)
    assert report["relative_to_reference_mechanism"]["reference"] == "gsp"

    readout = json.loads((reporting / "ab_readout.json").read_text())
    clicks = readout["metrics"]["clicks_per_user"]
    assert clicks["ci_low"] <= clicks["lift"] <= clicks["ci_high"] and 0 <= clicks["p_value"] <= 1
    assert "true_lift" in clicks and "cuped" in clicks
    # The truth is the lift of totals summed over draw seeds: a weighted mean of the single-draw lifts.
    spread = clicks["true_lift_spread"]
    assert spread["draw_seeds"] == params["ab_test"]["truth_draw_seeds"] and spread["std"] > 0
    assert spread["min"] <= clicks["true_lift"] <= spread["max"]
    for plot in ("auction_comparison_plot", "auction_pacing_plot", "ab_lift_plot"):
        assert (reporting / f"{plot}.png").stat().st_size > 0

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    metrics = {key: value for run in runs for key, value in run.data.metrics.items()}
    assert metrics["auction_metrics.gsp.hybrid.revenue"] == pytest.approx(expected.loc[("gsp", "hybrid"), "revenue"])
    assert metrics["ab_metrics.clicks_per_user.lift"] == pytest.approx(clicks["lift"])


def test_every_auction_eval_node_that_reads_ground_truth_is_tagged(project_copy: Path):
    bootstrap_project(project_copy)
    truth_inputs = {"truth_users", "truth_ads", "truth_world", "candidate_truth"}
    for node in pipelines["auction_eval"].nodes:
        if truth_inputs & set(node.inputs):
            assert "uses_ground_truth" in node.tags, node.name
