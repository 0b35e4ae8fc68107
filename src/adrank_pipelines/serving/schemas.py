"""The HTTP contract of the ad service: request and response bodies (the OpenAPI schema is built from them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**63 - 1
# Epoch seconds between 1970 and 2100: anything else is a client's unit mistake, not a time.
MAX_TIMESTAMP = 4_102_444_800.0


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuctionRequestBody(_Body):
    request_id: int = Field(ge=0, le=MAX_ID)
    user_id: int = Field(ge=0, le=MAX_ID)
    timestamp: float = Field(ge=0, le=MAX_TIMESTAMP, description="epoch seconds (UTC); the hour is taken from it")
    placement: str = Field(min_length=1, max_length=64)
    platform: str = Field(min_length=1, max_length=64)
    country: str | None = Field(default=None, max_length=64, description="used for users the service does not know")
    n_slots: int = Field(default=1, ge=1, le=64, description="slots to fill, at most the configured positions")
    debug: bool = False


class WinnerBody(_Body):
    slot: int
    ad_id: int
    advertiser_id: int
    price_per_click: float
    pctr: float
    pcvr: float
    score: float


class DebugBody(_Body):
    candidates: int  # retrieved, before any pre-ranking cut
    known_user: bool
    batch_size: int
    queue_ms: float
    stage_ms: dict[str, float]


class AuctionResponseBody(_Body):
    request_id: int
    tier: str
    model: str
    mechanism: str
    winners: list[WinnerBody]
    debug: DebugBody | None = None


EventKindName = Literal["impression", "click", "conversion", "view"]


class EventBody(_Body):
    kind: EventKindName
    user_id: int = Field(ge=0, le=MAX_ID)
    timestamp: float = Field(ge=0, le=MAX_TIMESTAMP, description="epoch seconds of the impression / view")
    ad_id: int = Field(default=0, ge=0, le=MAX_ID, description="the ad of an impression, click or conversion")
    category: str | None = Field(default=None, max_length=64, description="the viewed category of a view")
    price_per_click: float | None = Field(default=None, ge=0, le=1e6, description="what a click is charged")


class EventsBody(_Body):
    events: list[EventBody] = Field(min_length=1, max_length=1000)


class ChargeBody(_Body):
    advertiser_id: int
    charged: bool
    spend: float
    budget: float


class EventsResponseBody(_Body):
    recorded: int
    charges: list[ChargeBody]
