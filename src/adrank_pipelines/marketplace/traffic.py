"""Ad requests, the logging policy that filled their slots, and the drawn clicks and conversions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.marketplace.config import MarketplaceConfig
from adrank_pipelines.marketplace.ground_truth import Context, GroundTruth
from adrank_pipelines.marketplace.vocabulary import ALL_CATEGORIES

_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class DayLog:
    requests: pd.DataFrame
    impressions: pd.DataFrame


def _request_hours(rng: np.random.Generator, size: int) -> np.ndarray:
    """Diurnal traffic: an evening peak and a night trough."""
    hours = np.arange(24)
    weights = 1.0 + 0.6 * np.cos(2 * np.pi * (hours - 20) / 24)
    return rng.choice(24, size=size, p=weights / weights.sum())


def _draw_platforms(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    names = np.array(list(shares), dtype=object)
    weights = np.array(list(shares.values()), dtype=float)
    drawn: np.ndarray = names[rng.choice(len(names), size=size, p=weights / weights.sum())]
    return drawn


def _request_platforms(
    rng: np.random.Generator, config: MarketplaceConfig, main_platform: np.ndarray, drift_strength: float
) -> np.ndarray:
    """Mostly the user's main platform; in the drift window a request follows the drift mix with probability
    ``drift_strength`` (every request at full strength)."""
    size = len(main_platform)
    if drift_strength >= 1.0:
        return _draw_platforms(rng, config.drift.platform_shares, size)
    other = _draw_platforms(rng, config.platforms, size)
    usual = np.where(rng.random(size) < config.platform_stickiness, main_platform, other)
    if drift_strength <= 0.0:
        return usual
    drifted = _draw_platforms(rng, config.drift.platform_shares, size)
    return np.where(rng.random(size) < drift_strength, drifted, usual)


def simulate_requests(
    rng: np.random.Generator, config: MarketplaceConfig, users: pd.DataFrame, day: int, drift_strength: float
) -> pd.DataFrame:
    n = config.requests_per_day
    activity = users["activity"].to_numpy()
    user_rows = rng.choice(len(users), size=n, p=activity / activity.sum())
    seconds = _request_hours(rng, n) * 3600 + rng.integers(0, 3600, n)
    placement_names = list(config.placements)
    shares = np.array([config.placements[p].share for p in placement_names])
    placement = np.array(placement_names, dtype=object)[rng.choice(len(shares), size=n, p=shares / shares.sum())]
    slots = pd.Series({p: config.placements[p].n_slots for p in placement_names}).loc[placement].to_numpy()
    start = pd.Timestamp(config.start_date) + pd.Timedelta(days=day)
    frame = pd.DataFrame(
        {
            "user_id": users["user_id"].to_numpy()[user_rows],
            "event_time": start + pd.to_timedelta(seconds, unit="s"),
            "day": np.int64(day),
            "hour": (seconds // 3600).astype(np.int64),
            "placement": placement.astype(str),
            "platform": _request_platforms(rng, config, users["platform"].to_numpy()[user_rows], drift_strength).astype(
                str
            ),
            "n_slots": slots.astype(np.int64),
            "_user_row": user_rows,
        }
    )
    return frame.sort_values("event_time", kind="stable").reset_index(drop=True)


def _candidates(
    rng: np.random.Generator,
    config: MarketplaceConfig,
    policy_interest: np.ndarray,
    ad_rows_by_category: list[np.ndarray],
    active_rows: np.ndarray,
) -> np.ndarray:
    """Per request, candidate ad rows: part targeted at inferred interests, part at random."""
    n_requests = len(policy_interest)
    n_candidates = config.logging_policy.candidates_per_request
    n_targeted = round(n_candidates * config.logging_policy.targeted_share)
    has_ads = np.array([len(rows) > 0 for rows in ad_rows_by_category])
    weights = policy_interest * has_ads
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random((n_requests, n_targeted, 1))
    category = np.minimum((draws > cumulative[:, None, :]).sum(axis=2), len(ALL_CATEGORIES) - 1)
    counts = np.array([len(rows) for rows in ad_rows_by_category])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat_rows = np.concatenate(ad_rows_by_category)
    pick = offsets[category] + (rng.random(category.shape) * np.maximum(counts[category], 1)).astype(np.int64)
    targeted = flat_rows[np.minimum(pick, len(flat_rows) - 1)]
    random = active_rows[rng.integers(0, len(active_rows), (n_requests, n_candidates - n_targeted))]
    return np.concatenate([targeted, random], axis=1)


def fill_slots(
    rng: np.random.Generator,
    config: MarketplaceConfig,
    requests: pd.DataFrame,
    ads: pd.DataFrame,
    truth: GroundTruth,
    ad_quality: np.ndarray,
) -> pd.DataFrame:
    """The logging policy: rank candidates by bid x inferred interest x noisy quality, fill the slots."""
    day = int(requests["day"].iloc[0])
    active_rows = np.flatnonzero(ads["first_day"].to_numpy() <= day)
    ad_category = pd.Categorical(ads["category"], categories=list(ALL_CATEGORIES)).codes
    by_category = [active_rows[ad_category[active_rows] == c] for c in range(len(ALL_CATEGORIES))]
    user_rows = requests["_user_row"].to_numpy()
    interest = truth.interests(user_rows, np.full(len(requests), day))
    policy_interest = interest**config.logging_policy.interest_sharpness
    policy_interest /= policy_interest.sum(axis=1, keepdims=True)
    candidates = _candidates(rng, config, policy_interest, by_category, active_rows)
    score = (
        np.log(ads["bid"].to_numpy()[candidates])
        + np.log(np.take_along_axis(policy_interest, ad_category[candidates], axis=1))
        + 0.5 * ad_quality[candidates]
        + config.logging_policy.score_noise * rng.gumbel(size=candidates.shape)
    )
    # A candidate drawn twice for one request may fill only one slot.
    order = np.argsort(candidates, axis=1)
    sorted_candidates = np.take_along_axis(candidates, order, axis=1)
    duplicate = np.zeros_like(candidates, dtype=bool)
    duplicate[:, 1:] = sorted_candidates[:, 1:] == sorted_candidates[:, :-1]
    score[np.arange(len(candidates))[:, None], order] = np.where(
        duplicate, -np.inf, np.take_along_axis(score, order, axis=1)
    )
    max_slots = int(requests["n_slots"].max())
    ranked = np.argsort(-score, axis=1)[:, :max_slots]
    chosen = np.take_along_axis(candidates, ranked, axis=1)
    positions = np.broadcast_to(np.arange(1, max_slots + 1), chosen.shape)
    shown = positions <= requests["n_slots"].to_numpy()[:, None]
    request_index = np.broadcast_to(np.arange(len(requests))[:, None], chosen.shape)[shown]
    impressions = requests.iloc[request_index].drop(columns=["n_slots", "_user_row"]).reset_index(drop=True)
    impressions["request_row"] = request_index
    impressions["ad_id"] = ads["ad_id"].to_numpy()[chosen[shown]]
    impressions["position"] = positions[shown].astype(np.int64)
    return impressions


def draw_outcomes(rng: np.random.Generator, impressions: pd.DataFrame, truth: GroundTruth) -> pd.DataFrame:
    user_id = impressions["user_id"].to_numpy()
    ad_id = impressions["ad_id"].to_numpy()
    day = impressions["day"].to_numpy()
    context = Context(
        position=impressions["position"].to_numpy(),
        hour=impressions["hour"].to_numpy(),
        day=day,
        placement=impressions["placement"].to_numpy(),
        platform=impressions["platform"].to_numpy(),
    )
    pctr = truth.click_probability(user_id, ad_id, context)
    pcvr = truth.conversion_probability(user_id, ad_id, day)
    click = rng.random(len(pctr)) < pctr
    conversion = click & (rng.random(len(pcvr)) < pcvr)
    return impressions.assign(
        click=click.astype(np.int8), conversion=conversion.astype(np.int8), true_pctr=pctr, true_pcvr=pcvr
    )


def simulate_day(
    rng: np.random.Generator,
    config: MarketplaceConfig,
    users: pd.DataFrame,
    ads: pd.DataFrame,
    truth: GroundTruth,
    ad_quality: np.ndarray,
    day: int,
) -> DayLog:
    in_drift = config.drift.enabled and day >= config.n_days
    drift_strength = config.drift.strength(day - config.n_days) if in_drift else 0.0
    requests = simulate_requests(rng, config, users, day, drift_strength)
    impressions = draw_outcomes(rng, fill_slots(rng, config, requests, ads, truth, ad_quality), truth)
    return DayLog(requests.drop(columns="_user_row"), impressions)
