"""The replay's input: one day's candidates as padded [request, candidate] arrays in time order.

Padding lets the mechanisms clear a whole time step of auctions in a few numpy passes; a padded cell
has account -1 and never enters an auction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.auction.keys import lookup
from adrank_pipelines.auction.pacing import MINUTES_PER_DAY

# Columns of the candidate frame the book is built from (see ``prepare.auction_candidates``);
# ``order`` ranks the candidates of a request, lowest first.
BOOK_COLUMNS = ("request_id", "ad_id", "account", "bid", "pctr", "pcvr", "quality", "true_pctr", "true_pcvr", "order")


@dataclass(frozen=True)
class Accounts:
    """Who pays: one budget per account (an advertiser, or an advertiser within one arm of a test)."""

    advertiser_id: np.ndarray
    budget: np.ndarray
    value_per_conversion: np.ndarray

    def __len__(self) -> int:
        return len(self.budget)


@dataclass(frozen=True)
class CandidateBook:
    """[requests, candidates] arrays of one day, requests in time order; ``step`` is non-decreasing."""

    request_id: np.ndarray  # [R]
    user_id: np.ndarray  # [R]
    n_slots: np.ndarray  # [R]
    step: np.ndarray  # [R] pacing time step of the request
    ad_id: np.ndarray  # [R, K], 0 where padded
    account: np.ndarray  # [R, K], -1 where padded
    bid: np.ndarray  # [R, K] per-click bid
    pctr: np.ndarray  # [R, K] the model's pCTR in the top slot
    pcvr: np.ndarray  # [R, K] the model's P(conversion | click)
    quality: np.ndarray  # [R, K]
    true_click_logit: np.ndarray  # [R, K] logit of the true pCTR in the top slot
    true_pcvr: np.ndarray  # [R, K]
    # Added to the true click logit in each slot (0 for the top slot): the ground truth's position effect.
    position_logit_shift: np.ndarray  # [S]
    accounts: Accounts

    @property
    def n_requests(self) -> int:
        return len(self.request_id)

    def true_pctr(self, rows: np.ndarray, columns: np.ndarray, slots: np.ndarray) -> np.ndarray:
        logit = self.true_click_logit[rows, columns] + self.position_logit_shift[slots]
        return np.asarray(1.0 / (1.0 + np.exp(-logit)))


def requests_in_time_order(requests: pd.DataFrame, step_minutes: int) -> pd.DataFrame:
    """The day's requests sorted by time, with their pacing step."""
    ordered = requests.sort_values(["event_time", "request_id"], kind="stable").reset_index(drop=True)
    times = pd.to_datetime(ordered["event_time"])
    minutes = (times - times.dt.normalize()).dt.total_seconds().to_numpy() / 60.0
    step = np.minimum(minutes // step_minutes, np.ceil(MINUTES_PER_DAY / step_minutes) - 1)
    return ordered.assign(step=step.astype(np.int64))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(p) - np.log1p(-p))


def build_book(
    candidates: pd.DataFrame,
    requests: pd.DataFrame,
    accounts: Accounts,
    position_logit_shift: np.ndarray,
    per_request: int | None = None,
) -> CandidateBook:
    """Pad ``candidates`` (columns BOOK_COLUMNS) per request, best ``order`` first, at most
    ``per_request`` of them.

    ``requests``: the output of :func:`requests_in_time_order`; requests without candidates stay in
    the book (their slots stay empty).
    """
    missing = [c for c in BOOK_COLUMNS if c not in candidates.columns]
    if missing:
        raise ValueError(f"candidate frame lacks columns {missing}")
    row = lookup(
        requests["request_id"].to_numpy(),
        candidates["request_id"].to_numpy(),
        "candidates name request ids absent from the evaluation day's requests",
    )
    order = np.lexsort((candidates["order"].to_numpy(), row))
    row = row[order]
    column = np.arange(len(row)) - np.searchsorted(row, row, side="left")
    if per_request is not None:
        kept = column < per_request
        order, row, column = order[kept], row[kept], column[kept]
    shape = (len(requests), int(column.max()) + 1 if len(row) else 1)

    def padded(name: str, fill: float | int, dtype: type[np.generic]) -> np.ndarray:
        out = np.full(shape, fill, dtype=dtype)
        out[row, column] = candidates[name].to_numpy()[order]
        return out

    true_pctr = padded("true_pctr", 0.5, np.float64)
    return CandidateBook(
        request_id=requests["request_id"].to_numpy(),
        user_id=requests["user_id"].to_numpy(),
        n_slots=requests["n_slots"].to_numpy().astype(np.int64),
        step=requests["step"].to_numpy(),
        ad_id=padded("ad_id", 0, np.int64),
        account=padded("account", -1, np.int64),
        bid=padded("bid", 0.0, np.float64),
        pctr=padded("pctr", 0.0, np.float64),
        pcvr=padded("pcvr", 0.0, np.float64),
        quality=padded("quality", 0.0, np.float64),
        true_click_logit=_logit(true_pctr),
        true_pcvr=padded("true_pcvr", 0.0, np.float64),
        position_logit_shift=np.asarray(position_logit_shift, dtype=np.float64),
        accounts=accounts,
    )


@dataclass(frozen=True)
class ReplayDay:
    """Everything a replay of the evaluation day needs besides the mechanism."""

    candidates: dict[str, pd.DataFrame]  # per model (see ``prepare.auction_candidates``)
    requests: pd.DataFrame  # the day's requests, from :func:`requests_in_time_order`
    accounts: Accounts
    position_logit_shift: np.ndarray
    target: np.ndarray  # cumulative spend share to reach by the end of each pacing step
    per_request: int | None = None  # candidates per request that enter the auction (None: all)

    def book(self, model: str) -> CandidateBook:
        return self.book_of(self.candidates[model], self.accounts)

    def book_of(self, candidates: pd.DataFrame, accounts: Accounts) -> CandidateBook:
        return build_book(candidates, self.requests, accounts, self.position_logit_shift, self.per_request)
