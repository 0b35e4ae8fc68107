"""The ad service's HTTP contract, on the artifacts of one default run of the tiny ``conf/test`` world.

The apps keep their budget ledger in a temporary file of their own (``tests/serving/service.py``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from adrank_pipelines.serving import schemas
from adrank_pipelines.serving.artifacts import MissingArtifactError
from adrank_pipelines.serving.engine import STAGES
from adrank_pipelines.serving.main import build_app
from tests.serving.service import ENV, check_winners, engine_of, error_locs, last_day_requests, post_ok, serving, table

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=150, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip


# -- /v1/auction --------------------------------------------------------------------------------------
def test_auction_answers_winners_in_slot_order_priced_between_reserve_and_bid(client: TestClient, project: Path):
    engine = engine_of(client)
    answers = [(body, post_ok(client, "/v1/auction", body)) for body in last_day_requests(project, 16)]
    for body, answer in answers:
        check_winners(answer, body, engine)
        assert answer["debug"] is None and answer["mechanism"] == engine.params.auction.mechanism
        assert answer["model"] == engine.params.tiers[answer["tier"]].model
    assert max(len(answer["winners"]) for _, answer in answers) > 1  # several slots were filled somewhere


def test_each_tier_scores_its_model_and_the_pcvr_model_only(client: TestClient):
    scorers = engine_of(client).artifacts.scorers
    # The service loads both tiers' models; the transformer tier (its own pCVR) need not run LightGBM.
    assert scorers["transformer"].scored_models == ["transformer"]
    assert sorted(scorers["lightgbm"].scored_models) == ["lightgbm", "transformer"]


def test_debug_adds_stage_timings_and_the_retrieved_candidate_count(client: TestClient, project: Path):
    body = {**last_day_requests(project, 1)[0], "debug": True}
    debug = post_ok(client, "/v1/auction", body)["debug"]
    assert set(STAGES) <= debug["stage_ms"].keys()
    assert all(ms >= 0.0 for ms in debug["stage_ms"].values())
    assert debug["candidates"] == engine_of(client).artifacts.indexing.top_k
    assert debug["known_user"] is True and debug["batch_size"] >= 1 and debug["queue_ms"] >= 0.0


ABOVE_POSITIONS, MISSING = object(), object()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("placement", "billboard"), ("platform", "fax"), ("n_slots", ABOVE_POSITIONS), ("n_slots", 0),
        ("user_id", -1), ("user_id", schemas.MAX_ID + 1), ("timestamp", MISSING), ("timestamp", -1.0),
        ("timestamp", schemas.MAX_TIMESTAMP * 1000), ("request_id", "twelve"), ("n_slots", [2]), ("debug", {"on": 1}),
        ("placement", ""), ("country", "x" * 65), ("surprise", 1),
    ],
)  # fmt: skip
def test_a_bad_auction_field_answers_422_naming_it(client: TestClient, project: Path, field: str, value: Any):
    body = last_day_requests(project, 1)[0]
    if value is MISSING:
        del body[field]
    else:
        positions = len(engine_of(client).artifacts.auction.rules.position_discounts)
        body[field] = positions + 1 if value is ABOVE_POSITIONS else value
    assert field in error_locs(client.post("/v1/auction", json=body))


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b'"a string"'])
def test_a_body_that_is_no_json_object_answers_422(client: TestClient, content: bytes):
    response = client.post("/v1/auction", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert all(error["loc"][0] == "body" for error in response.json()["detail"])


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize(("path", "field"), [("/v1/auction", "timestamp"), ("/v1/events", "events.0.price_per_click")])
def test_a_non_finite_number_answers_422(client: TestClient, project: Path, number: str, path: str, field: str):
    request = last_day_requests(project, 1)[0]
    if path == "/v1/auction":
        body = {**request, "timestamp": "@"}
    else:
        event = {"kind": "click", "user_id": request["user_id"], "timestamp": request["timestamp"]}
        ad = int(engine_of(client).artifacts.ad_ids_sorted[0])
        body = {"events": [{**event, "ad_id": ad, "price_per_click": "@"}]}
    content = json.dumps(body).replace('"@"', number)
    assert field in error_locs(client.post(path, content=content, headers={"content-type": "application/json"}))


def test_an_unknown_user_takes_the_cold_path_with_the_body_country(client: TestClient, project: Path):
    engine = engine_of(client)
    unknown = int(table(project, "validated_users")["user_id"].max()) + 1000
    body = {**last_day_requests(project, 1)[0], "user_id": unknown, "debug": True}
    countries = [*engine.artifacts.recipe.vocabularies["country"].values, "ZZ", None]
    answers = {country: post_ok(client, "/v1/auction", {**body, "country": country}) for country in countries}
    for answer in answers.values():
        assert answer["debug"]["known_user"] is False and answer["tier"] == engine.params.routing.default_tier
        assert answer["winners"]
        check_winners(answer, body, engine)

    def scores(answer: dict[str, Any]) -> tuple[tuple[int, float], ...]:
        return tuple((w["ad_id"], round(w["pctr"], 9)) for w in answer["winners"])

    # The body's country is the cold user's country: it changes the ranking, and the same one answers the same.
    assert len({scores(answers[country]) for country in countries}) > 1
    assert scores(post_ok(client, "/v1/auction", {**body, "country": countries[0]})) == scores(answers[countries[0]])


# -- fuzzing -----------------------------------------------------------------------------------------
# Finite numbers only: non-finite ones are the known 500 of test_a_non_finite_number_answers_422.
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
) | st.sampled_from([-1, 0, schemas.MAX_ID, schemas.MAX_ID + 1, 2**64, -(2**63), 10**40, 1e308, -0.0, "", "1"])


@st.composite
def mutated(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]], most: int = 3) -> dict[str, Any]:
    """A valid body of ``fields``, then up to ``most`` mutations: a field dropped, made junk or an unknown one added."""
    body = {name: draw(strategy) for name, strategy in fields.items()}
    for _ in range(draw(st.integers(0, most))):
        name = draw(st.sampled_from([*fields, "unexpected"]))
        if draw(st.booleans()):
            body.pop(name, None)
        else:
            body[name] = draw(JUNK)
    return body


def check_answer(response: Any, model: type[BaseModel]) -> dict[str, Any]:
    event(f"HTTP {response.status_code}")
    assert response.status_code in (200, 422), (response.status_code, response.text[:2000])
    answer = response.json()
    if response.status_code == 422:
        assert all(error["loc"][0] == "body" for error in answer["detail"])
    else:
        model.model_validate(answer)
    return answer


@pytest.fixture(scope="module")
def world(client: TestClient, project: Path) -> dict[str, list[Any]]:
    """What valid fields draw from: the run's users, ads, categories, request times and vocabularies."""
    artifacts = engine_of(client).artifacts
    return {
        "users": table(project, "validated_users")["user_id"].tolist(), "ads": artifacts.ad_ids_sorted.tolist(),
        "categories": sorted(set(artifacts.ad_categories.tolist())),
        "timestamps": [request["timestamp"] for request in last_day_requests(project, 200)],
        "positions": len(artifacts.auction.rules.position_discounts),
        **{key: list(artifacts.recipe.vocabularies[key].values) for key in ("placement", "platform", "country")},
    }  # fmt: skip


