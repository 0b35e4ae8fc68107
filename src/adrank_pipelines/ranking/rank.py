"""Rank the candidates of every request: per batch of requests, build the candidates' features, score
them with each model, combine the scores into the objective and order each request's candidates.

Batches keep the features small (1,000 requests x 500 candidates is ~130 MB) while their arrays
stay large enough for LightGBM and torch to run at full speed. The output, one row per pair and
model (67M rows on the default day), is written into columns allocated once: no per-batch frames
to concatenate, whose copies tripled the peak memory.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.features.candidates import CandidateSides, FeatureRecipe, candidate_features
from adrank_pipelines.features.snapshot import PairStatistics
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
    ranked: pd.DataFrame  # RANKED_COLUMNS, sorted by model, request (candidate order), rank
    seconds: dict[str, float]  # features, each model's scoring, objective and ordering
    n_requests: int
    n_pairs: int  # (request, candidate) pairs, each scored by every model


class _RankedColumns:
    """The output columns, model after model; in each model's block the requests in candidate order,
    each request's candidates from best to worst, the first ``keep_per_request`` of them (0: all)."""

    def __init__(self, models: list[str], request_ids: np.ndarray, keep_per_request: int) -> None:
        self.models, self.keep = models, keep_per_request
        self.request_starts = group_starts(request_ids)
        sizes = np.diff(np.append(self.request_starts, len(request_ids)))
        kept = np.minimum(sizes, keep_per_request) if keep_per_request else sizes
        self.first_output_row = np.concatenate([[0], np.cumsum(kept)])  # per request, in a model's block
        self.rows_per_model = int(self.first_output_row[-1])
        self.columns = {name: np.empty(len(models) * self.rows_per_model, dtype) for name, dtype in _DTYPES.items()}

    def write(self, model: str, rows: slice, values: Mapping[str, np.ndarray]) -> None:
        """One model's rows of a batch of whole requests (candidate rows ``rows``)."""
        order = np.lexsort((values["rank"], values["request_id"]))
        kept = order[values["rank"][order] < self.keep] if self.keep else order
        first, last = np.searchsorted(self.request_starts, [rows.start, rows.stop])
        offset = self.models.index(model) * self.rows_per_model
        output = slice(offset + self.first_output_row[first], offset + self.first_output_row[last])
        for name, column in self.columns.items():
            column[output] = values[name][kept]

    def frame(self) -> pd.DataFrame:
        codes = np.repeat(np.arange(len(self.models), dtype=np.int8), self.rows_per_model)
        # Taking from a 3-value string array costs ~16 bytes a row; Categorical.astype(str) cost ~100.
        columns = self.columns | {"model": pd.array(self.models, dtype="str").take(codes)}
        return pd.DataFrame({name: columns[name] for name in RANKED_COLUMNS}, copy=False)


def rank_candidates(
    candidates: pd.DataFrame,
    sides: CandidateSides,
    snapshots: Mapping[int, PairStatistics],
    recipe: FeatureRecipe,
    scorer: CandidateScorer,
    objective: ObjectiveParams,
    requests_per_batch: int,
    keep_per_request: int = 0,
) -> RankingOutcome:
    """Every model's ranking of ``candidates`` (request_id, ad_id, retrieval_rank; sorted by request).

    ``snapshots`` maps each request day to its statistics snapshot; ties of the objective go to the
    better retrieval rank. Every candidate is scored; only each request's best ``keep_per_request``
    are written (0: all).
    """
    request_ids = candidates["request_id"].to_numpy(dtype=np.int64)
    ad_ids = candidates["ad_id"].to_numpy(dtype=np.int64)
    retrieval_rank = candidates["retrieval_rank"].to_numpy()
    request_rows, ad_rows = sides.rows(request_ids, ad_ids)
    days = sides.requests["day"].to_numpy()[request_rows]
    bids = sides.ads["bid"].to_numpy(dtype=np.float64)[ad_rows]

    seconds = dict.fromkeys(["features", *scorer.models, "objective"], 0.0)
    ranked = _RankedColumns(list(scorer.models), request_ids, keep_per_request)
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
            ranked.write(
                model, rows,
                {
                    "request_id": request_ids[rows], "ad_id": ad_ids[rows], "pctr": scores.pctr[model],
                    "pcvr": scores.pcvr, "score": score, "rank": rank,
                },
            )  # fmt: skip
        seconds["objective"] += time.perf_counter() - started

    return RankingOutcome(
        ranked=ranked.frame(),
        seconds=seconds,
        n_requests=len(group_starts(request_ids)),
        n_pairs=len(candidates),
    )
