"""Rank the candidates of every request: per batch of requests, build the candidates' features, score
them with each model, combine the scores into the objective and order each request's candidates.

Batches keep memory flat (a batch of 1,000 requests x 100 candidates is ~25 MB of features) and
each batch's arrays are large enough for LightGBM and torch to run at full speed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.features.candidates import CandidateSides, FeatureRecipe, candidate_features
from adrank_pipelines.features.snapshot import SnapshotLookup
from adrank_pipelines.ranking.candidates import request_batches
from adrank_pipelines.ranking.objective import group_starts, objective_scores, rank_within_groups
from adrank_pipelines.ranking.params import ObjectiveParams
from adrank_pipelines.ranking.scoring import CandidateScorer

RANKED_COLUMNS = ["request_id", "ad_id", "model", "pctr", "pcvr", "score", "rank"]
_DTYPES = {
    "request_id": np.int64, "ad_id": np.int64, "pctr": np.float64, "pcvr": np.float64, "score": np.float64,
    "rank": np.int32,
}  # fmt: skip


@dataclass(frozen=True)
class RankingOutcome:
    ranked: pd.DataFrame  # RANKED_COLUMNS, sorted by model, request, rank
    seconds: dict[str, float]  # features, each model's scoring, objective and ordering
    n_requests: int
    n_pairs: int  # (request, candidate) pairs, each scored by every model


def _ordered(columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One model's rows of a batch, each request's candidates from best to worst."""
    order = np.lexsort((columns["rank"], columns["request_id"]))
    return pd.DataFrame({name: columns[name][order].astype(dtype) for name, dtype in _DTYPES.items()})


def _stacked(pieces: Mapping[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """The models' rows one model after the other, with the ``model`` column."""
    no_rows = _ordered({name: np.zeros(0) for name in _DTYPES})
    blocks = [pd.concat(frames or [no_rows], ignore_index=True) for frames in pieces.values()]
    ranked = pd.concat(blocks, ignore_index=True)
    codes = np.repeat(np.arange(len(blocks), dtype=np.int8), [len(block) for block in blocks])
    ranked["model"] = pd.Categorical.from_codes(codes, categories=list(pieces)).astype(str)
    return ranked[RANKED_COLUMNS]


def rank_candidates(
    candidates: pd.DataFrame,
    sides: CandidateSides,
    snapshots: Mapping[int, SnapshotLookup],
    recipe: FeatureRecipe,
    scorer: CandidateScorer,
    objective: ObjectiveParams,
    requests_per_batch: int,
) -> RankingOutcome:
    """Every model's ranking of ``candidates`` (request_id, ad_id, retrieval_rank; sorted by request).

    ``snapshots`` maps each request day to its statistics snapshot; ties of the objective go to the
    better retrieval rank.
    """
    request_ids = candidates["request_id"].to_numpy(dtype=np.int64)
    ad_ids = candidates["ad_id"].to_numpy(dtype=np.int64)
    retrieval_rank = candidates["retrieval_rank"].to_numpy()
    request_rows, ad_rows = sides.rows(request_ids, ad_ids)
    days = sides.requests["day"].to_numpy()[request_rows]
    bids = sides.ads["bid"].to_numpy(dtype=np.float64)[ad_rows]

    seconds = dict.fromkeys(["features", *scorer.models, "objective"], 0.0)
    pieces: dict[str, list[pd.DataFrame]] = {model: [] for model in scorer.models}
    for day, rows in request_batches(request_ids, days, requests_per_batch):
        started = time.perf_counter()
        features = candidate_features(sides, request_rows[rows], ad_rows[rows], recipe, snapshots[day])
        seconds["features"] += time.perf_counter() - started
        scores = scorer.score(features)
        for name, spent in scores.seconds.items():
            seconds[name] = seconds.get(name, 0.0) + spent

        started = time.perf_counter()
        starts = group_starts(request_ids[rows])
        for model in scorer.models:
            score = objective_scores(scores.pctr[model], scores.pcvr, bids[rows], starts, objective)
            rank = rank_within_groups(score, retrieval_rank[rows], starts)
            pieces[model].append(
                _ordered(
                    {
                        "request_id": request_ids[rows], "ad_id": ad_ids[rows], "pctr": scores.pctr[model],
                        "pcvr": scores.pcvr, "score": score, "rank": rank,
                    }
                )  # fmt: skip
            )
        seconds["objective"] += time.perf_counter() - started

    return RankingOutcome(
        ranked=_stacked(pieces),
        seconds=seconds,
        n_requests=len(group_starts(request_ids)),
        n_pairs=len(candidates),
    )
