"""One simulated day of serving: each request's candidates, the slots a model fills, and what the world does.

A request gets ``candidates`` ads drawn at random from the ads live that day; a model ranks them by predicted
CTR x bid (the auction's order) into the request's slots. The simulator's ground truth gives every shown ad's
true click probability, from which clicks are drawn and expected clicks and advertiser value computed; the
oracle ranks by the true probability. The truth serves as the world's response and as the judge, never as a
model input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.lifecycle.model import Vocabularies
from adrank_pipelines.marketplace import Context, GroundTruth, MarketplaceTables

Scorer = Callable[[pd.DataFrame], np.ndarray]


@dataclass(frozen=True)
class DayTraffic:
    """A day's requests (time order) and their candidates: ``ad_rows`` and ``features`` are request-major,
    ``candidates`` per request."""

    day: int
    requests: pd.DataFrame
    ad_rows: np.ndarray  # (requests, candidates) rows of the ads table
    features: pd.DataFrame  # the model's features of every candidate, scored for the top slot
    candidates: int

    @property
    def minutes(self) -> np.ndarray:
        """Minutes since the day's midnight of each request."""
        start = pd.Timestamp(self.requests["event_time"].iloc[0]).normalize()
        return np.asarray((self.requests["event_time"] - start) / pd.Timedelta(minutes=1))


@dataclass(frozen=True)
class Served:
    """What one model's ranking shows on every request of a day: per request, the expected clicks and
    advertiser value under the truth, the drawn clicks and the impressions."""

    expected_clicks: np.ndarray
    expected_value: np.ndarray
    clicks: np.ndarray
    impressions: np.ndarray


def day_traffic(
    world: MarketplaceTables, vocabularies: Vocabularies, day: int, candidates: int, seed: int
) -> DayTraffic:
    requests = world.requests.loc[world.requests["day"] == day].reset_index(drop=True)
    if requests.empty:
        raise ValueError(f"day {day} has no requests in the lifecycle world")
    live = np.flatnonzero(world.ads["first_day"].to_numpy() <= day)
    rng = np.random.default_rng([seed, day])
    ad_rows = live[rng.integers(0, len(live), (len(requests), candidates))]
    users = world.users.set_index("user_id").loc[requests["user_id"], ["country", "age_bucket", "platform"]]
    repeated = np.repeat(np.arange(len(requests)), candidates)
    rows = pd.DataFrame(
        {
            "country": users["country"].to_numpy()[repeated],
            "age_bucket": users["age_bucket"].to_numpy()[repeated],
            "user_platform": users["platform"].to_numpy()[repeated],
            "platform": requests["platform"].to_numpy()[repeated],
            "placement": requests["placement"].to_numpy()[repeated],
            "category": world.ads["category"].to_numpy()[ad_rows.ravel()],
            "ad_id": world.ads["ad_id"].to_numpy()[ad_rows.ravel()],
            "hour": requests["hour"].to_numpy()[repeated],
            "position": 1,
        }
    )
    return DayTraffic(day, requests, ad_rows, vocabularies.encode(rows), candidates)


def logged_rows(world: MarketplaceTables, days: list[int]) -> pd.DataFrame:
    """The logged impressions of ``days`` with the user's and the ad's public columns (a model's training rows)."""
    impressions = world.impressions.loc[world.impressions["day"].isin(days)]
    users = world.users[["user_id", "country", "age_bucket", "platform"]].rename(columns={"platform": "user_platform"})
    return impressions.merge(users, on="user_id", how="left", validate="many_to_one").merge(
        world.ads[["ad_id", "category"]], on="ad_id", how="left", validate="many_to_one"
    )


class DayJudge:
    """The ground truth of one day's traffic: serves a score matrix and draws what the world does."""

    def __init__(self, world: MarketplaceTables, truth: GroundTruth, traffic: DayTraffic, seed: int) -> None:
        self._traffic = traffic
        ads = world.ads.iloc[traffic.ad_rows.ravel()]
        self._ad_id = ads["ad_id"].to_numpy().reshape(traffic.ad_rows.shape)
        self._bid = ads["bid"].to_numpy().reshape(traffic.ad_rows.shape)
        value = world.advertisers.set_index("advertiser_id").loc[ads["advertiser_id"], "value_per_click"]
        self._value = value.to_numpy().reshape(traffic.ad_rows.shape)
        self._truth = truth
        self._seed = seed
        requests = traffic.requests
        self._slots = requests["n_slots"].to_numpy()
        self._context_columns = {name: requests[name].to_numpy() for name in ("hour", "day", "placement", "platform")}
        self._user_id = requests["user_id"].to_numpy()
        self._top_slot = self._true_ctr(np.repeat(np.arange(len(requests)), traffic.candidates), self._ad_id.ravel(), 1)

    def _true_ctr(self, request_index: np.ndarray, ad_id: np.ndarray, position: np.ndarray | int) -> np.ndarray:
        context = Context(
            position=np.broadcast_to(position, request_index.shape),
            **{name: values[request_index] for name, values in self._context_columns.items()},
        )
        return self._truth.click_probability(self._user_id[request_index], ad_id, context)

    def serve(self, scores: np.ndarray, draw: int) -> Served:
        """Fill each request's slots by ``scores`` (candidates in request-major order) x bid."""
        n_requests, n_candidates = self._traffic.ad_rows.shape[0], self._traffic.candidates
        ranked = np.argsort(-(scores.reshape(n_requests, n_candidates) * self._bid), axis=1, kind="stable")
        max_slots = min(int(self._slots.max()), n_candidates)
        position = np.broadcast_to(np.arange(1, max_slots + 1), (n_requests, max_slots))
        shown = position <= self._slots[:, None]
        request_index = np.broadcast_to(np.arange(n_requests)[:, None], shown.shape)[shown]
        chosen = ranked[:, :max_slots][shown]
        ctr = self._true_ctr(request_index, self._ad_id[request_index, chosen], position[shown])
        clicked = np.random.default_rng([self._seed, self._traffic.day, draw]).random(len(ctr)) < ctr
        return Served(
            expected_clicks=np.bincount(request_index, ctr, n_requests),
            expected_value=np.bincount(request_index, ctr * self._value[request_index, chosen], n_requests),
            clicks=np.bincount(request_index, clicked, n_requests).astype(np.int64),
            impressions=np.bincount(request_index, minlength=n_requests).astype(np.int64),
        )

    def oracle(self) -> Served:
        return self.serve(self._top_slot, draw=0)
