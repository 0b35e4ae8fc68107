"""The ad service's online state through its HTTP API: events, budgets, profiles, reload under traffic, workers.

Apps that record events get a ledger file of their own (``serving`` from test_api); the Redis case needs
a server named by ``ADRANK_TEST_REDIS_URL`` and is skipped without one.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adrank_pipelines.serving.batching_params import BatchingParams
from adrank_pipelines.serving.main import build_app
from adrank_pipelines.serving.schemas import MAX_ID
from adrank_pipelines.serving.state import open_state
from adrank_pipelines.serving.state_params import OnlineStateParams
from tests.serving.conftest import REDIS_URL_VARIABLE, _delete_keys
from tests.serving.service import ENV, app_on, engine_of, last_day_requests, post_ok, serving

pytestmark = pytest.mark.integration


AT = 1_768_003_200.0  # the start of the tiny world's last day (2026-01-10), the day last_day_requests serves
DAY = 86_400.0


def event(kind: str, user: int, ad: int = 0, price: float | None = None, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "user_id": user, "timestamp": AT, "ad_id": ad, "price_per_click": price, **fields}


def clicked(client: TestClient, user: int, ad: int, price: float, at: float = AT) -> dict[str, Any]:
    """Post one impression and its click at ``at``; the click's charge."""
    events = [event("impression", user, ad, timestamp=at), event("click", user, ad, price, timestamp=at)]
    answer = post_ok(client, "/v1/events", {"events": events})
    assert answer["recorded"] == 2 and len(answer["charges"]) == 1
    return answer["charges"][0]


def click_until_refused(client: TestClient, user: int, ad: int, price: float, budget: float) -> list[dict[str, Any]]:
    charges = [clicked(client, user, ad, price)]
    while charges[-1]["charged"]:
        assert len(charges) <= budget / price + 2, "charges are still accepted past the budget"
        charges.append(clicked(client, user, ad, price))
    return charges


def advertiser_of(client: TestClient, ad: int) -> int:
    artifacts = engine_of(client).artifacts
    return int(artifacts.ad_advertisers[artifacts.ad_rows([ad])[0]])


def fresh_user(client: TestClient, project: Path) -> int:
    """A known user with no recorded click (routed to the default tier)."""
    profiles = engine_of(client).state.profiles
    return next(
        int(body["user_id"])
        for body in last_day_requests(project, 500)
        if profiles.counters(body["user_id"]).clicks == 0
    )


def test_a_click_charges_the_advertiser_and_a_restart_loses_no_recorded_spend(project: Path, tmp_path: Path):
    ledger, user, price = tmp_path / "ledger.sqlite", last_day_requests(project, 1)[0]["user_id"], 1.25
    with serving(project, ledger) as client:
        ad = int(engine_of(client).artifacts.ad_ids_sorted[3])
        advertiser = advertiser_of(client, ad)
        budget = engine_of(client).budget_of(advertiser)
        charge = clicked(client, user, ad, price)
        assert charge == {"advertiser_id": advertiser, "charged": True, "spend": pytest.approx(price), "budget": budget}
    with serving(project, ledger) as client:  # a restart: a new app and state on the same ledger file
        assert engine_of(client).state.budget.spend(advertiser) == pytest.approx(price)
        assert clicked(client, user, ad, price)["spend"] == pytest.approx(2 * price)


def test_an_exhausted_budget_refuses_clicks_and_its_ads_stop_winning(project: Path, tmp_path: Path):
    with serving(project, tmp_path / "ledger.sqlite") as client:
        engine, bodies = engine_of(client), last_day_requests(project, 40)
        before = {body["request_id"]: post_ok(client, "/v1/auction", body)["winners"] for body in bodies}
        wins = Counter(winner["advertiser_id"] for winners in before.values() for winner in winners)
        advertiser = wins.most_common(1)[0][0]
        ad = next(w["ad_id"] for ws in before.values() for w in ws if w["advertiser_id"] == advertiser)
        # A price that does not divide the budget: the last accepted click overshoots it.
        budget = engine.budget_of(advertiser)
        price = budget / 24.5
        charges = click_until_refused(client, bodies[0]["user_id"], ad, price, budget)
        accepted = [charge for charge in charges if charge["charged"]]
        assert len(accepted) == 25 and charges[-1]["spend"] == accepted[-1]["spend"]
        spend = engine.state.budget.spend(advertiser)
        assert spend == pytest.approx(len(accepted) * price)
        assert budget <= spend <= budget + price
        assert not clicked(client, bodies[0]["user_id"], ad, price)["charged"]
        assert engine.state.budget.spend(advertiser) == spend

        for body in (body for body in bodies if advertiser in {w["advertiser_id"] for w in before[body["request_id"]]}):
            winners = post_ok(client, "/v1/auction", body)["winners"]
            assert winners, "other advertisers still win"
            assert advertiser not in {winner["advertiser_id"] for winner in winners}


