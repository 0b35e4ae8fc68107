"""Stand-in ranked candidates with a known model quality, for tests and benchmarks.

Each "model" is the ground truth seen through logit noise of a chosen size: noise 0 is the oracle,
larger noise a worse pCTR model. Candidates are drawn per request from the ads live that day, so the
auction can be exercised before (or without) the retrieval and ranking stages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.auction.truth import candidate_ground_truth
from adrank_pipelines.marketplace import GroundTruth


def _noisy(p: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    logit = np.log(p) - np.log1p(-p) + noise * rng.normal(size=len(p))
    return np.asarray(1.0 / (1.0 + np.exp(-logit)))


def _distinct_picks(rng: np.random.Generator, rows: int, population: int, per_row: int) -> np.ndarray:
    """[rows, per_row] indices into range(population), distinct within each row."""
    picks = rng.integers(0, population, (rows, per_row))
    while True:
        ordered = np.sort(picks, axis=1)
        repeated = np.zeros_like(picks, dtype=bool)
        repeated[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
        if not repeated.any():
            return picks
        picks = np.where(repeated, rng.integers(0, population, picks.shape), ordered)


def noisy_oracle_candidates(
    requests: pd.DataFrame,
    ads: pd.DataFrame,
    truth: GroundTruth,
    day: int,
    per_request: int,
    model_noise: dict[str, float],
    seed: int,
) -> pd.DataFrame:
    """ranked_candidates-shaped rows (request_id, ad_id, model, pctr, pcvr, score, rank) for ``day``."""
    rng = np.random.default_rng(seed)
    todays = requests.loc[requests["day"] == day]
    live = ads.loc[ads["first_day"] <= day, "ad_id"].to_numpy()
    if len(live) < per_request:
        raise ValueError(f"only {len(live)} ads are live on day {day}, fewer than {per_request} candidates per request")
    picks = _distinct_picks(rng, len(todays), len(live), per_request)
    pairs = pd.DataFrame(
        {"request_id": np.repeat(todays["request_id"].to_numpy(), per_request), "ad_id": live[picks].ravel()}
    )
    truth_frame = candidate_ground_truth(pairs, requests, truth)
    bid = ads.set_index("ad_id")["bid"].loc[truth_frame["ad_id"].to_numpy()].to_numpy()
    frames = []
    for model, noise in model_noise.items():
        pctr = _noisy(truth_frame["true_pctr"].to_numpy(), noise, rng)
        pcvr = _noisy(truth_frame["true_pcvr"].to_numpy(), noise, rng)
        frame = truth_frame[["request_id", "ad_id"]].assign(model=model, pctr=pctr, pcvr=pcvr, score=pctr * bid)
        frame["rank"] = frame.groupby("request_id")["score"].rank(method="first", ascending=False).astype(np.int32) - 1
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
