"""Thin adapters between the catalog and the auction package: unpack parameters, call, log the key figure."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.auction.config import AbTestParams, AuctionEvalParams
from adrank_pipelines.auction.experiment import readout, readout_metrics, run_arms, true_lift
from adrank_pipelines.auction.grid import run_grid
from adrank_pipelines.auction.plots import ab_lift_plot, comparison_bars, pacing_lines
from adrank_pipelines.auction.prepare import (
    check_ranked_candidates,
    day_requests,
    evaluation_day,
    pre_period_clicks,
    replay_inputs,
)
from adrank_pipelines.auction.report import comparison_report, mlflow_metrics
from adrank_pipelines.auction.truth import candidate_ground_truth, position_logit_shifts
from adrank_pipelines.marketplace import GroundTruth

logger = logging.getLogger(__name__)


def score_candidates_with_truth(
    ranked: pd.DataFrame,
    requests: pd.DataFrame,
    truth_users: pd.DataFrame,
    truth_ads: pd.DataFrame,
    truth_world: dict[str, Any],
    params: AuctionEvalParams,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """True top-slot pCTR and pCVR of every evaluation-day candidate, and the truth's position effect."""
    check_ranked_candidates(ranked)
    day = evaluation_day(ranked, requests, params.evaluation_day)
    todays = day_requests(requests, day)
    truth = GroundTruth(truth_users, truth_ads, truth_world)
    frame = candidate_ground_truth(ranked.loc[ranked["request_id"].isin(todays["request_id"])], todays, truth)
    shifts = position_logit_shifts(frame, todays, truth, int(todays["n_slots"].max()))
    logger.info(
        "ground truth for %d candidate pairs of day %d; mean true top-slot pCTR %.4f",
        len(frame),
        day,
        frame["true_pctr"].mean(),
    )
    return frame, {"evaluation_day": day, "position_logit_shift": shifts}


def replay_auction_grid(
    ranked: pd.DataFrame,
    candidate_truth: pd.DataFrame,
    position_effects: dict[str, Any],
    requests: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    params: AuctionEvalParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Outcomes per mechanism x model x reading (over draw seeds, and per seed), per advertiser, and
    pacing curves."""
    shifts = position_effects["position_logit_shift"]
    day, models = replay_inputs(ranked, candidate_truth, shifts, requests, ads, advertisers, params)
    result = run_grid(day, models, params)
    best = result.outcomes.query("reading == 'expected'").sort_values("social_welfare").iloc[-1]
    logger.info(
        "replayed %d requests x %d mechanisms x %d models x %d draw seeds; highest mean expected welfare "
        "%.1f (sd %.1f; %s, %s)",
        len(day.requests),
        len(params.mechanisms),
        len(models),
        params.draw_seeds,
        best["social_welfare"],
        best["social_welfare_std"],
        best["mechanism"],
        best["model"],
    )
    return result.outcomes, result.outcomes_by_seed, result.accounts, result.pacing


def report_auction_comparison(
    outcomes: pd.DataFrame, pacing: pd.DataFrame, position_effects: dict[str, Any], params: AuctionEvalParams
) -> tuple[dict[str, Any], dict[str, dict[str, float]], Figure, Figure]:
    context = {"evaluation_day": position_effects["evaluation_day"], "params": params.model_dump(mode="json")}
    report = comparison_report(outcomes, params.oracle_name, params.reference_mechanism, context)
    shares = report["share_of_oracle"][params.reference_mechanism]
    best = max((m for m in shares if m != params.oracle_name), key=lambda m: shares[m]["social_welfare"] or 0.0)
    logger.info(
        "under %s, the best model (%s) reaches %.1f%% of the oracle's expected welfare",
        params.reference_mechanism,
        best,
        100 * (shares[best]["social_welfare"] or 0.0),
    )
    return (
        report,
        mlflow_metrics(outcomes),
        comparison_bars(outcomes, params.oracle_name),
        pacing_lines(pacing, params.reference_mechanism),
    )


def run_ab_test(
    ranked: pd.DataFrame,
    candidate_truth: pd.DataFrame,
    position_effects: dict[str, Any],
    requests: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    impressions: pd.DataFrame,
    auction: AuctionEvalParams,
    ab: AbTestParams,
) -> tuple[dict[str, Any], dict[str, dict[str, float]], Figure]:
    """Users split between two ranking models on the evaluation day; lift beside the true lift."""
    if ab.mechanism not in auction.mechanisms:
        raise ValueError(
            f"ab_test.mechanism {ab.mechanism!r} is not one of auction_eval.mechanisms {list(auction.mechanisms)}"
        )
    shifts = position_effects["position_logit_shift"]
    day, models = replay_inputs(ranked, candidate_truth, shifts, requests, ads, advertisers, auction)
    absent = {ab.control_model, ab.treatment_model} - set(models)
    if absent:
        raise ValueError(f"ab_test models {sorted(absent)} are not among the replayed models {models}")
    totals = run_arms(day, auction, ab, ab.seed)
    covariate = pre_period_clicks(impressions, position_effects["evaluation_day"], totals.user_id) if ab.cuped else None
    result = readout(totals, true_lift(day, auction, ab), ab, covariate)
    clicks = result["metrics"]["clicks_per_user"]
    if clicks["lift"] is None:
        logger.info("A/B %s vs %s: click lift undefined: %s", ab.treatment_model, ab.control_model, clicks["undefined"])
    else:
        logger.info(
            "A/B %s vs %s: click lift %+.2f%% [%+.2f%%, %+.2f%%], p=%.3f; true lift %s",
            ab.treatment_model,
            ab.control_model,
            100 * clicks["lift"],
            100 * clicks["ci_low"],
            100 * clicks["ci_high"],
            clicks["p_value"],
            "undefined" if clicks["true_lift"] is None else f"{100 * clicks['true_lift']:+.2f}%",
        )
    return result, readout_metrics(result), ab_lift_plot(result)
