"""The oracle's best ad per request: the eligible ad with the highest true eCPM (bid x true pCTR).

Scored in the request's own context (user, day, hour, placement, platform) at the top position, with
the simulator's ground truth. Position shifts every ad's click logit equally, so the best ad is the
same in any slot. Ground truth: evaluation only, never an input of training or of retrieval itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from adrank_pipelines.marketplace import Context, GroundTruth
from adrank_pipelines.retrieval.config import TargetingRule
from adrank_pipelines.retrieval.eligibility import eligibility_groups

ORACLE_COLUMNS = ["request_id", "oracle_ad_id", "oracle_ecpm"]
PAIRS_PER_CALL = 500_000  # (request, ad) pairs scored at once: bounds memory on large catalogs


def _best_ads(
    truth: GroundTruth, contexts: pd.DataFrame, ad_ids: np.ndarray, bids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n_requests, n_ads = len(contexts), len(ad_ids)
    context = Context(
        position=np.ones(n_requests * n_ads, dtype=np.int64),
        **{name: np.repeat(contexts[name].to_numpy(), n_ads) for name in ("hour", "day", "placement", "platform")},
    )
    users = np.repeat(contexts["user_id"].to_numpy(), n_ads)
    pctr = truth.click_probability(users, np.tile(ad_ids, n_requests), context).reshape(n_requests, n_ads)
    ecpm = pctr * bids[None, :]
    best = ecpm.argmax(axis=1)
    return ad_ids[best], ecpm[np.arange(n_requests), best]


def oracle_best_ads(
    truth: GroundTruth, contexts: pd.DataFrame, ad_table: pd.DataFrame, rules: Sequence[TargetingRule]
) -> pd.DataFrame:
    """``request_id``, ``oracle_ad_id``, ``oracle_ecpm`` (bid x true pCTR) for each request of ``contexts``."""
    bid_of = pd.Series(ad_table["bid"].to_numpy(dtype=np.float64), index=ad_table["ad_id"].to_numpy())
    frames = []
    for group in eligibility_groups(contexts, ad_table, rules):
        if len(group.ad_ids) == 0:
            continue
        bids = bid_of.loc[group.ad_ids].to_numpy()
        step = max(1, PAIRS_PER_CALL // len(group.ad_ids))
        for start in range(0, len(group.request_positions), step):
            chunk = contexts.iloc[group.request_positions[start : start + step]]
            best, ecpm = _best_ads(truth, chunk, group.ad_ids, bids)
            frames.append(
                pd.DataFrame({"request_id": chunk["request_id"].to_numpy(), "oracle_ad_id": best, "oracle_ecpm": ecpm})
            )
    oracle = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ORACLE_COLUMNS)
    return oracle.sort_values("request_id", ignore_index=True)
