"""A simulated online experiment on the evaluation day: users split at random between two ranking
models, served through one mechanism with pacing, read out per user.

Each arm gets its traffic share of every advertiser's budget (a budget-split design), so the arms
cannot take spend from each other. The truth is what the simulator knows and a real platform does
not: the lift in expected (true pCTR) clicks and revenue when every user gets the treatment instead
of the control, from pairs of full-traffic replays. Realised clicks spend budgets and so change which
ads serve later, so one pair of replays is one draw of that lift: the truth is the lift of the totals
averaged over several click-draw seeds, reported with the spread of the single-draw lifts (ADR 0018).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.auction.book import Accounts, ReplayDay
from adrank_pipelines.auction.config import AbTestParams, AuctionEvalParams
from adrank_pipelines.auction.grid import draw_seeds, replay
from adrank_pipelines.auction.keys import lookup
from adrank_pipelines.monitoring.ab_test import cuped, relative_lift, two_proportion_z_test, welch_t_test

CONTROL, TREATMENT = 0, 1
METRICS = ("clicks", "revenue")


@dataclass(frozen=True)
class ArmTotals:
    """Per-user realised totals of the users who made a request on the day."""

    user_id: np.ndarray
    arm: np.ndarray
    clicks: np.ndarray
    revenue: np.ndarray
    impressions: np.ndarray


def assign_arms(user_ids: np.ndarray, treatment_share: float, seed: int) -> pd.Series:
    """Arm (0 control, 1 treatment) of each distinct user, drawn independently at random."""
    users = np.unique(user_ids)
    arm = (np.random.default_rng(seed).random(len(users)) < treatment_share).astype(np.int64)
    return pd.Series(arm, index=users)


def _split_accounts(accounts: Accounts, treatment_share: float) -> Accounts:
    shares = np.repeat([1.0 - treatment_share, treatment_share], len(accounts))
    return Accounts(
        advertiser_id=np.tile(accounts.advertiser_id, 2),
        budget=np.tile(accounts.budget, 2) * shares,
        value_per_conversion=np.tile(accounts.value_per_conversion, 2),
    )


def run_arms(day: ReplayDay, auction: AuctionEvalParams, ab: AbTestParams, seed: int) -> ArmTotals:
    """Serve each request with its user's arm model; the user split and the click draws follow ``seed``."""
    split_seed, draw_seed = np.random.default_rng(seed).integers(0, 2**31, size=2)
    requests = day.requests
    arm_of_user = assign_arms(requests["user_id"].to_numpy(), ab.treatment_share, int(split_seed))
    request_arm = arm_of_user.loc[requests["user_id"].to_numpy()].to_numpy()
    served = []
    for arm, model in ((CONTROL, ab.control_model), (TREATMENT, ab.treatment_model)):
        frame = day.candidates[model]
        rows = lookup(requests["request_id"].to_numpy(), frame["request_id"].to_numpy(), f"{model} candidates")
        in_arm = request_arm[rows] == arm
        # Each arm bills its own share of the advertiser's budget: accounts [0, n) control, [n, 2n) treatment.
        served.append(frame.loc[in_arm].assign(account=frame["account"].to_numpy()[in_arm] + arm * len(day.accounts)))
    book = day.book_of(pd.concat(served, ignore_index=True), _split_accounts(day.accounts, ab.treatment_share))
    log = replay(day, book, auction.mechanisms[ab.mechanism], auction, int(draw_seed))
    users, user_index = np.unique(book.user_id, return_inverse=True)
    shown_user = user_index[log.request_row]

    def per_user(weights: np.ndarray) -> np.ndarray:
        return np.bincount(shown_user, weights=weights, minlength=len(users))

    return ArmTotals(
        user_id=users,
        arm=arm_of_user.loc[users].to_numpy(),
        clicks=per_user(log.click.astype(np.float64)),
        revenue=per_user(log.click * log.price),
        impressions=per_user(np.ones(len(shown_user))),
    )


