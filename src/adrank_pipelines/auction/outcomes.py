"""What one replay produced, for the platform, the advertisers and the users, and its summary
over click-draw seeds.

Two readings of the same served impressions: ``expected`` weighs every impression by its true
click and conversion probabilities (the ground truth), ``realised`` counts the seeded draws. Social
welfare is the advertisers' value (payments are transfers between advertisers and the platform).
Realised clicks spend budgets and so decide which ads serve later in the day: where budgets bind, even
the expected reading changes with the draws, hence the summary over click-draw seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.auction.book import CandidateBook
from adrank_pipelines.auction.replay import ReplayLog

EXPECTED, REALISED = "expected", "realised"
OUTCOME_KEYS = ("mechanism", "model", "reading")
DRAW_SEED, DRAW_SEEDS = "draw_seed", "draw_seeds"
# The figures a model comparison is read on: they also get their spread over draw seeds.
HEADLINE_METRICS = ("revenue", "clicks", "advertiser_surplus", "social_welfare")


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def _bidding_accounts(book: CandidateBook) -> np.ndarray:
    return np.unique(book.account[book.account >= 0])


def account_outcomes(log: ReplayLog, book: CandidateBook) -> pd.DataFrame:
    """One row per account that had a candidate on the day: budget, spend, clicks, value, surplus."""
    accounts = book.accounts
    n = len(accounts)
    value = accounts.value_per_conversion[log.account]

    def total(weights: np.ndarray) -> np.ndarray:
        # bincount of nothing sold is int64 even with weights: keep the contract's float64.
        return np.bincount(log.account, weights=weights, minlength=n).astype(np.float64)

    exhausted = log.spend_by_step >= accounts.budget[None, :]
    frame = pd.DataFrame(
        {
            "account": np.arange(n),
            "advertiser_id": accounts.advertiser_id,
            "budget": accounts.budget,
            "spend": log.spend_by_step[-1],
            "expected_spend": total(log.true_pctr * log.price),
            "impressions": total(np.ones(len(log.account))),
            "clicks": total(log.click.astype(np.float64)),
            "expected_clicks": total(log.true_pctr),
            "conversions": total(log.conversion.astype(np.float64)),
            "value": total(log.conversion * value),
            "expected_value": total(log.true_pctr * log.true_pcvr * value),
            "exhausted_step": np.where(exhausted.any(axis=0), exhausted.argmax(axis=0), -1),
        }
    )
    frame["surplus"] = frame["value"] - frame["spend"]
    frame["utilisation"] = frame["spend"] / frame["budget"]
    return frame.loc[frame["account"].isin(_bidding_accounts(book))].reset_index(drop=True)


def _budget_bound(log: ReplayLog, book: CandidateBook, min_utilisation: float) -> tuple[np.ndarray, np.ndarray]:
    """Spend so far / budget per step of every bidding account [steps, accounts], and which accounts
    are budget-bound (final utilisation >= ``min_utilisation``).

    An account without budget has no share (NaN) and is never budget-bound: it cannot serve at all.
    """
    bidding = _bidding_accounts(book)
    budget = book.accounts.budget[bidding]
    share = np.full((len(log.spend_by_step), len(bidding)), np.nan)
    np.divide(log.spend_by_step[:, bidding], budget, out=share, where=budget > 0)
    return share, share[-1] >= min_utilisation


def pacing_curve(log: ReplayLog, book: CandidateBook, target: np.ndarray, min_utilisation: float) -> pd.DataFrame:
    """Cumulative spend / budget after every step, over all bidding accounts and over the
    budget-bound ones, beside the target."""
    _, bound = _budget_bound(log, book, min_utilisation)
    bidding = _bidding_accounts(book)
    budget, spend = book.accounts.budget[bidding], log.spend_by_step[:, bidding]
    return pd.DataFrame(
        {
            "step": np.arange(len(target)),
            "target_share": target,
            "spend_share": spend.sum(axis=1) / budget.sum() if budget.sum() > 0 else np.nan,
            "bound_spend_share": spend[:, bound].sum(axis=1) / budget[bound].sum() if bound.any() else np.nan,
            "bound_accounts": int(bound.sum()),
        }
    )


def _pacing_error(log: ReplayLog, book: CandidateBook, target: np.ndarray, min_utilisation: float) -> float:
    """Mean over budget-bound accounts and steps of |spend so far / budget - target share|."""
    share, bound = _budget_bound(log, book, min_utilisation)
    if not bound.any():
        return float("nan")
    return float(np.abs(share[:, bound] - target[:, None]).mean())


def outcome_metrics(
    log: ReplayLog, book: CandidateBook, target: np.ndarray, min_utilisation: float
) -> dict[str, dict[str, float]]:
    """{"expected": {...}, "realised": {...}} platform, advertiser and user metrics of one replay."""
    value = book.accounts.value_per_conversion[log.account]
    budget = book.accounts.budget[_bidding_accounts(book)].sum()
    impressions = float(len(log.account))
    share, _ = _budget_bound(log, book, min_utilisation)
    exhausted = float(np.mean(share[-1] >= 1.0)) if share.shape[1] else np.nan
    readings = {
        EXPECTED: {
            "clicks": log.true_pctr.sum(),
            "conversions": (log.true_pctr * log.true_pcvr).sum(),
            "revenue": (log.true_pctr * log.price).sum(),
            "advertiser_value": (log.true_pctr * log.true_pcvr * value).sum(),
        },
        REALISED: {
            "clicks": log.click.sum(),
            "conversions": log.conversion.sum(),
            "revenue": (log.click * log.price).sum(),
            "advertiser_value": (log.conversion * value).sum(),
        },
    }
    metrics: dict[str, dict[str, float]] = {}
    for reading, base in readings.items():
        clicks, revenue, value_total = (float(base[k]) for k in ("clicks", "revenue", "advertiser_value"))
        metrics[reading] = {
            "impressions": impressions,
            "fill_rate": _ratio(impressions, log.slots_offered),
            "clicks": clicks,
            "ctr": _ratio(clicks, impressions),
            "conversions": float(base["conversions"]),
            "revenue": revenue,
            "advertiser_value": value_total,
            "advertiser_surplus": value_total - revenue,
            "advertiser_roi": _ratio(value_total - revenue, revenue),
            "social_welfare": value_total,
            "budget_utilisation": _ratio(revenue, budget),
            "pacing_error": _pacing_error(log, book, target, min_utilisation) if reading == REALISED else np.nan,
            "budget_exhausted_share": exhausted if reading == REALISED else np.nan,
            "withdrawn_impressions": float(log.withdrawn),
        }
    return metrics


def across_draws(by_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per mechanism x model x reading of ``by_seed`` (one row per draw seed as well): the
    number of seeds, every metric's mean over them (over the seeds where it is defined) and, beside
    each headline metric, its sample standard deviation as ``<metric>_std`` (missing with one seed)."""
    groups = by_seed.drop(columns=DRAW_SEED).groupby(list(OUTCOME_KEYS), sort=False)
    means = groups.mean()
    spread = groups[list(HEADLINE_METRICS)].std(ddof=1).add_suffix("_std")
    columns = [
        name for metric in means.columns for name in (metric, f"{metric}_std") if name in means or name in spread
    ]
    summary = means.join(spread)[columns]
    summary.insert(0, DRAW_SEEDS, groups.size())
    return summary.reset_index()
