"""The FastAPI app: ``/v1/auction``, ``/v1/events``, health, readiness, metrics and artifact reload.

Artifacts load before the server accepts connections (a missing one stops start-up with its name);
``/readyz`` and every ``/v1`` call answer 503 once shutdown has begun. Auction requests go through the dynamic
batcher: requests that arrive together are retrieved, featurised, scored and auctioned in one
call. A reload builds a new engine beside the old one and swaps it between batches: a batch in
flight finishes on the engine it started with, so no request is dropped. Shutdown drains the
batcher before closing the online state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adrank_pipelines.serving.batching import DynamicBatcher
from adrank_pipelines.serving.engine import AdEngine, AdRequest, AdResponse, BatchTimings
from adrank_pipelines.serving.metrics import ServiceMetrics
from adrank_pipelines.serving.schemas import (
    AuctionRequestBody,
    AuctionResponseBody,
    ChargeBody,
    DebugBody,
    EventsBody,
    EventsResponseBody,
    WinnerBody,
)
from adrank_pipelines.serving.state import OnlineState
from adrank_pipelines.serving.user_profiles import EventKind, UserEvent

logger = logging.getLogger("adrank_pipelines.serving")


@dataclass(frozen=True)
class _Scored:
    response: AdResponse
    timings: BatchTimings
    batch_size: int
    queued_at: float
    started_at: float


@dataclass(frozen=True)
class _Queued:
    request: AdRequest
    queued_at: float


# Builds (engine, its online state) from scratch; run in a worker thread at start-up and on reload.
EngineFactory = Callable[[], AdEngine]


def _freeze_long_lived() -> None:
    """Keep the garbage collector off the loaded artifacts and seeded profiles: millions of long-lived
    objects would make every full collection scan them all, a pause of the whole request path."""
    gc.collect()
    gc.freeze()


class ServiceRuntime:
    """The current engine, the batcher in front of it and the metrics; ``None`` engine until loaded."""

    def __init__(self, factory: EngineFactory, state: OnlineState) -> None:
        self.factory, self.state = factory, state
        self.engine: AdEngine | None = None
        self.metrics = ServiceMetrics()
        self.batcher: DynamicBatcher[_Queued, _Scored] | None = None
        self._reload_lock = asyncio.Lock()

    def _score(self, items: Sequence[_Queued]) -> list[_Scored]:
        engine = self.engine  # one engine per batch, even if a reload swaps it meanwhile
        assert engine is not None
        started = time.perf_counter()
        # The engine keys its tables by request id; clients' ids need not be unique within a batch,
        # so each request goes in under its position and comes back with its own id.
        positioned = [dataclasses.replace(item.request, request_id=row) for row, item in enumerate(items)]
        responses, timings = engine.serve(positioned)
        for stage, seconds in timings.seconds.items():
            self.metrics.stage.labels(stage).observe(seconds)
        self.metrics.batch_size.observe(len(items))
        return [
            _Scored(
                dataclasses.replace(response, request_id=item.request.request_id),
                timings,
                len(items),
                item.queued_at,
                started,
            )
            for response, item in zip(responses, items, strict=True)
        ]

    async def load(self) -> None:
        engine = await asyncio.to_thread(self.factory)
        _freeze_long_lived()
        self.engine = engine
        self.metrics.artifacts_loaded.set_to_current_time()
        self.batcher = DynamicBatcher(self._score, engine.params.batching)
        self.batcher.start()
        logger.info("ready: artifacts loaded, batching %s", engine.params.batching.model_dump())

    async def reload(self) -> None:
        async with self._reload_lock:
            engine = await asyncio.to_thread(self.factory)
            _freeze_long_lived()
            self.engine = engine
            self.metrics.artifacts_loaded.set_to_current_time()

    async def close(self) -> None:
        if self.batcher is not None:
            await self.batcher.stop()
        self.state.close()


def _json_safe(value: Any) -> Any:
    """``value`` with every non-finite float written as a string: JSON has no NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 naming each field at fault; the offending input is echoed JSON-safe (a NaN sent is shown as "nan")."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": _json_safe(jsonable_encoder(error.errors()))})


def _invalid(field: str, message: str, value: Any) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error", "input": value}])


def _check_request(engine: AdEngine, body: AuctionRequestBody) -> None:
    vocabularies = engine.artifacts.recipe.vocabularies
    for field in ("placement", "platform"):
        value = getattr(body, field)
        known = vocabularies[field].values
        if value not in known:
            raise _invalid(field, f"unknown {field} {value!r}; known: {sorted(known)}", value)
    slots = len(engine.artifacts.auction.rules.position_discounts)
    if body.n_slots > slots:
        raise _invalid(
            "n_slots", f"at most {slots} slots are configured (auction_eval.rules.position_discounts)", body.n_slots
        )


