"""Replay logged evaluation-day requests through the service's engine, with the logged events recorded first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from adrank_pipelines.serving.artifacts import load_artifacts
from adrank_pipelines.serving.engine import AdEngine, AdRequest, BatchTimings, RankedBatch
from adrank_pipelines.serving.history import epoch_seconds
from adrank_pipelines.serving.main import seed_profiles
from adrank_pipelines.serving.params import ServingParams
from adrank_pipelines.serving.project import load_project
from adrank_pipelines.serving.state import OnlineState, open_state
from adrank_pipelines.serving.state_params import OnlineStateParams
from adrank_pipelines.serving.user_profiles import EventKind, UserEvent


def replay_engine(project: Path, ledger: Path, pcvr_reference: float) -> AdEngine:
    """The engine of ``project``'s test environment on a fresh ledger, profiles seeded up to the snapshot,
    its quality score read against a fixed ``pcvr_reference``."""
    config = load_project(project, "test")
    auction = config.serving.auction.model_copy(update={"pcvr_reference": pcvr_reference})
    params: ServingParams = config.serving.model_copy(update={"auction": auction})
    state: OnlineState = open_state(
        OnlineStateParams(backend="embedded", budget_path=str(ledger), max_events=params.state.max_events)
    )
    seed_profiles(config, state.profiles)
    artifacts = load_artifacts(config.catalog, config.parameters, params)
    return AdEngine(artifacts, params, state)


def _day_events(project: Path, start: pd.Timestamp) -> pd.DataFrame:
    """The logged impressions (with clicks) and organic views from ``start`` on, in recording order."""
    impressions = pd.read_parquet(project / "data/03_primary/impressions_enriched.parquet")
    views = pd.read_parquet(project / "data/02_intermediate/validated_user_events.parquet")
    impressions = impressions.loc[impressions["event_time"] >= start].sort_values(
        ["event_time", "request_id", "position"], kind="stable"
    )
    views = views.loc[views["event_time"] >= start]
    frame = pd.concat(
        [
            impressions[["user_id", "ad_id", "category", "event_time", "click"]].assign(kind="impression"),
            views[["user_id", "category", "event_time"]].assign(kind="view", ad_id=0, click=0),
        ],
        ignore_index=True,
    )
    return frame.sort_values("event_time", kind="stable", ignore_index=True)


def replay(project: Path, engine: AdEngine, requests: pd.DataFrame, tier: str) -> Iterator[tuple[int, RankedBatch]]:
    """Each of ``requests`` (validated_requests rows, in time order) ranked by ``tier`` after every
    logged event before it has been recorded in its user's profile."""
    events = _day_events(project, engine.artifacts.snapshot.as_of)
    seconds = epoch_seconds(events["event_time"])
    recorded = 0
    for request in requests.itertuples(index=False):
        due = int(np.searchsorted(events["event_time"].to_numpy(), np.datetime64(request.event_time), side="left"))
        for row in range(recorded, due):
            event = events.iloc[row]
            kind = EventKind.VIEW if event["kind"] == "view" else EventKind.IMPRESSION
            engine.state.profiles.record(
                int(event["user_id"]), UserEvent(kind, int(event["ad_id"]), str(event["category"]), seconds[row])
            )
            if event["click"] == 1:
                engine.state.profiles.record(
                    int(event["user_id"]),
                    UserEvent(EventKind.CLICK, int(event["ad_id"]), str(event["category"]), seconds[row]),
                )
        recorded = max(recorded, due)
        served = AdRequest(
            int(request.request_id), int(request.user_id), float(epoch_seconds(pd.Series([request.event_time]))[0]),
            str(request.placement), str(request.platform), None, int(request.n_slots),
        )  # fmt: skip
        yield int(request.request_id), engine.rank([served], BatchTimings(), tier)
