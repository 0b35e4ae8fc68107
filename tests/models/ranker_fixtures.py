"""A synthetic model-input world with a known click model, for the LightGBM / calibration / evaluation tests.

Kept independent of the simulator and the features package: the columns mimic model_input_* and
the spec mimics feature_spec, so the tests pin the models' contract, not the world's details.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SPLIT_DAYS = {"train": 0, "valid": 1, "test": 2}
N_USERS, N_ADS, N_CATEGORIES, N_HASH_BUCKETS = 400, 300, 6, 97
# Ads with an id at or above this are only shown on the test day (the cold-start ads).
FIRST_COLD_START_AD = 270

SPEC: dict[str, Any] = {
    "id_columns": ["request_id", "impression_id", "user_id", "ad_id", "event_time", "day", "split", "is_cold_start_ad"],
    "label_columns": ["click", "conversion"],
    "split_column": "split",
    "categorical": {
        "user_id_idx": {"kind": "vocabulary", "source": ["user_id"], "size": N_USERS + 2},
        "category_idx": {"kind": "vocabulary", "source": ["category"], "size": N_CATEGORIES + 2},
        "user_id_x_category_hash": {"kind": "hash", "source": ["user_id", "category"], "size": N_HASH_BUCKETS + 1},
    },
    "numeric": ["position", "signal", "ad_id_ctr"],
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_ctr_world(rows_per_day: int = 6000, seed: int = 0) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(model-input frames per split, truth_impressions). Clicks follow a logistic model of a numeric
    ``signal``, the category, the position and an ad effect that ``ad_id_ctr`` measures noisily."""
    rng = np.random.default_rng(seed)
    category_effect = rng.normal(0.0, 0.5, N_CATEGORIES)
    ad_effect = rng.normal(0.0, 0.6, N_ADS)
    frames = {}
    for split, day in SPLIT_DAYS.items():
        n = rows_per_day
        last_ad = N_ADS if split == "test" else FIRST_COLD_START_AD
        ad = rng.integers(0, last_ad, n)
        user = rng.integers(0, N_USERS, n)
        category = ad % N_CATEGORIES
        position = rng.integers(1, 5, n)
        signal = rng.normal(0.0, 1.0, n)
        true_pctr = _sigmoid(-3.0 + 0.9 * signal + category_effect[category] + ad_effect[ad] - 0.5 * np.log(position))
        first_id = 1 + day * n
        frames[split] = pd.DataFrame(
            {
                "impression_id": np.arange(first_id, first_id + n, dtype=np.int64),
                "user_id": user,
                "ad_id": ad,
                "day": day,
                "is_cold_start_ad": ad >= FIRST_COLD_START_AD,
                "click": (rng.uniform(size=n) < true_pctr).astype(np.int8),
                "user_id_idx": (user + 2).astype(np.int32),
                "category_idx": (category + 2).astype(np.int32),
                "user_id_x_category_hash": ((user * 7 + category) % N_HASH_BUCKETS + 1).astype(np.int32),
                "position": position.astype(np.int32),
                "signal": signal.astype(np.float32),
                # A past-only ad CTR would be noisy and unknown for new ads: the base rate there.
                "ad_id_ctr": np.where(
                    ad >= FIRST_COLD_START_AD, 0.05, _sigmoid(-3.0 + ad_effect[ad] + rng.normal(0.0, 0.3, n))
                ).astype(np.float32),
                "true_pctr": true_pctr,
            }
        )
    truth = pd.concat([frame[["impression_id", "true_pctr"]] for frame in frames.values()], ignore_index=True)
    return {split: frame.drop(columns="true_pctr") for split, frame in frames.items()}, truth


def noisy_score(truth: pd.DataFrame, frame: pd.DataFrame, noise: float, seed: int = 1) -> pd.DataFrame:
    """A stand-in for the transformer's pCTR: the true pCTR with logit noise (impression_id, pctr)."""
    rng = np.random.default_rng(seed)
    true_pctr = frame[["impression_id"]].merge(truth, on="impression_id")["true_pctr"].to_numpy()
    logit = np.log(true_pctr / (1 - true_pctr)) + rng.normal(0.0, noise, len(true_pctr))
    return pd.DataFrame({"impression_id": frame["impression_id"].to_numpy(), "pctr": _sigmoid(logit)})
