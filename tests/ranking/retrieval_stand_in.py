"""A stand-in for the indexing pipeline's ``retrieved_candidates``: random eligible ads per request.

Each request's candidates are its logged ads (so the logged winner can be found again) plus random
ads already launched on the request's day, ordered by a random retrieval score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def retrieved_stand_in(
    requests: pd.DataFrame, impressions: pd.DataFrame, ads: pd.DataFrame, top_k: int, seed: int = 0
) -> pd.DataFrame:
    """request_id int64, ad_id int64, retrieval_rank int32 (0 best), retrieval_score float32."""
    rng = np.random.default_rng(seed)
    logged = impressions.loc[impressions["request_id"].isin(requests["request_id"]), ["request_id", "ad_id"]]
    draws = []
    for day, day_requests in requests.groupby("day"):
        eligible = ads.loc[ads["first_day"] <= day, "ad_id"].to_numpy()
        picks = rng.choice(eligible, size=(len(day_requests), min(top_k, len(eligible))), replace=True)
        draws.append(
            pd.DataFrame(
                {"request_id": np.repeat(day_requests["request_id"].to_numpy(), picks.shape[1]), "ad_id": picks.ravel()}
            )
        )
    pairs = pd.concat([logged, *draws]).drop_duplicates(["request_id", "ad_id"], ignore_index=True)
    pairs["retrieval_score"] = rng.random(len(pairs)).astype(np.float32)
    # Logged ads first, so the logged winner is always retrieved.
    pairs.loc[: len(logged) - 1, "retrieval_score"] += 1.0
    pairs = pairs.sort_values(["request_id", "retrieval_score"], ascending=[True, False], ignore_index=True)
    pairs["retrieval_rank"] = pairs.groupby("request_id").cumcount().astype(np.int32)
    pairs = pairs.loc[pairs["retrieval_rank"] < top_k].reset_index(drop=True)
    return pairs[["request_id", "ad_id", "retrieval_rank", "retrieval_score"]].astype(
        {"request_id": np.int64, "ad_id": np.int64}
    )