def mostly(known: list[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Values of the run's tables three times in four, ``other`` (in range, mostly unknown) otherwise."""
    return st.one_of(*[st.sampled_from(known)] * 3, other)


def ids(known: list[int]) -> st.SearchStrategy[int]:
    return mostly(known, st.integers(0, schemas.MAX_ID))


def auction_fields(world: dict[str, Any]) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "request_id": st.integers(0, schemas.MAX_ID), "user_id": ids(world["users"]),
        "timestamp": mostly(world["timestamps"], st.floats(0, schemas.MAX_TIMESTAMP)),
        "placement": st.sampled_from(world["placement"]), "platform": st.sampled_from(world["platform"]),
        "country": st.none() | st.sampled_from(world["country"]) | st.text(max_size=64),
        "n_slots": st.integers(1, world["positions"]), "debug": st.booleans(),
    }  # fmt: skip


@pytest.fixture(scope="module")
def events_client(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app of its own: fuzzed clicks spend budgets and fuzzed events fill profiles."""
    with serving(project, tmp_path_factory.mktemp("events") / "ledger.sqlite") as started:
        yield started


def parsed(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as the service read it (lax coercions included)."""
    return model.model_validate_json(json.dumps(body)).model_dump()


@FUZZ
@given(data=st.data())
def test_fuzzed_auction_bodies_answer_200_or_422(client: TestClient, world: dict[str, Any], data: st.DataObject):
    body = data.draw(mutated(auction_fields(world)))
    answer = check_answer(client.post("/v1/auction", json=body), schemas.AuctionResponseBody)
    if "winners" in answer:
        check_winners(answer, parsed(schemas.AuctionRequestBody, body), engine_of(client))


@FUZZ
@given(data=st.data())
def test_fuzzed_event_bodies_answer_200_or_422(
    events_client: TestClient, project: Path, world: dict[str, Any], data: st.DataObject
):
    one_event = mutated({
        "kind": st.sampled_from(["impression", "click", "conversion", "view"]), "user_id": ids(world["users"]),
        "timestamp": mostly(world["timestamps"], st.floats(0, schemas.MAX_TIMESTAMP)), "ad_id": ids(world["ads"]),
        "category": mostly(world["categories"], st.none() | st.text(max_size=64)),
        "price_per_click": st.one_of(*[st.floats(0, 1e6)] * 3, st.none()),
    }, most=1)  # fmt: skip
    body = data.draw(mutated({"events": st.lists(one_event, min_size=1, max_size=4)}, most=1))
    answer = check_answer(events_client.post("/v1/events", json=body), schemas.EventsResponseBody)
    if "recorded" in answer:  # what was recorded must not break the next auction of those users
        request = {**last_day_requests(project, 1)[0], "debug": True}
        for user in {recorded["user_id"] for recorded in parsed(schemas.EventsBody, body)["events"]}:
            answer = post_ok(events_client, "/v1/auction", {**request, "user_id": user})
            check_winners(answer, request, engine_of(events_client))


# -- health, readiness, metrics, start-up ------------------------------------------------------------
def test_health_readiness_and_prometheus_metrics(client: TestClient, project: Path):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    post_ok(client, "/v1/auction", last_day_requests(project, 1)[0])
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "adrank_requests_total" in response.text and "adrank_stage_seconds_bucket" in response.text
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples[("adrank_requests_total", (("endpoint", "/v1/auction"), ("status", "200")))] >= 1
    for stage in STAGES:
        assert samples[("adrank_stage_seconds_count", (("stage", stage),))] >= 1


def test_a_missing_artifact_fails_start_up_naming_the_entry_and_its_pipeline(project: Path, tmp_path: Path):
    copy = tmp_path / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("budget_ledger.sqlite*"))
    (copy / "data" / "05_model_input" / "statistics_snapshots.pkl").unlink()
    app = build_app(copy, ENV)
    with pytest.raises(MissingArtifactError) as error, TestClient(app):
        pass
    assert "'statistics_snapshots'" in str(error.value) and "--pipeline features" in str(error.value)
