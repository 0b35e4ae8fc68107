"""The replay grid over click-draw seeds: per-seed rows, their mean and spread, and the report on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.auction.book import Accounts
from adrank_pipelines.auction.config import AuctionEvalParams
from adrank_pipelines.auction.grid import draw_seeds, replay, run_grid
from adrank_pipelines.auction.outcomes import (
    EXPECTED,
    HEADLINE_METRICS,
    account_outcomes,
    across_draws,
    outcome_metrics,
)
from adrank_pipelines.auction.report import comparison_report, mlflow_metrics
from adrank_pipelines.schemas.handover import enforce_handover_contract
from tests.auction.books import frame_day

MODELS = ["noisy", "exact"]
SEEDS = 3


def _params(**update: object) -> AuctionEvalParams:
    return AuctionEvalParams.model_validate(
        {
            "mechanisms": {"gsp": {"kind": "gsp"}, "second_price": {"kind": "second_price"}},
            "pacing": {"step_minutes": 60},
            "seed": 7,
            "draw_seeds": SEEDS,
            **update,
        }
    )


def _day():
    """80 requests through a day, 5 candidates each from 4 advertisers whose budgets bind: which ads
    serve late in the day depends on the clicks drawn earlier."""
    rng = np.random.default_rng(0)
    n, k = 80, 5
    requests = pd.DataFrame(
        {
            "request_id": np.arange(1, n + 1),
            "user_id": rng.integers(1, 20, n),
            "event_time": pd.Timestamp("2026-01-10") + pd.to_timedelta(np.sort(rng.uniform(0, 24, n)), unit="h"),
            "n_slots": rng.integers(1, 4, n),
        }
    )
    true_pctr = rng.uniform(0.1, 0.5, n * k)
    base = pd.DataFrame(
        {
            "request_id": np.repeat(requests["request_id"], k),
            "ad_id": np.arange(1, n * k + 1),
            "account": rng.integers(0, 4, n * k),
            "bid": rng.uniform(0.2, 2.0, n * k),
            "pcvr": 0.2,
            "quality": 1.0,
            "true_pctr": true_pctr,
            "true_pcvr": rng.uniform(0.05, 0.3, n * k),
        }
    )
    candidates = {
        "noisy": base.assign(pctr=np.clip(true_pctr * rng.lognormal(0, 0.8, n * k), 0.01, 0.99)),
        "exact": base.assign(pctr=true_pctr),
    }
    candidates = {model: frame.assign(order=-frame["pctr"] * frame["bid"]) for model, frame in candidates.items()}
    accounts = Accounts(
        advertiser_id=np.arange(1, 5), budget=np.full(4, 3.0), value_per_conversion=rng.uniform(10, 40, 4)
    )
    return frame_day(candidates, requests, accounts)


def _by_hand(day, params: AuctionEvalParams) -> pd.DataFrame:
    """The grid's per-seed rows, from replays and metrics called one by one."""
    rows = []
    for model in MODELS:
        book = day.book(model)
        for name, mechanism in params.mechanisms.items():
            for seed in range(params.seed, params.seed + params.draw_seeds):
                log = replay(day, book, mechanism, params, seed)
                for reading, metrics in outcome_metrics(log, book, day.target, 0.9).items():
                    rows.append({"mechanism": name, "model": model, "reading": reading, "draw_seed": seed, **metrics})
    return pd.DataFrame(rows)


def test_draw_seeds_start_at_the_single_draw_seed():
    assert draw_seeds(7, 3) == [7, 8, 9] and draw_seeds(0, 1) == [0]


def test_the_grid_reports_the_mean_and_sample_sd_over_draw_seeds_of_both_readings():
    day, params = _day(), _params()
    result = run_grid(day, MODELS, params)
    hand = _by_hand(day, params)
    pd.testing.assert_frame_equal(result.outcomes_by_seed, hand)
    outcomes = result.outcomes.set_index(["mechanism", "model", "reading"])
    assert len(outcomes) == 2 * 2 * 2 and (outcomes["draw_seeds"] == SEEDS).all()
    for key, rows in hand.groupby(["mechanism", "model", "reading"]):
        for metric in HEADLINE_METRICS:
            assert outcomes.at[key, metric] == pytest.approx(rows[metric].mean())
            assert outcomes.at[key, f"{metric}_std"] == pytest.approx(rows[metric].std(ddof=1))
        assert outcomes.at[key, "impressions"] == pytest.approx(rows["impressions"].mean())
    # Budgets bind, so the draws change what serves: even the expected reading has a spread.
    assert (outcomes.xs(EXPECTED, level="reading")["social_welfare_std"] > 0).all()
    assert (outcomes.xs(EXPECTED, level="reading")["revenue_std"] > 0).all()