def test_budgets_are_daily_a_later_day_starts_with_no_spend(project: Path, tmp_path: Path):
    ledger = tmp_path / "ledger.sqlite"
    with serving(project, ledger) as client:
        engine, body = engine_of(client), last_day_requests(project, 1)[0]
        ad = int(engine.artifacts.ad_ids_sorted[5])
        advertiser = advertiser_of(client, ad)
        budget = engine.budget_of(advertiser)
        click_until_refused(client, body["user_id"], ad, budget / 2.5, budget)
        # A late click of the day before changes nothing: the day already seen stays the budget day.
        assert not clicked(client, body["user_id"], ad, budget / 2.5, at=AT - DAY)["charged"]

        next_day = clicked(client, body["user_id"], ad, budget / 4, at=AT + DAY)
        assert next_day == {
            "advertiser_id": advertiser,
            "charged": True,
            "spend": pytest.approx(budget / 4),
            "budget": budget,
        }
        post_ok(client, "/v1/auction", {**body, "timestamp": body["timestamp"] + DAY})
        assert engine.state.budget.spends() == {advertiser: pytest.approx(budget / 4)}
    with serving(project, ledger) as client:  # a restart on the same day keeps that day's spend
        assert clicked(client, body["user_id"], ad, budget / 4, at=AT + DAY)["spend"] == pytest.approx(budget / 2)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"kind": "click", "ad_id": "unknown", "price_per_click": 1.0}, "ad_id"),
        ({"kind": "impression", "ad_id": "past the last"}, "ad_id"),
        ({"kind": "conversion"}, "ad_id"),  # ad_id defaults to 0, no ad's id
        ({"kind": "view"}, "category"),
        ({"kind": "view", "category": ""}, "category"),
        ({"kind": "click", "ad_id": "known"}, "price_per_click"),
    ],
)
def test_a_bad_event_answers_422_naming_it_and_records_nothing(
    client: TestClient, project: Path, bad: dict[str, Any], field: str
):
    engine, user = engine_of(client), last_day_requests(project, 3)[2]["user_id"]
    ads = engine.artifacts.ad_ids_sorted.tolist()
    gaps = sorted(set(range(ads[0], ads[-1])) - set(ads)) or [MAX_ID]
    ad_ids = {"known": ads[1], "unknown": gaps[0], "past the last": ads[-1] + 1}
    bad = {**event(bad["kind"], user), **bad, "ad_id": ad_ids.get(bad.get("ad_id"), bad.get("ad_id", 0))}
    good = [event("impression", user, ads[1]), event("click", user, ads[1], 2.0), event("view", user, category="x")]
    profile = (engine.state.profiles.recent(user), engine.state.profiles.counters(user))
    spends = engine.state.budget.spends()

    response = client.post("/v1/events", json={"events": [*good, bad]})
    assert response.status_code == 422, response.text
    assert [".".join(map(str, error["loc"][1:])) for error in response.json()["detail"]] == [f"events.3.{field}"]
    assert (engine.state.profiles.recent(user), engine.state.profiles.counters(user)) == profile
    assert engine.state.budget.spends() == spends