@dataclass(frozen=True)
class TrueLift:
    """The true lift of one metric over click-draw seeds.

    ``lift`` is the lift of the totals averaged over the seeds (None where the control earns nothing in
    any of them): a ratio of means, the quantity the experiment's per-user lift estimates. ``per_seed``
    holds each seed's own lift (NaN where that seed's control earns nothing); its spread is how far one
    draw's truth can stray.
    """

    lift: float | None
    per_seed: np.ndarray

    def spread(self) -> dict[str, float | int | None]:
        """Draw seeds, and the standard deviation (None below two defined seeds), minimum and maximum
        of the single-seed lifts (None where no seed defines one)."""
        defined = self.per_seed[~np.isnan(self.per_seed)]
        return {
            "draw_seeds": len(self.per_seed),
            "std": float(defined.std(ddof=1)) if len(defined) > 1 else None,
            "min": float(defined.min()) if len(defined) else None,
            "max": float(defined.max()) if len(defined) else None,
        }


def lift_over_draws(control: np.ndarray, treatment: np.ndarray) -> TrueLift:
    """The lift of ``treatment`` over ``control`` totals, one of each per click-draw seed."""
    per_seed = np.full(len(control), np.nan)
    np.divide(treatment, control, out=per_seed, where=control > 0)
    mean_control = control.mean()
    return TrueLift(
        lift=float(treatment.mean() / mean_control - 1.0) if mean_control > 0 else None,
        per_seed=per_seed - 1.0,
    )


def true_lift(day: ReplayDay, auction: AuctionEvalParams, ab: AbTestParams) -> dict[str, TrueLift]:
    """Lift in expected clicks and revenue per user when every user gets the treatment model, over the
    click-draw seeds auction_eval.seed, seed + 1, ... (ab_test.truth_draw_seeds of them); each seed
    replays both models with the same draws."""
    control, treatment = (_expected_totals(day, model, auction, ab) for model in (ab.control_model, ab.treatment_model))
    return {metric: lift_over_draws(control[:, i], treatment[:, i]) for i, metric in enumerate(METRICS)}


def _expected_totals(day: ReplayDay, model: str, auction: AuctionEvalParams, ab: AbTestParams) -> np.ndarray:
    """[draw seed, metric] expected totals (METRICS' order) of ``model``'s full-traffic replays."""
    book, mechanism = day.book(model), auction.mechanisms[ab.mechanism]
    logs = (replay(day, book, mechanism, auction, seed) for seed in draw_seeds(auction.seed, ab.truth_draw_seeds))
    return np.array([[log.true_pctr.sum(), (log.true_pctr * log.price).sum()] for log in logs])


def undefined_lift_reason(metric: str, control: np.ndarray, treatment: np.ndarray) -> str | None:
    """Why a relative lift of ``metric`` cannot be estimated from these per-user values, or None if it can."""
    if min(len(control), len(treatment)) < 2:
        return f"an arm has fewer than 2 users ({len(control)} control, {len(treatment)} treatment)"
    if control.mean() <= 0:
        return f"the control arm has no {metric} (no ad won a click there): a lift relative to zero is undefined"
    return None


def _lift_entry(metric: str, values: np.ndarray, arm: np.ndarray, alpha: float) -> dict[str, Any]:
    """The lift estimate as a dict, or its fields as None with the reason under ``undefined``."""
    control, treatment = values[arm == CONTROL], values[arm == TREATMENT]
    reason = undefined_lift_reason(metric, control, treatment)
    if reason is None:
        return relative_lift(control, treatment, alpha).as_dict()
    undefined = dict.fromkeys(("lift", "ci_low", "ci_high", "p_value"))
    means = {"control_mean": _mean_or_none(control), "treatment_mean": _mean_or_none(treatment)}
    return {**means, **undefined, "n_control": len(control), "n_treatment": len(treatment), "undefined": reason}