def test_one_draw_seed_reproduces_the_single_replay_and_leaves_the_sd_missing():
    day, params = _day(), _params(draw_seeds=1)
    result = run_grid(day, MODELS, params)
    book = day.book("exact")
    log = replay(day, book, params.mechanisms["gsp"], params)
    single = outcome_metrics(log, book, day.target, params.pacing_error_min_utilisation)
    outcomes = result.outcomes.set_index(["mechanism", "model", "reading"])
    for reading, metrics in single.items():
        row = outcomes.loc[("gsp", "exact", reading)]
        assert row["revenue"] == metrics["revenue"] and row["social_welfare"] == metrics["social_welfare"]
        assert row[[f"{m}_std" for m in HEADLINE_METRICS]].isna().all() and row["draw_seeds"] == 1
    accounts = result.accounts.query("mechanism == 'gsp' and model == 'exact'").drop(columns=["mechanism", "model"])
    pd.testing.assert_frame_equal(accounts.reset_index(drop=True), account_outcomes(log, book))


def test_account_and_pacing_tables_describe_the_first_draw_seed():
    day, params = _day(), _params()
    result = run_grid(day, MODELS, params)
    first = run_grid(day, MODELS, _params(draw_seeds=1))
    pd.testing.assert_frame_equal(result.accounts, first.accounts)
    pd.testing.assert_frame_equal(result.pacing, first.pacing)


def test_the_grid_tables_meet_their_contracts():
    result = run_grid(_day(), MODELS, _params())
    for name, frame in (("auction_outcomes", result.outcomes), ("auction_outcomes_by_seed", result.outcomes_by_seed)):
        enforce_handover_contract(name, frame, name, "before it is saved", max_examples=3)
    single = run_grid(_day(), MODELS, _params(draw_seeds=1)).outcomes
    enforce_handover_contract("auction_outcomes", single, "auction_outcomes", "before it is saved", max_examples=3)


def test_a_metric_undefined_in_some_draws_is_averaged_over_the_others():
    by_seed = pd.DataFrame(
        {
            "mechanism": "gsp",
            "model": "m",
            "reading": "realised",
            "draw_seed": [0, 1, 2],
            **{metric: [1.0, 2.0, 6.0] for metric in HEADLINE_METRICS},
            "pacing_error": [np.nan, 0.2, 0.4],
        }
    )
    row = across_draws(by_seed).iloc[0]
    assert row["revenue"] == 3.0 and row["revenue_std"] == pytest.approx(np.std([1.0, 2.0, 6.0], ddof=1))
    assert row["pacing_error"] == pytest.approx(0.3) and row["draw_seeds"] == 3
    assert "draw_seed" not in row


def test_the_report_and_mlflow_carry_the_spread_where_it_is_defined():
    day = _day()
    outcomes = run_grid(day, MODELS, _params()).outcomes
    report = comparison_report(outcomes, "exact", "gsp", {})
    assert report["draw_seeds"] == SEEDS
    gsp = report["results"]["gsp"]["noisy"][EXPECTED]
    row = outcomes.query("mechanism == 'gsp' and model == 'noisy' and reading == 'expected'").iloc[0]
    assert gsp["social_welfare"] == pytest.approx(row["social_welfare"])
    assert gsp["social_welfare_std"] == pytest.approx(row["social_welfare_std"])
    assert "draw_seeds" not in gsp
    metrics = mlflow_metrics(outcomes)
    assert metrics["gsp.noisy.revenue_std"]["value"] == pytest.approx(row["revenue_std"])
    single = run_grid(day, MODELS, _params(draw_seeds=1)).outcomes
    assert not any(name.endswith("_std") for name in mlflow_metrics(single)), "no spread from one draw"
    assert comparison_report(single, "exact", "gsp", {})["results"]["gsp"]["noisy"][EXPECTED]["revenue_std"] is None
