"""The request path: a batch of ad requests in, each one's auction winners out.

Every step is the batch pipelines' own function on the service's inputs: the query row is built by
``query_features`` and embedded by the two-tower model's user tower (indexing), the top-K eligible
ads come from ``retrieve_candidates`` (indexing), candidate features, scores and the objective come
from ``rank_candidates`` (ranking), and the winners and prices from the mechanism kernel ``clear``
(auction_eval). Only what a live request needs is the service's own: its behaviour sequences come
from the users' profiles, eligibility reads the budgets' live spend, and the bid multipliers come
from the online pacing controller.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from adrank_pipelines.auction.mechanisms import clear, eligible, quality_score
from adrank_pipelines.features.candidates import CandidateSides, query_features, request_side
from adrank_pipelines.ranking.candidates import cap_per_request
from adrank_pipelines.ranking.rank import rank_candidates
from adrank_pipelines.retrieval.eligibility import CONTEXT_COLUMNS, with_remaining_budget
from adrank_pipelines.retrieval.index import use_threads
from adrank_pipelines.retrieval.retrieve import retrieve_candidates
from adrank_pipelines.retrieval.towers import user_tower_vectors
from adrank_pipelines.retrieval.vectors import indexed_query_vectors
from adrank_pipelines.serving.artifacts import ServingArtifacts
from adrank_pipelines.serving.budget_ledger import ChargeResult
from adrank_pipelines.serving.history import request_sequences, timestamps
from adrank_pipelines.serving.pacing import OnlinePacing
from adrank_pipelines.serving.params import ServingParams
from adrank_pipelines.serving.state import OnlineState

STAGES = ("profiles", "query", "retrieval", "ranking", "auction")


@dataclass(frozen=True)
class AdRequest:
    """One ad request: who, when (epoch seconds) and where; ``country`` is used for unknown users."""

    request_id: int
    user_id: int
    timestamp: float
    placement: str
    platform: str
    country: str | None = None
    n_slots: int = 1


@dataclass(frozen=True)
class Winner:
    slot: int  # 1 = the top slot
    ad_id: int
    advertiser_id: int
    price_per_click: float
    pctr: float  # calibrated, as ranked
    pcvr: float
    score: float  # the multi-objective ranking score


@dataclass(frozen=True)
class AdResponse:
    request_id: int
    tier: str
    model: str
    mechanism: str
    winners: list[Winner]
    n_candidates: int  # candidates retrieved (before any pre-ranking cut)
    known_user: bool


@dataclass
class BatchTimings:
    """Seconds spent per stage on one batch; every request of the batch shares them."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def timed(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] += now - started
        return now


@dataclass(frozen=True)
class RankedBatch:
    """A batch of requests after retrieval and ranking: what the auction reads, and what a replay compares."""

    frame: pd.DataFrame  # one row per request, in request order
    sequences: pd.DataFrame  # their behaviour-sequence rows, from the profiles
    candidates: pd.DataFrame  # retrieved, as retrieve_candidates writes them
    tiers: list[str]  # per request
    ranked: dict[str, pd.DataFrame]  # per tier, as rank_candidates writes ranked_candidates