def _mean_or_none(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _covers(entry: Mapping[str, Any], truth: float | None) -> bool | None:
    """Whether the interval holds the true lift; None when either is undefined."""
    if truth is None or entry["lift"] is None:
        return None
    return bool(entry["ci_low"] <= truth <= entry["ci_high"])


def _ctr_test(totals: ArmTotals, alpha: float) -> dict[str, Any]:
    arm = totals.arm
    trials = {side: int(totals.impressions[arm == side].sum()) for side in (CONTROL, TREATMENT)}
    if min(trials.values()) == 0:
        return {
            "undefined": f"an arm was shown no ad (impressions: {trials[CONTROL]} control, {trials[TREATMENT]} treatment)"
        }
    return two_proportion_z_test(
        int(totals.clicks[arm == CONTROL].sum()),
        trials[CONTROL],
        int(totals.clicks[arm == TREATMENT].sum()),
        trials[TREATMENT],
        alpha,
    )


def _truth_entry(metric: str, truth: TrueLift) -> dict[str, Any]:
    """The true lift, its spread over draw seeds, and why it is undefined where it is."""
    entry: dict[str, Any] = {"true_lift": truth.lift, "true_lift_spread": truth.spread()}
    if truth.lift is None:
        entry["true_lift_undefined"] = (
            f"the control model earns no expected {metric} in any of its {len(truth.per_seed)} full-traffic "
            "replays: a lift relative to zero is undefined"
        )
    return entry


def readout(
    totals: ArmTotals, truth: Mapping[str, TrueLift], ab: AbTestParams, covariate: np.ndarray | None
) -> dict[str, Any]:
    """Per-metric lift with interval and p-value beside the true lift (and its spread over draw seeds);
    CTR by the two-proportion test."""
    arm = totals.arm
    metrics: dict[str, Any] = {}
    for name in METRICS:
        values = getattr(totals, name)
        entry = {**_lift_entry(name, values, arm, ab.alpha), **_truth_entry(name, truth[name])}
        entry["interval_covers_true_lift"] = _covers(entry, truth[name].lift)
        if entry["lift"] is not None:
            welch = welch_t_test(values[arm == CONTROL], values[arm == TREATMENT])
            entry["welch_t_test"] = {"difference_per_user": welch.difference, "p_value": welch.p_value}
            if covariate is not None:
                adjusted, theta = cuped(values, covariate)
                adjusted_entry = _lift_entry(name, adjusted, arm, ab.alpha)
                entry["cuped"] = {
                    **adjusted_entry,
                    "theta": theta,
                    "variance_reduction": float(1.0 - adjusted.var() / values.var()) if values.var() > 0 else 0.0,
                    "interval_covers_true_lift": _covers(adjusted_entry, truth[name].lift),
                }
        metrics[f"{name}_per_user"] = entry
    ctr = _ctr_test(totals, ab.alpha)
    return {
        "design": {
            **ab.model_dump(),
            "users": {"control": int((arm == CONTROL).sum()), "treatment": int((arm == TREATMENT).sum())},
            "budget_split": "each arm gets its traffic share of every advertiser's budget",
            "unit": "user (per-user totals of the evaluation day, users with at least one request)",
            "true_lift": (
                f"lift in expected (true pCTR) totals when every user gets the treatment, averaged over "
                f"{ab.truth_draw_seeds} click-draw seeds of full-traffic replays; true_lift_spread: the single-seed lifts"
            ),
        },
        "metrics": metrics,
        "ctr_two_proportion_z_test": ctr,
    }


def readout_metrics(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Lift, interval, p-value, true lift and its spread over draw seeds per metric, in kedro-mlflow's
    metrics shape (undefined figures left out)."""
    figures = {
        f"{metric}.{key}": value
        for metric, entry in result["metrics"].items()
        for key, value in (
            *((key, entry[key]) for key in ("lift", "ci_low", "ci_high", "p_value", "true_lift")),
            ("true_lift_std", entry["true_lift_spread"]["std"]),
        )
    }
    return {name: {"value": float(value), "step": 0} for name, value in figures.items() if value is not None}
