"""Organic browsing: the content a user views outside ads, drawn from their true interests.

Ad platforms see far more organic behaviour (pages, videos, products viewed) than ad clicks, and
it is what reveals a user's individual interests. Without it, ~20 impressions per user cannot
reveal them and no model could approach the oracle (ADR 0001, revision 2). Events start
``history_days`` before the first logged day, as a platform's behaviour log would, and follow the
day's interests, so the drift window's interest shift shows in browsing too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.marketplace.config import MarketplaceConfig
from adrank_pipelines.marketplace.ground_truth import GroundTruth
from adrank_pipelines.marketplace.vocabulary import ALL_CATEGORIES

_SECONDS_PER_DAY = 86_400
# Events drawn per step: the interest matrix of a step is events x categories floats, so a 10x world
# (~48M views) would need ~9 GB at once.
_EVENTS_PER_CHUNK = 1_000_000


def _draw_categories(
    rng: np.random.Generator, truth: GroundTruth, user_rows: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Inverse-CDF draw of one category per event from that event's interest vector."""
    cumulative = np.cumsum(truth.interests(user_rows, day), axis=1)
    uniform = rng.random(len(user_rows))[:, None] * cumulative[:, -1:]
    categories: np.ndarray = np.minimum((cumulative < uniform).sum(axis=1), len(ALL_CATEGORIES) - 1)
    return categories


def simulate_browsing(config: MarketplaceConfig, users: pd.DataFrame, truth: GroundTruth) -> pd.DataFrame:
    """``user_id``, ``event_time``, ``category`` of every organic view, in time order.

    A generator of its own (seeded from the world's seed) keeps the rest of the world's draws
    unchanged when browsing is switched on or resized.
    """
    rng = np.random.default_rng([config.seed, 1])
    browsing = config.browsing
    span_days = browsing.history_days + config.total_days
    activity = users["activity"].to_numpy()
    mean_events = browsing.events_per_user * activity / activity.mean()
    counts = rng.poisson(mean_events)
    user_rows = np.repeat(np.arange(len(users)), counts)
    seconds = rng.integers(0, span_days * _SECONDS_PER_DAY, len(user_rows))
    day = seconds // _SECONDS_PER_DAY - browsing.history_days
    # One step even without events, so concatenate always has an array (an empty one) to join.
    starts = range(0, max(len(user_rows), 1), _EVENTS_PER_CHUNK)
    category = np.concatenate(
        [
            _draw_categories(rng, truth, user_rows[s : s + _EVENTS_PER_CHUNK], day[s : s + _EVENTS_PER_CHUNK])
            for s in starts
        ]
    )
    start = pd.Timestamp(config.start_date) - pd.Timedelta(days=browsing.history_days)
    events = pd.DataFrame(
        {
            "user_id": users["user_id"].to_numpy()[user_rows],
            "event_time": start + pd.to_timedelta(seconds, unit="s"),
            "category": pd.Series(
                pd.Categorical.from_codes(category, categories=pd.Index(list(ALL_CATEGORIES)))
            ).astype("str"),
        }
    )
    return events.sort_values(["event_time", "user_id"], kind="stable", ignore_index=True)
