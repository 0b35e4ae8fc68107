"""The simulator's ground truth for every candidate of the replay (evaluation only, never training).

The true pCTR is computed once per (request, ad) in the top slot. Lower slots differ by the
ground truth's position effect, which the click model adds to the logit independently of user and
ad; :func:`position_logit_shifts` measures that shift per slot and checks it is the same for every
candidate, so the replay can place an ad in any slot without calling the simulator again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.auction.keys import pair_key
from adrank_pipelines.marketplace import Context, GroundTruth

_CONTEXT_COLUMNS = ["request_id", "user_id", "day", "hour", "placement", "platform"]
_CHUNK_ROWS = 500_000  # bounds the simulator's per-row temporaries (interest matrices)
_SHIFT_SAMPLE = 2000
_SHIFT_TOLERANCE = 1e-6


def _with_context(pairs: pd.DataFrame, requests: pd.DataFrame) -> pd.DataFrame:
    joined = pairs[["request_id", "ad_id"]].merge(requests[_CONTEXT_COLUMNS], on="request_id", how="left")
    if joined["user_id"].isna().any():
        missing = joined.loc[joined["user_id"].isna(), "request_id"].head(3).tolist()
        raise ValueError(f"ranked_candidates names request ids missing from the requests table, e.g. {missing}")
    return joined


def _click_probability(truth: GroundTruth, frame: pd.DataFrame, position: int) -> np.ndarray:
    context = Context(
        position=np.full(len(frame), position, dtype=np.int64),
        hour=frame["hour"].to_numpy(),
        day=frame["day"].to_numpy(),
        placement=frame["placement"].to_numpy(),
        platform=frame["platform"].to_numpy(),
    )
    return truth.click_probability(frame["user_id"].to_numpy(), frame["ad_id"].to_numpy(), context)


def candidate_ground_truth(pairs: pd.DataFrame, requests: pd.DataFrame, truth: GroundTruth) -> pd.DataFrame:
    """request_id, ad_id, true_pctr (top slot), true_pcvr (P(conversion | click)) per unique pair."""
    _, first = np.unique(pair_key(pairs["request_id"], pairs["ad_id"]), return_index=True)
    unique = pairs[["request_id", "ad_id"]].iloc[first].reset_index(drop=True)
    frame = _with_context(unique, requests)
    pctr, pcvr = [], []
    for start in range(0, len(frame), _CHUNK_ROWS):
        chunk = frame.iloc[start : start + _CHUNK_ROWS]
        pctr.append(_click_probability(truth, chunk, position=1))
        pcvr.append(
            truth.conversion_probability(
                chunk["user_id"].to_numpy(), chunk["ad_id"].to_numpy(), chunk["day"].to_numpy()
            )
        )
    empty = [np.zeros(0)]
    return unique.assign(true_pctr=np.concatenate(pctr or empty), true_pcvr=np.concatenate(pcvr or empty))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p) - np.log1p(-p))


def position_logit_shifts(pairs: pd.DataFrame, requests: pd.DataFrame, truth: GroundTruth, n_slots: int) -> list[float]:
    """Logit of the true pCTR in slot k minus that in the top slot, for k = 1..n_slots.

    Raises if the shift differs between candidates: the replay's shortcut would then be wrong.
    """
    sample = _with_context(pairs.head(_SHIFT_SAMPLE), requests)
    top = _logit(_click_probability(truth, sample, position=1))
    shifts = [0.0]
    for position in range(2, n_slots + 1):
        shift = _logit(_click_probability(truth, sample, position)) - top
        if len(shift) and np.ptp(shift) > _SHIFT_TOLERANCE:
            raise ValueError(
                f"the ground truth's position effect in slot {position} varies across candidates "
                f"(range {np.ptp(shift):.2e}); the replay assumes it shifts the click logit uniformly"
            )
        shifts.append(float(shift.mean()) if len(shift) else 0.0)
    return shifts
