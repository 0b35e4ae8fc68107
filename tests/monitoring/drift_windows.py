"""Synthetic windows with known shifts, shared by the monitoring and drift-pipeline tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.monitoring.feature_drift import MonitoredFeature

OOV = 1
PLATFORM_SHARES = {2: 0.4, 3: 0.45, 4: 0.15}
CATEGORIES = np.arange(2, 12)

FEATURES = [
    MonitoredFeature("platform_idx", "categorical", ("platform",), frozenset({OOV})),
    MonitoredFeature("category_idx", "categorical", ("category",), frozenset({OOV})),
    MonitoredFeature("log_bid", "numeric", ("log_bid",)),
    MonitoredFeature("age_hours", "numeric", ("age_hours",), alerting=False),
]


def window(
    rng: np.random.Generator,
    n: int,
    platform_shares: dict[int, float] = PLATFORM_SHARES,
    new_category_share: float = 0.0,
    bid_shift: float = 0.0,
    ctr: float = 0.04,
    score_noise: float = 0.6,
    label_lift: float = 1.0,
) -> pd.DataFrame:
    """Rows with categorical codes, numeric features, a click drawn from a known pCTR, and a noisy score.

    ``label_lift`` multiplies the click probability behind the score's back (the score cannot see it).
    """
    platforms = rng.choice(list(platform_shares), size=n, p=np.array(list(platform_shares.values())))
    category = rng.choice(CATEGORIES, size=n)
    category[rng.random(n) < new_category_share] = OOV
    true_logit = np.log(ctr / (1 - ctr)) + rng.normal(0.0, 0.8, n)
    true_ctr = 1.0 / (1.0 + np.exp(-true_logit))
    score_logit = true_logit + rng.normal(0.0, score_noise, n)
    return pd.DataFrame(
        {
            "impression_id": np.arange(n),
            "platform_idx": platforms.astype(np.int32),
            "category_idx": category.astype(np.int32),
            "log_bid": rng.normal(1.0 + bid_shift, 0.5, n).astype(np.float32),
            "age_hours": rng.exponential(24.0, n),
            "click": (rng.random(n) < true_ctr * label_lift).astype(np.int8),
            "pctr": 1.0 / (1.0 + np.exp(-score_logit)),
        }
    )
