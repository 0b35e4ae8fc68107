"""Helpers of the service's API tests: an app over a ledger file of its own, request bodies, answer checks.

The apps keep their budget ledger in a temporary file of their own (``serving``), never the run
project's configured one, which apps built by ``build_app`` on the same project share.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from adrank_pipelines.serving.api import create_app
from adrank_pipelines.serving.engine import AdEngine
from adrank_pipelines.serving.main import engine_factory
from adrank_pipelines.serving.project import load_project
from adrank_pipelines.serving.state import OnlineState, open_state

ENV = "test"


def app_on(project: Path, state: OnlineState, *, seed: bool = True, serving_update: dict[str, Any] | None = None):
    """The app ``main.build_app`` builds for ``project``, over ``state`` (and ``serving_update``'s settings)."""

    def load():
        config = load_project(project, ENV)
        return dataclasses.replace(config, serving=config.serving.model_copy(update=serving_update or {}))

    return create_app(engine_factory(load, state, seed=seed), state)


@contextlib.contextmanager
def serving(project: Path, ledger: Path, **kwargs: Any) -> Iterator[TestClient]:
    """A started app on ``project`` whose embedded ledger is the file ``ledger``; 5xx come back as responses."""
    state = open_state(load_project(project, ENV).serving.state.model_copy(update={"budget_path": str(ledger)}))
    with TestClient(app_on(project, state, **kwargs), raise_server_exceptions=False) as client:
        yield client


def engine_of(client: TestClient) -> AdEngine:
    return client.app.state.runtime.engine  # type: ignore[attr-defined]


def table(project: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(project / "data" / "02_intermediate" / f"{name}.parquet")


def last_day_requests(project: Path, n: int) -> list[dict[str, Any]]:
    """Bodies of the first ``n`` logged requests of the last day (every launched ad is live then)."""
    requests = table(project, "validated_requests")
    rows = requests.loc[requests["event_time"].dt.normalize() == requests["event_time"].max().normalize()].head(n)
    return [
        {"request_id": int(row.request_id), "user_id": int(row.user_id), "timestamp": row.event_time.timestamp(),
         "placement": str(row.placement), "platform": str(row.platform), "n_slots": int(row.n_slots)}
        for row in rows.itertuples()
    ]  # fmt: skip


def post_ok(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def error_locs(response: Any) -> list[str]:
    """The 422's ``detail[*].loc`` after ``body``, dotted: ``events.1.ad_id`` whichever way it is split."""
    assert response.status_code == 422, (response.status_code, response.text)
    return [".".join(str(part) for part in error["loc"][1:]) for error in response.json()["detail"]]


def check_winners(answer: dict[str, Any], body: dict[str, Any], engine: AdEngine) -> None:
    """Slots 1..k (k <= n_slots), distinct ads, reserve <= price <= bid, pCTR in (0, 1)."""
    artifacts, winners = engine.artifacts, answer["winners"]
    assert answer["request_id"] == body["request_id"]
    assert [w["slot"] for w in winners] == list(range(1, len(winners) + 1))
    assert len(winners) <= body.get("n_slots", 1)
    assert len({w["ad_id"] for w in winners}) == len(winners)
    bids = dict(zip(artifacts.ad_ids_sorted.tolist(), artifacts.ad_bids.tolist(), strict=True))
    advertisers = dict(zip(artifacts.ad_ids_sorted.tolist(), artifacts.ad_advertisers.tolist(), strict=True))
    for winner in winners:
        assert artifacts.auction.rules.reserve_price - 1e-9 <= winner["price_per_click"] <= bids[winner["ad_id"]] + 1e-9
        assert 0.0 < winner["pctr"] < 1.0
        assert winner["advertiser_id"] == advertisers[winner["ad_id"]]