def test_clicks_move_a_user_to_the_high_value_tier(client: TestClient, project: Path):
    engine, routing = engine_of(client), engine_of(client).params.routing
    assert routing.high_value_tier is not None and routing.high_value_tier != routing.default_tier
    user = fresh_user(client, project)
    body = {**last_day_requests(project, 1)[0], "user_id": user}
    assert engine.tier_of(user) == routing.default_tier == post_ok(client, "/v1/auction", body)["tier"]
    ad = int(engine.artifacts.ad_ids_sorted[0])
    for click in range(routing.high_value_min_clicks):
        assert engine.tier_of(user) == routing.default_tier, f"after {click} click(s)"
        clicked(client, user, ad, 0.5)
    assert engine.tier_of(user) == routing.high_value_tier
    answer = post_ok(client, "/v1/auction", body)
    assert answer["tier"] == routing.high_value_tier
    assert answer["model"] == engine.params.tiers[routing.high_value_tier].model


def test_a_reload_under_traffic_drops_no_request(project: Path):
    bodies = [{**body, "request_id": 10_000 + i} for i, body in enumerate(last_day_requests(project, 100))]
    finished: list[float] = []
    twenty_done = threading.Event()

    def auction(client: TestClient, body: dict[str, Any]) -> int:
        status = client.post("/v1/auction", json=body).status_code
        finished.append(time.perf_counter())
        if len(finished) >= 20:
            twenty_done.set()
        return status

    def reload(client: TestClient) -> tuple[int, float, float]:
        assert twenty_done.wait(timeout=120)
        started = time.perf_counter()
        return client.post("/admin/reload").status_code, started, time.perf_counter()

    # build_app's own factory (the project reloaded from disk); auctions record nothing in its ledger.
    with TestClient(build_app(project, ENV), raise_server_exceptions=False) as client, ThreadPoolExecutor(5) as pool:
        engine_before = engine_of(client)
        reloading = pool.submit(reload, client)
        statuses = list(pool.map(lambda body: auction(client, body), bodies))
        reload_status, reload_started, reload_finished = reloading.result()
        assert engine_of(client) is not engine_before
    assert reload_status == 200
    assert statuses == [200] * len(bodies)
    assert any(reload_started < at < reload_finished for at in finished), "no request was answered during the reload"


def test_requests_sharing_a_request_id_in_one_batch_are_each_answered(project: Path, tmp_path: Path):
    bodies = last_day_requests(project, 6)
    bodies = [{**body, "request_id": 7 if i < 3 else body["request_id"]} for i, body in enumerate(bodies)]
    batching = {"batching": BatchingParams(max_batch_size=32, max_wait_ms=1000.0)}  # all six in one batch
    with serving(project, tmp_path / "ledger.sqlite", serving_update=batching) as client, ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda body: client.post("/v1/auction", json=body), bodies))
    assert [response.status_code for response in responses] == [200] * len(bodies)
    assert [response.json()["request_id"] for response in responses] == [body["request_id"] for body in bodies]


@pytest.fixture
def redis_state_params() -> Iterator[OnlineStateParams]:
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        pytest.skip(f"{REDIS_URL_VARIABLE} is not set: no Redis server to test against")
    prefix = f"adrank-api-test-{uuid.uuid4().hex}"
    try:
        yield OnlineStateParams(backend="redis", redis_url=url, key_prefix=prefix)
    finally:
        _delete_keys(url, prefix)


def test_two_workers_on_redis_overspend_by_at_most_one_click_each(project: Path, redis_state_params: OnlineStateParams):
    apps = [app_on(project, open_state(redis_state_params), seed=False) for _ in range(2)]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second, ThreadPoolExecutor(2) as pool:
        ad = int(engine_of(first).artifacts.ad_ids_sorted[0])
        advertiser = advertiser_of(first, ad)
        budget = engine_of(first).budget_of(advertiser)
        price = budget / 30.5
        barrier = threading.Barrier(2)

        def worker(client: TestClient) -> list[dict[str, Any]]:
            barrier.wait(timeout=60)
            return click_until_refused(client, 1, ad, price, budget)

        charges = [charge for worker_charges in pool.map(worker, (first, second)) for charge in worker_charges]
        spend = engine_of(second).state.budget.spend(advertiser)
    accepted = sum(charge["charged"] for charge in charges)
    assert spend == pytest.approx(accepted * price)  # no charge lost between the workers
    assert budget <= spend <= budget + 2 * price
