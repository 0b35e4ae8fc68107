"""A summary of the simulated world: base rates and the ceilings no model can pass."""

from __future__ import annotations

from typing import Any, SupportsInt, cast

import pandas as pd
from sklearn.metrics import roc_auc_score


def _auc(labels: pd.Series, scores: pd.Series) -> float | None:
    return float(roc_auc_score(labels, scores)) if labels.nunique() == 2 else None


def summarise_world(
    impressions: pd.DataFrame, truth_impressions: pd.DataFrame, ads: pd.DataFrame, world: dict[str, Any]
) -> dict[str, Any]:
    """Base rates per day, the oracle AUC (true pCTR scored against drawn clicks) and an ad-only ceiling.

    The ad-only ceiling scores each impression with its ad's mean true pCTR that day: the best any
    model that knows only the ad could do, which shows how much signal lives beyond the ad id.
    """
    labelled = impressions.merge(truth_impressions, on="impression_id", validate="one_to_one")
    labelled["ad_mean_true_pctr"] = labelled.groupby(["day", "ad_id"])["true_pctr"].transform("mean")
    per_day = {
        int(cast(SupportsInt, day)): {
            "impressions": len(rows),
            "ctr": float(rows["click"].mean()),
            "conversions_per_click": float(rows["conversion"].sum() / max(int(rows["click"].sum()), 1)),
            "oracle_auc": _auc(rows["click"], rows["true_pctr"]),
            "ad_only_oracle_auc": _auc(rows["click"], rows["ad_mean_true_pctr"]),
        }
        for day, rows in labelled.groupby("day")
    }
    test_day = world["days"]["test_day"]
    cold = labelled["ad_id"].isin(world["cold_start_ad_ids"]) & (labelled["day"] == test_day)
    return {
        "impressions": len(labelled),
        "requests": int(labelled["request_id"].nunique()),
        "users_seen": int(labelled["user_id"].nunique()),
        "ads": len(ads),
        "ctr": float(labelled["click"].mean()),
        "conversions_per_click": float(labelled["conversion"].sum() / max(int(labelled["click"].sum()), 1)),
        "oracle_auc": _auc(labelled["click"], labelled["true_pctr"]),
        "test_day": test_day,
        "test_day_cold_start_impression_share": float(cold.sum() / max(int((labelled["day"] == test_day).sum()), 1)),
        "drift_start_day": world["drift"]["start_day"],
        "per_day": per_day,
    }