class AdEngine:
    """Answers batches of :class:`AdRequest` with one set of loaded artifacts and the shared online state."""

    def __init__(self, artifacts: ServingArtifacts, params: ServingParams, state: OnlineState) -> None:
        self.artifacts, self.params, self.state = artifacts, params, state
        self.mechanism = artifacts.auction.mechanisms[params.auction.mechanism]
        self.pacing = OnlinePacing(
            artifacts.advertisers["advertiser_id"].to_numpy(dtype=np.int64),
            artifacts.advertisers["daily_budget"].to_numpy(dtype=np.float64) * params.auction.budget_scale,
            artifacts.auction.pacing,
            state.budget,
        )

    def budget_of(self, advertiser_id: int) -> float:
        return self.pacing.budget_of(advertiser_id)

    def charge_click(self, advertiser_id: int, price: float, timestamp: float) -> ChargeResult:
        """Charge a click at ``timestamp`` (epoch seconds) against its day's budget of the advertiser."""
        self.pacing.start_day_of(pd.Timestamp(timestamps([timestamp]).iloc[0]))
        return self.state.budget.charge(advertiser_id, price, self.budget_of(advertiser_id))

    def tier_of(self, user_id: int) -> str:
        routing = self.params.routing
        if (
            routing.high_value_tier is not None
            and self.state.profiles.counters(user_id).clicks >= routing.high_value_min_clicks
        ):
            return routing.high_value_tier
        return routing.default_tier

    def rank(self, requests: Sequence[AdRequest], timings: BatchTimings, tier: str | None = None) -> RankedBatch:
        """Retrieve and rank the candidates of ``requests``, each with its routed tier (or ``tier`` for all)."""
        use_threads(self.params.num_threads)
        torch.set_num_threads(self.params.num_threads)
        started = time.perf_counter()
        frame = self._request_frame(requests)
        histories = {user: self.state.profiles.recent(user) for user in frame["user_id"].unique().tolist()}
        sequences = request_sequences(frame, histories, self.artifacts.category_vocabulary, *self.artifacts.lengths)
        tiers = [tier or self.tier_of(int(user)) for user in frame["user_id"]]
        timings.timed("profiles", started)

        # One request side per slot the batch is featurised for (the query's and the candidates' slots).
        positions = {self.artifacts.indexing.query_position, self.artifacts.ranking.reference_position}
        sides = {position: self._sides(frame, sequences, position) for position in positions}
        candidates = self._retrieve(sides[self.artifacts.indexing.query_position], timings)
        started = time.perf_counter()
        ranked = {}
        for name in dict.fromkeys(tiers):
            ids = frame.loc[[t == name for t in tiers], "request_id"].to_numpy()
            tier_candidates = candidates.loc[candidates["request_id"].isin(ids)]
            ranked[name] = self._rank(name, sides[self.artifacts.ranking.reference_position], tier_candidates)
        timings.timed("ranking", started)
        return RankedBatch(frame, sequences, candidates, tiers, ranked)

    def serve(self, requests: Sequence[AdRequest]) -> tuple[list[AdResponse], BatchTimings]:
        """The responses in request order and the batch's stage timings."""
        timings = BatchTimings()
        if not requests:
            return [], timings
        batch = self.rank(requests, timings)
        started = time.perf_counter()
        responses = self.auction(batch)
        timings.timed("auction", started)
        return responses, timings

    def auction(self, batch: RankedBatch) -> list[AdResponse]:
        """Each request's auction over its tier's ranking, in the batch's request order."""
        retrieved = batch.candidates.groupby("request_id").size()
        responses: dict[int, AdResponse] = {}
        for tier, ranked in batch.ranked.items():
            rows = [t == tier for t in batch.tiers]
            for response in self._auction(tier, batch.frame.loc[rows], ranked, retrieved):
                responses[response.request_id] = response
        return [responses[int(request_id)] for request_id in batch.frame["request_id"]]

    # -- the stages --------------------------------------------------------------------------------
    def _request_frame(self, requests: Sequence[AdRequest]) -> pd.DataFrame:
        times = timestamps(r.timestamp for r in requests)
        snapshot_date = self.artifacts.snapshot.as_of.normalize()
        return pd.DataFrame(
            {
                "request_id": np.array([r.request_id for r in requests], dtype=np.int64),
                "user_id": np.array([r.user_id for r in requests], dtype=np.int64),
                "event_time": times,
                "day": (self.artifacts.snapshot_day + (times.dt.normalize() - snapshot_date).dt.days).astype(np.int64),
                "hour": times.dt.hour.astype(np.int64),
                "placement": [r.placement for r in requests],
                "platform": [r.platform for r in requests],
                "context_country": [r.country for r in requests],
                "n_slots": np.array([r.n_slots for r in requests], dtype=np.int64),
            }
        )

    def _users(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The users of the batch: known ones as the users table has them, unknown ones (the cold-user
        path) with the request's country and platform and no other attribute."""
        rows = self.artifacts.user_rows(frame["user_id"].to_numpy())
        known = self.artifacts.users.iloc[np.unique(rows[rows >= 0])]
        unknown = frame.loc[rows < 0].drop_duplicates("user_id")
        cold = pd.DataFrame(
            {"user_id": unknown["user_id"], "country": unknown["context_country"], "platform": unknown["platform"]}
        )
        return pd.concat([known, cold], ignore_index=True) if len(cold) else known

    def _sides(self, frame: pd.DataFrame, sequences: pd.DataFrame, position: int) -> CandidateSides:
        side = request_side(frame, self._users(frame), position)
        return CandidateSides(requests=side, ads=self.artifacts.ad_side, sequences=sequences)

    def _retrieve(self, sides: CandidateSides, timings: BatchTimings) -> pd.DataFrame:
        artifacts, indexing = self.artifacts, self.artifacts.indexing
        started = time.perf_counter()
        statistics = artifacts.snapshot_lookup.for_requests(sides.requests)
        queries = query_features(sides, np.arange(len(sides.requests)), artifacts.recipe, statistics)
        vectors = user_tower_vectors(
            artifacts.retrieval_model.model,
            queries,
            sides.sequences,
            artifacts.ad_features,
            artifacts.retrieval_text,
            indexing.query_batch_size,
        )
        started = timings.timed("query", started)
        contexts = sides.requests.assign(country=sides.requests["country"].astype(object))[CONTEXT_COLUMNS]
        eligibility = with_remaining_budget(artifacts.eligibility, self.pacing.remaining_budgets(), indexing.budget)
        candidates = retrieve_candidates(
            artifacts.index,
            sides.requests["request_id"].to_numpy(),
            indexed_query_vectors(vectors, indexing.metric, indexing.bid_weight),
            contexts,
            eligibility,
            indexing.targeting,
            artifacts.ad_vectors,
            indexing.top_k,
            indexing.query_batch_size,
        )
        timings.timed("retrieval", started)
        return candidates

    def _rank(self, tier: str, sides: CandidateSides, candidates: pd.DataFrame) -> pd.DataFrame:
        """The tier's ranking of ``candidates``; ``sides`` holds every request of the batch."""
        artifacts, params = self.artifacts, self.params.tiers[tier]
        keep = params.prerank_keep if params.prerank_keep is not None else artifacts.ranking.max_per_request
        selected = cap_per_request(candidates, keep)
        day_statistics = {
            int(day): artifacts.snapshot_lookup.for_requests(sides.requests) for day in np.unique(sides.requests["day"])
        }
        outcome = rank_candidates(
            selected,
            sides,
            day_statistics,
            artifacts.recipe,
            artifacts.scorers[tier].with_sequences(sides.sequences),
            artifacts.objective,
            requests_per_batch=max(len(sides.requests), 1),
            keep_per_request=self.params.auction.candidates,
        )
        return outcome.ranked

    def _auction(self, tier: str, frame: pd.DataFrame, ranked: pd.DataFrame, retrieved: pd.Series) -> list[AdResponse]:
        """Each request's auction over its best ranked candidates, in ranking order, under the live pacing state."""
        artifacts, rules = self.artifacts, self.artifacts.auction.rules
        request_ids = frame["request_id"].to_numpy()
        width = max(int(ranked.groupby("request_id").size().max()) if len(ranked) else 0, 1)
        row_of = pd.Index(request_ids).get_indexer(ranked["request_id"])
        column = ranked["rank"].to_numpy()
        ad_ids = np.zeros((len(frame), width), dtype=np.int64)
        valid = np.zeros((len(frame), width), dtype=bool)
        arrays = {name: np.zeros((len(frame), width)) for name in ("pctr", "pcvr", "score", "bid")}
        ad_ids[row_of, column] = ranked["ad_id"].to_numpy()
        valid[row_of, column] = True
        for name in ("pctr", "pcvr", "score"):
            arrays[name][row_of, column] = ranked[name].to_numpy()
        ad_rows = artifacts.ad_rows(ad_ids)
        arrays["bid"] = np.where(valid, artifacts.ad_bids[ad_rows], 0.0)
        advertiser = np.where(valid, artifacts.ad_advertisers[ad_rows], -1)

        reference = self.params.auction.pcvr_reference
        if reference is None:
            counts = np.maximum(valid.sum(axis=1, keepdims=True), 1)
            reference_values = np.where(valid, arrays["pcvr"], 0.0).sum(axis=1, keepdims=True) / counts
            reference_values = np.where(reference_values > 0, reference_values, 1.0)
        quality = quality_score(
            arrays["pcvr"], rules.quality_score, reference if reference is not None else reference_values
        )
        in_market, multiplier = self.pacing.controls(advertiser, frame["event_time"])
        bid = arrays["bid"] * multiplier
        allowed = eligible(valid & in_market, bid, arrays["pctr"], quality, rules.min_quality, rules.reserve_price)
        discounts = np.asarray(rules.position_discounts)
        limit = self.mechanism.slot_limit
        n_columns = min(len(discounts), limit) if limit is not None else len(discounts)
        n_slots = np.minimum(frame["n_slots"].to_numpy(), n_columns)
        allocation = clear(
            self.mechanism.kind, bid, arrays["pctr"], quality, allowed, rules.reserve_price, n_slots,
            discounts[:n_columns],
        )  # fmt: skip
        model = self.params.tiers[tier].model
        responses = []
        for row, request_id in enumerate(request_ids):
            winners = [
                Winner(
                    slot=slot + 1,
                    ad_id=int(ad_ids[row, col]),
                    advertiser_id=int(advertiser[row, col]),
                    price_per_click=float(allocation.price[row, slot]),
                    pctr=float(arrays["pctr"][row, col]),
                    pcvr=float(arrays["pcvr"][row, col]),
                    score=float(arrays["score"][row, col]),
                )
                for slot, col in enumerate(allocation.winner[row])
                if col >= 0
            ]
            responses.append(
                AdResponse(
                    request_id=int(request_id),
                    tier=tier,
                    model=model,
                    mechanism=self.params.auction.mechanism,
                    winners=winners,
                    n_candidates=int(retrieved.get(request_id, 0)),
                    known_user=bool(artifacts.is_known_user(int(frame["user_id"].iloc[row]))),
                )
            )
        return responses
