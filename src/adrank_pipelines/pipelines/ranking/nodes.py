"""Thin adapters between the catalog and the ranking / features domain code: unpack, call, log one line."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import torch

from adrank_pipelines.features.candidates import CandidateSides, candidate_sides
from adrank_pipelines.features.recipe import FeatureRecipeArtifact
from adrank_pipelines.features.snapshot import SnapshotLookup, StatisticsSnapshot
from adrank_pipelines.lifecycle.release import ModelRelease
from adrank_pipelines.models.zoo.interface import SideTables
from adrank_pipelines.ranking.candidates import cap_per_request, check_retrieved
from adrank_pipelines.ranking.params import CandidateParams, ObjectiveParams, ScoringParams
from adrank_pipelines.ranking.rank import rank_candidates
from adrank_pipelines.ranking.report import ranking_report
from adrank_pipelines.ranking.scoring import CandidateScorer

logger = logging.getLogger(__name__)


def select_candidates(retrieved_candidates: pd.DataFrame, candidates: CandidateParams) -> pd.DataFrame:
    check_retrieved(retrieved_candidates)
    selected = cap_per_request(retrieved_candidates, candidates.max_per_request)
    logger.info(
        "ranking %d of %d retrieved candidates: %d requests, at most %s each",
        len(selected), len(retrieved_candidates), selected["request_id"].nunique(),
        candidates.max_per_request or "all",
    )  # fmt: skip
    return selected


def build_candidate_sides(
    requests: pd.DataFrame,
    users: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    ad_features: pd.DataFrame,
    behaviour_sequences: pd.DataFrame,
    ranking_candidates: pd.DataFrame,
    candidates: CandidateParams,
) -> CandidateSides:
    sides = candidate_sides(
        ranking_candidates["request_id"].unique(), requests, users, ads, advertisers, ad_features,
        behaviour_sequences, candidates.reference_position,
    )  # fmt: skip
    logger.info(
        "candidate sides: %d requests, %d ads, every candidate scored in slot %d",
        len(sides.requests), len(sides.ads), candidates.reference_position,
    )  # fmt: skip
    return sides


RELEASE_KEY, TEXT_KEY = "__registered_model", "__ad_text_embeddings"


def _by_model(artifacts: dict[str, Any], suffix: str) -> dict[str, Any]:
    return {key.removesuffix(suffix): value for key, value in artifacts.items() if key.endswith(suffix)}


def build_candidate_scorer(
    behaviour_sequences: pd.DataFrame, ad_features: pd.DataFrame, scoring: ScoringParams, **artifacts: Any
) -> CandidateScorer:
    """``artifacts``: ``<model>__registered_model`` (the registry's champion) and ``<model>__ad_text_embeddings``."""
    releases: dict[str, ModelRelease] = _by_model(artifacts, RELEASE_KEY)
    trained = {name: release.trained for name, release in releases.items()}
    calibrators = {name: releases[name].calibrator for name in scoring.models}
    logger.info("registry versions: %s", ", ".join(f"{name} v{release.version}" for name, release in releases.items()))
    scorer = CandidateScorer(
        scoring.models, scoring.pcvr_model, trained, calibrators,
        SideTables(sequences=behaviour_sequences, ad_features=ad_features), _by_model(artifacts, TEXT_KEY),
    )  # fmt: skip
    logger.info(
        "scoring pCTR with %s (calibrated as ctr_training saved), pCVR with %s; per batch %s",
        ", ".join(scoring.models), scoring.pcvr_model, " -> ".join(scorer.scored_models),
    )  # fmt: skip
    return scorer


def rank(
    ranking_candidates: pd.DataFrame,
    candidate_sides: CandidateSides,
    statistics_snapshots: dict[int, StatisticsSnapshot],
    feature_recipe: dict[str, Any],
    candidate_scorer: CandidateScorer,
    candidates: CandidateParams,
    objective: ObjectiveParams,
    scoring: ScoringParams,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    torch.set_num_threads(scoring.num_threads)
    lookups = {
        day: SnapshotLookup(snapshot, candidate_sides.requests.columns, candidate_sides.ads).for_requests(
            candidate_sides.requests
        )
        for day, snapshot in statistics_snapshots.items()
    }
    recipe = FeatureRecipeArtifact.model_validate(feature_recipe).candidate_recipe()
    outcome = rank_candidates(
        ranking_candidates, candidate_sides, lookups, recipe, candidate_scorer, objective,
        candidates.requests_per_batch, candidates.keep_per_request,
    )  # fmt: skip
    logger.info(
        "ranked %d candidates of %d requests with %d model(s) in %.1f s (%s); %d rows written",
        outcome.n_pairs, outcome.n_requests, len(scoring.models), sum(outcome.seconds.values()),
        ", ".join(f"{name} {seconds:.1f} s" for name, seconds in outcome.seconds.items()), len(outcome.ranked),
    )  # fmt: skip
    # The report needs only the first-ranked rows: handed over here, the 67M-row table is not read back.
    first_ranked = outcome.ranked.loc[outcome.ranked["rank"] == 0].reset_index(drop=True)
    return outcome.ranked, first_ranked, {"seconds": outcome.seconds}


def report_ranking(
    first_ranked_candidates: pd.DataFrame,
    ranking_candidates: pd.DataFrame,
    model_input_test: pd.DataFrame,
    ranking_timings: dict[str, Any],
    statistics_snapshots: dict[int, StatisticsSnapshot],
    candidates: CandidateParams,
) -> tuple[dict[str, Any], dict[str, list[dict[str, float]]]]:
    report = ranking_report(
        first_ranked_candidates, ranking_candidates, model_input_test, ranking_timings["seconds"],
        statistics_snapshots, candidates.reference_position,
    )  # fmt: skip
    logger.info(
        "top slot equals the logged winner: %s (winner among the candidates: %.3f)",
        ", ".join(f"{m} {s['top_equals_logged_winner']:.3f}" for m, s in report["models"].items()),
        report["references"]["logged_winner_among_candidates"],
    )  # fmt: skip
    metrics = {
        f"ranking_{model}_{name}": [{"value": float(summary[name]), "step": 0}]
        for model, summary in report["models"].items()
        for name in ("top_slot_mean_pctr", "top_equals_logged_winner", "scoring_seconds")
    }
    return report, metrics
