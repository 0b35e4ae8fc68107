"""pandera contracts of the raw marketplace tables (docs/data_contracts.md), one model per table.

They hold every rule a single table can check on its own; rules that join tables or need the
simulated time window live in ``integrity`` and ``time_window``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from adrank_pipelines.schemas.contract_model import (
    ClickLabels,
    ContractModel,
    TableContract,
    foreign_key,
    primary_key,
)

PLATFORMS = ("ios", "android", "web")
PLACEMENTS = ("feed", "sidebar", "search", "video")


class UsersSchema(ContractModel):
    user_id: Series[np.int64] = primary_key()
    country: Series[str]
    age_bucket: Series[str]
    platform: Series[str] = pa.Field(isin=PLATFORMS)
    activity: Series[np.float64] = pa.Field(gt=0)


class AdvertisersSchema(ContractModel):
    advertiser_id: Series[np.int64] = primary_key()
    brand: Series[str]
    category: Series[str]
    value_per_click: Series[np.float64] = pa.Field(gt=0)
    value_per_conversion: Series[np.float64] = pa.Field(gt=0)
    daily_budget: Series[np.float64] = pa.Field(gt=0)


class AdsSchema(ContractModel):
    ad_id: Series[np.int64] = primary_key()
    advertiser_id: Series[np.int64] = foreign_key()
    category: Series[str]
    title: Series[str] = pa.Field(str_length={"min_value": 1})
    description: Series[str] = pa.Field(str_length={"min_value": 1})
    bid: Series[np.float64] = pa.Field(gt=0)
    first_day: Series[np.int64] = pa.Field(ge=0)


class ServedContextSchema(ContractModel):
    """The request context that impressions copy from their request."""

    # pandera checks datetime64 without pinning the unit, so ns and pandas 3's default us both pass;
    # strings and tz-aware timestamps fail.
    event_time: Series[pd.Timestamp]
    day: Series[np.int64] = pa.Field(ge=0)
    hour: Series[np.int64] = pa.Field(in_range={"min_value": 0, "max_value": 23})
    placement: Series[str] = pa.Field(isin=PLACEMENTS)
    platform: Series[str] = pa.Field(isin=PLATFORMS)

    @pa.dataframe_check
    @classmethod
    def hour_equals_hour_of_event_time(cls, frame: pd.DataFrame) -> pd.Series[bool]:
        event_hour: pd.Series[int] = frame["event_time"].dt.hour
        return frame["hour"] == event_hour


class RequestsSchema(ServedContextSchema):
    request_id: Series[np.int64] = primary_key()
    user_id: Series[np.int64] = foreign_key()
    n_slots: Series[np.int64] = pa.Field(ge=1)


class ImpressionsSchema(ServedContextSchema, ClickLabels):
    impression_id: Series[np.int64] = primary_key()
    request_id: Series[np.int64] = foreign_key()
    user_id: Series[np.int64] = foreign_key()
    ad_id: Series[np.int64] = foreign_key()
    position: Series[np.int64] = pa.Field(ge=1)


class UserEventsSchema(TableContract):
    """Organic (non-ad) views; they may predate the ad log, so they carry no ``day``.

    The log may be empty: many ad platforms have no organic browsing data. The behaviour sequences
    then hold ad events only and the browsing affinity is 0 (README, "No browsing log").
    """

    user_id: Series[np.int64] = foreign_key()
    event_time: Series[pd.Timestamp]
    category: Series[str] = pa.Field(str_length={"min_value": 1})


RAW_TABLE_SCHEMAS: dict[str, type[TableContract]] = {
    "users": UsersSchema,
    "advertisers": AdvertisersSchema,
    "ads": AdsSchema,
    "requests": RequestsSchema,
    "impressions": ImpressionsSchema,
    "user_events": UserEventsSchema,
}
