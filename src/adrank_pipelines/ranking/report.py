"""The ranking report: per model, what its top slot holds and how often it agrees with the logged winner.

The logged winner is the ad the logging policy showed in the top slot (position 1). Agreement is no
quality measure (the logging policy is not the truth; auction_eval measures value against the
simulator's ground truth), but it shows how far each model moves away from what was shown, beside
two references: how often the winner was among the scored candidates at all (the ceiling), and how
often the retrieval order alone put it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.features.snapshot import StatisticsSnapshot

TOP_SLOT = 1


def logged_winners(logged: pd.DataFrame) -> pd.Series:
    """ad_id shown in the top slot, by request_id (logged impressions: request_id, ad_id, position)."""
    top = logged.loc[logged["position"] == TOP_SLOT, ["request_id", "ad_id"]]
    return top.drop_duplicates("request_id").set_index("request_id")["ad_id"]


def _share_matching(firsts: pd.DataFrame, winners: pd.Series) -> float:
    """Share of the requests with a logged winner whose first candidate is that winner."""
    with_winner = firsts.loc[firsts["request_id"].isin(winners.index)]
    if with_winner.empty:
        return float("nan")
    return float((with_winner["ad_id"].to_numpy() == winners.loc[with_winner["request_id"]].to_numpy()).mean())


def _model_summary(top: pd.DataFrame, winners: pd.Series, seconds: float) -> dict[str, float]:
    """Summary of one model's first-ranked candidates."""
    return {
        "requests": len(top),
        "top_slot_mean_pctr": float(top["pctr"].mean()),
        "top_slot_mean_pcvr": float(top["pcvr"].mean()),
        "top_slot_mean_score": float(top["score"].mean()),
        "top_equals_logged_winner": _share_matching(top, winners),
        "scoring_seconds": float(seconds),
    }


def ranking_report(
    ranked: pd.DataFrame,
    candidates: pd.DataFrame,
    logged: pd.DataFrame,
    seconds: Mapping[str, float],
    snapshots: Mapping[int, StatisticsSnapshot],
    reference_position: int,
) -> dict[str, Any]:
    """Per model the top-slot summary; the references; where the time went; the snapshots used.

    ``ranked`` holds the ranked candidates, or only their first-ranked rows (all the report reads).
    """
    winners = logged_winners(logged)
    ranked_requests = winners.index.intersection(pd.Index(candidates["request_id"].unique()))
    is_winner = candidates["ad_id"].to_numpy() == winners.reindex(candidates["request_id"]).to_numpy()
    retrieval_firsts = candidates.loc[candidates["retrieval_rank"] == candidates.groupby("request_id")[
        "retrieval_rank"].transform("min")]  # fmt: skip
    models = {
        str(model): _model_summary(top, winners, seconds.get(str(model), 0.0))
        for model, top in ranked.loc[ranked["rank"] == 0].groupby("model", sort=False)
    }
    total_seconds = float(sum(seconds.values()))
    return {
        "reference_position": reference_position,
        "requests": int(candidates["request_id"].nunique()),
        "candidates_per_request": float(len(candidates) / max(candidates["request_id"].nunique(), 1)),
        "models": models,
        "references": {
            "logged_winner_among_candidates": candidates.loc[is_winner, "request_id"].nunique() / len(ranked_requests)
            if len(ranked_requests)
            else float("nan"),
            "retrieval_first_equals_logged_winner": _share_matching(retrieval_firsts, winners),
        },
        "seconds": {**{name: float(value) for name, value in seconds.items()}, "total": total_seconds},
        "scored_pairs_per_second": float(len(candidates) * len(models) / total_seconds) if total_seconds else np.nan,
        "statistics_snapshots": {
            str(day): {"as_of": str(snapshot.as_of), "prior_ctr": snapshot.prior_ctr, "entries": snapshot.n_entries}
            for day, snapshot in snapshots.items()
        },
    }