def _response_body(scored: _Scored, body: AuctionRequestBody) -> AuctionResponseBody:
    response = scored.response
    debug = None
    if body.debug:
        debug = DebugBody(
            candidates=response.n_candidates,
            known_user=response.known_user,
            batch_size=scored.batch_size,
            queue_ms=(scored.started_at - scored.queued_at) * 1e3,
            stage_ms={stage: seconds * 1e3 for stage, seconds in scored.timings.seconds.items()},
        )
    return AuctionResponseBody(
        request_id=response.request_id,
        tier=response.tier,
        model=response.model,
        mechanism=response.mechanism,
        winners=[WinnerBody(**vars(winner)) for winner in response.winners],
        debug=debug,
    )


def _events(engine: AdEngine, body: EventsBody) -> EventsResponseBody:
    """Record every event of the body, or none: the whole body is checked before anything is written."""
    artifacts = engine.artifacts
    resolved = []
    for position, event in enumerate(body.events):
        where = f"events.{position}"
        if event.kind == "view":
            if not event.category:
                raise _invalid(f"{where}.category", "a view needs the viewed category", event.category)
            resolved.append((event, 0, event.category, -1))
            continue
        row = int(artifacts.ad_rows(np.array([event.ad_id]))[0])
        if artifacts.ad_ids_sorted[row] != event.ad_id:
            raise _invalid(f"{where}.ad_id", f"unknown ad_id {event.ad_id}", event.ad_id)
        if event.kind == "click" and event.price_per_click is None:
            raise _invalid(f"{where}.price_per_click", "a click needs the price per click it is charged", None)
        resolved.append((event, event.ad_id, artifacts.ad_categories[row], int(artifacts.ad_advertisers[row])))
    charges = []
    for event, ad_id, category, advertiser in resolved:
        kind = EventKind(event.kind)
        engine.state.profiles.record(event.user_id, UserEvent(kind, ad_id, category, event.timestamp))
        if kind is EventKind.CLICK and event.price_per_click:
            result = engine.charge_click(advertiser, event.price_per_click, event.timestamp)
            charges.append(
                ChargeBody(
                    advertiser_id=advertiser,
                    charged=result.accepted,
                    spend=result.spend,
                    budget=engine.budget_of(advertiser),
                )
            )
    return EventsResponseBody(recorded=len(resolved), charges=charges)


def create_app(factory: EngineFactory, state: OnlineState) -> FastAPI:
    """The app over ``factory`` (builds the engine; called at start-up and on every reload)."""
    runtime = ServiceRuntime(factory, state)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Loaded before the server accepts a connection: a missing artifact stops start-up with its message.
        try:
            await runtime.load()
        except BaseException:
            runtime.state.close()
            raise
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(title="adrank ad service", version="1", lifespan=lifespan)
    app.state.runtime = runtime
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Any]) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        endpoint = request.url.path
        runtime.metrics.requests.labels(endpoint, str(response.status_code)).inc()
        runtime.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    def ready_engine() -> AdEngine:
        if runtime.engine is None or runtime.batcher is None or not runtime.batcher.running:
            raise HTTPException(status_code=503, detail="not ready: the service is starting or shutting down")
        return runtime.engine

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        ready_engine()
        return {"status": "ready"}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/auction", response_model=AuctionResponseBody)
    async def auction(body: AuctionRequestBody) -> AuctionResponseBody:
        engine = ready_engine()
        _check_request(engine, body)
        request = AdRequest(
            body.request_id, body.user_id, body.timestamp, body.placement, body.platform, body.country, body.n_slots
        )
        assert runtime.batcher is not None
        scored = await runtime.batcher.submit(_Queued(request, time.perf_counter()))
        runtime.metrics.tier.labels(scored.response.tier).inc()
        return _response_body(scored, body)

    # Not async: recording touches the ledger (SQLite or Redis), so it runs in the thread pool, never on the loop.
    @app.post("/v1/events", response_model=EventsResponseBody)
    def events(body: EventsBody) -> EventsResponseBody:
        engine = ready_engine()
        answer = _events(engine, body)
        for event in body.events:
            runtime.metrics.events.labels(event.kind).inc()
        return answer

    @app.post("/admin/reload")
    async def reload() -> dict[str, str]:
        ready_engine()
        try:
            await runtime.reload()
        except Exception as error:
            runtime.metrics.reloads.labels("failed").inc()
            raise HTTPException(
                status_code=503, detail=f"reload failed, still serving the loaded artifacts: {error}"
            ) from error
        runtime.metrics.reloads.labels("ok").inc()
        return {"status": "reloaded"}

    return app
