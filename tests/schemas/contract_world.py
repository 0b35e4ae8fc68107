"""A tiny hand-built marketplace that keeps every contract of docs/data_contracts.md.

Two days, four users, two advertisers, four ads (ad 4 starts on day 1), 48 requests that fill
every slot. Clicks follow a fixed pattern whose CTR falls with the position (1/3, 1/4, 1/5), so
the Great Expectations suite passes under ``TINY_WORLD_THRESHOLDS``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.schemas.settings import ImpressionSuiteThresholds
from adrank_pipelines.schemas.time_window import ObservationWindow

WINDOW = ObservationWindow(start=pd.Timestamp("2026-01-05"), n_days=2)
N_REQUESTS = 48
PLACEMENT_SLOTS = {"feed": 3, "search": 3, "sidebar": 2}

TINY_WORLD_THRESHOLDS = ImpressionSuiteThresholds.model_validate(
    {
        "row_count": {"min": 10, "max": 10_000},
        "max_null_fraction": 0.0,
        "ctr": {"min": 0.05, "max": 0.5},
        "max_position": 3,
        "min_distinct_hours": 12,
        "ctr_by_position": {"min_impressions": 10, "mostly": 1.0},
    }
)


def _ids(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.int64)


def _str(values: list[str]) -> pd.Series:
    return pd.Series(values, dtype="str")


def make_users() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": _ids(4),
            "country": _str(["US", "GB", "DE", "US"]),
            "age_bucket": _str(["18-24", "25-34", "35-44", "55+"]),
            "platform": _str(["ios", "android", "web", "ios"]),
            "activity": [1.0, 0.5, 2.0, 1.5],
        }
    )


def make_advertisers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "advertiser_id": _ids(2),
            "brand": _str(["Acme", "Globex"]),
            "category": _str(["travel", "food"]),
            "value_per_click": [1.2, 0.8],
            "value_per_conversion": [40.0, 25.0],
            "daily_budget": [150.0, 90.0],
        }
    )


def make_ads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ad_id": _ids(4),
            "advertiser_id": np.array([1, 1, 2, 2], dtype=np.int64),
            "category": _str(["travel", "travel", "food", "food"]),
            "title": _str(["Cheap flights", "Beach weeks", "Pizza tonight", "Fresh salads"]),
            "description": _str(["Fly for less.", "Sun, sea, sand.", "Hot and fast.", "Green and quick."]),
            "bid": [0.5, 0.7, 0.3, 0.4],
            "first_day": np.array([0, 0, 0, 1], dtype=np.int64),
        }
    )


def make_requests() -> pd.DataFrame:
    request_id = _ids(N_REQUESTS)
    day = (request_id - 1) // (N_REQUESTS // WINDOW.n_days)
    hour = (request_id * 7) % 24
    placement = [list(PLACEMENT_SLOTS)[i % len(PLACEMENT_SLOTS)] for i in range(N_REQUESTS)]
    return pd.DataFrame(
        {
            "request_id": request_id,
            "user_id": (request_id % 4 + 1).astype(np.int64),
            "event_time": WINDOW.start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour * 60 + 13, unit="min"),
            "day": day.astype(np.int64),
            "hour": hour.astype(np.int64),
            "placement": _str(placement),
            "platform": _str(["ios", "android", "web"][i % 3] for i in range(N_REQUESTS)),
            "n_slots": np.array([PLACEMENT_SLOTS[p] for p in placement], dtype=np.int64),
        }
    )


def make_impressions(requests: pd.DataFrame) -> pd.DataFrame:
    shown = requests.loc[requests.index.repeat(requests["n_slots"])].reset_index(drop=True)
    position = (shown.groupby("request_id").cumcount() + 1).astype(np.int64)
    # Ads 1-3 serve from day 0; ad 4 only from its first day (1).
    rotation = shown["request_id"] + position
    ad_id = np.where(shown["day"] >= 1, rotation % 4 + 1, rotation % 3 + 1)
    click = (shown["request_id"] % (position + 2) == 0).astype(np.int8)
    conversion = (click.astype(bool) & (shown["request_id"] % 2 == 0)).astype(np.int8)
    return pd.DataFrame(
        {
            "impression_id": _ids(len(shown)),
            "request_id": shown["request_id"],
            "user_id": shown["user_id"],
            "ad_id": ad_id.astype(np.int64),
            "event_time": shown["event_time"],
            "day": shown["day"],
            "hour": shown["hour"],
            "placement": shown["placement"],
            "platform": shown["platform"],
            "position": position,
            "click": click,
            "conversion": conversion,
        }
    )


def make_ground_truth(users: pd.DataFrame, ads: pd.DataFrame, impressions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    n_impressions = len(impressions)
    return {
        "truth_impressions": pd.DataFrame(
            {
                "impression_id": impressions["impression_id"],
                "true_pctr": np.linspace(0.01, 0.3, n_impressions),
                "true_pcvr": np.linspace(0.05, 0.2, n_impressions),
            }
        ),
        "truth_users": pd.DataFrame({"user_id": users["user_id"], "propensity": 0.1, "interest_travel": 0.5}),
        "truth_ads": pd.DataFrame({"ad_id": ads["ad_id"], "quality": 0.7, "theme": _str(["a", "b", "c", "d"])}),
    }


def make_user_events() -> pd.DataFrame:
    """Two organic views per user, the first a day before the ad log starts (browsing predates it)."""
    users = np.repeat(_ids(4), 2)
    return pd.DataFrame(
        {
            "user_id": users,
            "event_time": WINDOW.start + pd.to_timedelta(np.tile([-20.0, 5.0], 4), unit="h"),
            "category": _str(["travel", "food"] * 4),
        }
    )


def make_world() -> dict[str, pd.DataFrame]:
    """Fresh raw and truth tables, keyed by their catalog names."""
    users, ads, requests = make_users(), make_ads(), make_requests()
    impressions = make_impressions(requests)
    return {
        "users": users,
        "advertisers": make_advertisers(),
        "ads": ads,
        "requests": requests,
        "impressions": impressions,
        "user_events": make_user_events(),
        **make_ground_truth(users, ads, impressions),
    }
