"""Small candidate books for replay tests: random ones, and hand-made ones from frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.auction.book import Accounts, CandidateBook, ReplayDay, build_book, requests_in_time_order
from adrank_pipelines.auction.pacing import cumulative_target

SHIFTS = np.log(np.array([1.0, 0.683, 0.547, 0.466]))


def random_book(
    seed: int,
    n_requests: int = 300,
    n_candidates: int = 8,
    n_accounts: int = 6,
    budget: float = 2.0,
    n_steps: int = 24,
) -> CandidateBook:
    """Requests spread over ``n_steps`` pacing steps of a day; CTRs high enough that budgets bind."""
    rng = np.random.default_rng(seed)
    shape = (n_requests, n_candidates)
    account = rng.integers(0, n_accounts, shape)
    account[rng.random(shape) < 0.1] = -1
    true_pctr = rng.uniform(0.05, 0.6, shape)
    return CandidateBook(
        request_id=np.arange(1, n_requests + 1),
        user_id=rng.integers(1, 50, n_requests),
        n_slots=rng.integers(1, 5, n_requests),
        step=np.sort(rng.integers(0, n_steps, n_requests)),
        ad_id=np.arange(n_requests * n_candidates).reshape(shape) + 1,
        account=account,
        bid=rng.uniform(0.05, 3.0, shape),
        pctr=np.clip(true_pctr * rng.lognormal(0, 0.3, shape), 0.01, 0.99),
        pcvr=rng.uniform(0.02, 0.2, shape),
        quality=rng.uniform(0.3, 2.0, shape),
        true_click_logit=np.log(true_pctr) - np.log1p(-true_pctr),
        true_pcvr=rng.uniform(0.02, 0.2, shape),
        position_logit_shift=SHIFTS,
        accounts=Accounts(
            advertiser_id=np.arange(n_accounts) + 100,
            budget=rng.uniform(0.5, 2.0, n_accounts) * budget,
            value_per_conversion=rng.uniform(10, 60, n_accounts),
        ),
    )


def hourly_target() -> np.ndarray:
    return cumulative_target(None, 60)


def quarter_hour_target() -> np.ndarray:
    return cumulative_target(None, 15)


def frame_day(
    candidates: pd.DataFrame, requests: pd.DataFrame, accounts: Accounts, step_minutes: int = 60
) -> ReplayDay:
    ordered = requests_in_time_order(requests, step_minutes)
    return ReplayDay(candidates, ordered, accounts, SHIFTS, cumulative_target(None, step_minutes))


def one_book(candidates: pd.DataFrame, requests: pd.DataFrame, accounts: Accounts) -> CandidateBook:
    return build_book(candidates, requests_in_time_order(requests, 60), accounts, SHIFTS)
