"""A seeded tiny marketplace with the columns and dtypes of docs/data_contracts.md.

Kept independent of the simulator so the feature tests do not move when the simulator changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.features.assemble import model_input
from adrank_pipelines.features.browsing import browse_sequences, with_browse_affinity
from adrank_pipelines.features.params import CrossParams, TargetStatParams, VocabularyParams
from adrank_pipelines.features.splits import TRAIN
from adrank_pipelines.features.vocabulary import Vocabulary, fit_vocabularies

START = pd.Timestamp("2026-01-05")
CATEGORIES = ["travel", "fitness", "finance", "games"]
PLACEMENT_SLOTS = {"feed": 4, "search": 3, "sidebar": 2, "video": 1}


def make_tables(
    seed: int = 0,
    n_users: int = 30,
    n_advertisers: int = 5,
    n_ads: int = 25,
    n_days: int = 6,
    requests_per_day: int = 40,
) -> dict[str, pd.DataFrame]:
    """users, advertisers, ads, requests, impressions (raw contract columns and dtypes)."""
    rng = np.random.default_rng(seed)
    users = pd.DataFrame(
        {
            "user_id": np.arange(1, n_users + 1, dtype=np.int64),
            "country": pd.array(rng.choice(["US", "DE", "FR"], n_users), dtype="str"),
            "age_bucket": pd.array(rng.choice(["18-24", "25-34", "35-44"], n_users), dtype="str"),
            "platform": pd.array(rng.choice(["ios", "android", "web"], n_users), dtype="str"),
            "activity": rng.uniform(0.5, 2.0, n_users),
        }
    )
    advertisers = pd.DataFrame(
        {
            "advertiser_id": np.arange(1, n_advertisers + 1, dtype=np.int64),
            "brand": pd.array([f"brand{i}" for i in range(1, n_advertisers + 1)], dtype="str"),
            "category": pd.array(rng.choice(CATEGORIES, n_advertisers), dtype="str"),
            "value_per_click": rng.uniform(0.5, 2.0, n_advertisers),
            "value_per_conversion": rng.uniform(10, 50, n_advertisers),
            "daily_budget": rng.uniform(50, 200, n_advertisers),
        }
    )
    ads = pd.DataFrame(
        {
            "ad_id": np.arange(1, n_ads + 1, dtype=np.int64),
            "advertiser_id": rng.integers(1, n_advertisers + 1, n_ads).astype(np.int64),
            "category": pd.array(rng.choice(CATEGORIES, n_ads), dtype="str"),
            "title": pd.array([f"Ad {i} title" for i in range(1, n_ads + 1)], dtype="str"),
            "description": pd.array([f"Ad {i} description" for i in range(1, n_ads + 1)], dtype="str"),
            "bid": rng.uniform(0.2, 3.0, n_ads),
            # A few ads start on the last days: cold-start ads of the evaluation splits.
            "first_day": np.where(np.arange(n_ads) < n_ads - 3, 0, n_days - 2).astype(np.int64),
        }
    )
    requests = _make_requests(rng, n_users, n_days, requests_per_day)
    impressions = _make_impressions(rng, requests, ads)
    user_events = _make_user_events(rng, n_users, n_days)
    return {
        "users": users,
        "advertisers": advertisers,
        "ads": ads,
        "requests": requests,
        "impressions": impressions,
        "user_events": user_events,
    }


def _make_user_events(rng: np.random.Generator, n_users: int, n_days: int, per_user: int = 8) -> pd.DataFrame:
    """Organic views from two days before the ad log to its end, in whole minutes."""
    n_events = n_users * per_user
    minutes = rng.integers(-2 * 24 * 60, n_days * 24 * 60, n_events)
    return pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(1, n_users + 1, dtype=np.int64), per_user),
            "event_time": START + pd.to_timedelta(minutes, unit="min"),
            "category": pd.array(rng.choice(CATEGORIES, n_events), dtype="str"),
        }
    ).sort_values("event_time", kind="stable", ignore_index=True)


def _make_requests(rng: np.random.Generator, n_users: int, n_days: int, requests_per_day: int) -> pd.DataFrame:
    n_requests = n_days * requests_per_day
    day = np.repeat(np.arange(n_days, dtype=np.int64), requests_per_day)
    # Whole minutes, so some requests of one user share a timestamp with other users' requests.
    minute = rng.integers(0, 24 * 60, n_requests)
    event_time = START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(minute, unit="min")
    placement = rng.choice(list(PLACEMENT_SLOTS), n_requests)
    requests = pd.DataFrame(
        {
            "user_id": rng.integers(1, n_users + 1, n_requests).astype(np.int64),
            "event_time": event_time.astype("datetime64[ns]"),
            "day": day,
            "hour": (minute // 60).astype(np.int64),
            "placement": pd.array(placement, dtype="str"),
            "platform": pd.array(rng.choice(["ios", "android", "web"], n_requests), dtype="str"),
            "n_slots": np.array([PLACEMENT_SLOTS[p] for p in placement], dtype=np.int64),
        }
    )
    requests = requests.sort_values("event_time", kind="stable").reset_index(drop=True)
    requests.insert(0, "request_id", np.arange(1, n_requests + 1, dtype=np.int64))
    return requests


def _make_impressions(rng: np.random.Generator, requests: pd.DataFrame, ads: pd.DataFrame) -> pd.DataFrame:
    shown = requests.loc[requests.index.repeat(requests["n_slots"])].reset_index(drop=True)
    shown["position"] = (shown.groupby("request_id").cumcount() + 1).astype(np.int64)
    eligible = [ads.loc[ads["first_day"] <= day, "ad_id"].to_numpy() for day in range(int(shown["day"].max()) + 1)]
    shown["ad_id"] = np.array([rng.choice(eligible[day]) for day in shown["day"]], dtype=np.int64)
    click = rng.random(len(shown)) < 0.3 / shown["position"].to_numpy()
    conversion = click & (rng.random(len(shown)) < 0.3)
    return pd.DataFrame(
        {
            "impression_id": np.arange(1, len(shown) + 1, dtype=np.int64),
            "request_id": shown["request_id"],
            "user_id": shown["user_id"],
            "ad_id": shown["ad_id"],
            "event_time": shown["event_time"],
            "day": shown["day"],
            "hour": shown["hour"],
            "placement": shown["placement"],
            "platform": shown["platform"],
            "position": shown["position"],
            "click": click.astype(np.int8),
            "conversion": conversion.astype(np.int8),
        }
    )


def fitted_model_input(
    enriched: pd.DataFrame,
    vocabulary: VocabularyParams,
    crosses: CrossParams,
    stats: TargetStatParams,
    tables: dict[str, pd.DataFrame] | None = None,
    browse_length: int = 8,
) -> tuple[dict[str, Vocabulary], pd.DataFrame]:
    """Vocabularies fitted on the train split and the model input of every row, as the pipeline does.

    With the raw ``tables`` the rows also get the browsing affinity features.
    """
    train = enriched.loc[enriched["split"] == TRAIN]
    vocabularies = fit_vocabularies(train, vocabulary.columns, vocabulary.min_count)
    features = model_input(
        enriched,
        vocabularies,
        crosses.pairs,
        crosses.n_hash_buckets,
        stats.keys,
        stats.smoothing_strength,
        stats.initial_prior_ctr,
    )
    if tables is not None:
        sequences = browse_sequences(tables["requests"], tables["user_events"], vocabularies["category"], browse_length)
        features = with_browse_affinity(features, sequences, browse_length)
    return vocabularies, features
