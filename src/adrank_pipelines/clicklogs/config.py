"""Typed parameters of the click-log stages (``params:clicklog_columns``, ``params:clicklog_features``).

Kedro validates a node's ``params:`` inputs against these models, so a misspelt key or an
out-of-range value fails at start-up with its name in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from adrank_pipelines.features.params import CrossParams, TargetStatParams

# Names the parsed log gives its own columns; a mapped feature column may not take one.
IMPRESSION_ID, EVENT_TIME, CLICK = "impression_id", "event_time", "click"
# Derived from the time column when there is one, usable in crosses and target-statistic keys.
HOUR_OF_DAY = "hour_of_day"
RESERVED_COLUMNS = (IMPRESSION_ID, EVENT_TIME, CLICK, "conversion", "split", HOUR_OF_DAY)


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeColumn(_StrictModel):
    """The column holding each row's time: text in ``format`` (strptime or ISO8601), or epoch numbers."""

    column: str
    format: str = "ISO8601"  # Avazu's hour column is "%y%m%d%H" (14102100 = 2014-10-21 00:00)
    epoch_unit: Literal["s", "ms", "us", "ns"] | None = None  # set for Unix timestamps instead of format

    @model_validator(mode="after")
    def _one_way_to_read(self) -> Self:
        if self.epoch_unit is not None and "format" in self.model_fields_set:
            raise ValueError("set either clicklog_columns.time.format or clicklog_columns.time.epoch_unit, not both")
        return self


class ColumnMapping(_StrictModel):
    """Which column of the file is the label, the time, and which are categorical or numeric features.

    Columns not named here are dropped at ingest.
    """

    label: str
    time: TimeColumn | None = None  # without one the file's row order is its time order
    categorical: list[str] = Field(default_factory=list)
    numeric: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _roles_are_distinct(self) -> Self:
        if not (self.categorical or self.numeric):
            raise ValueError("clicklog_columns needs at least one categorical or numeric column")
        named = [self.label, *([self.time.column] if self.time else []), *self.categorical, *self.numeric]
        repeated = sorted({name for name in named if named.count(name) > 1})
        if repeated:
            raise ValueError(f"clicklog_columns names {repeated} more than once (a column has one role)")
        reserved = sorted(set(self.categorical + self.numeric) & set(RESERVED_COLUMNS))
        if reserved:
            raise ValueError(
                f"clicklog_columns.categorical / numeric use {reserved}, names the parsed log keeps for "
                f"itself {list(RESERVED_COLUMNS)}; rename those columns in the file"
            )
        return self

    @property
    def source_columns(self) -> list[str]:
        """Every column of the file the mapping reads, label first."""
        return [self.label, *([self.time.column] if self.time else []), *self.categorical, *self.numeric]

    @property
    def key_columns(self) -> list[str]:
        """Columns a cross or a target-statistic key may name: the categoricals, and the hour of day."""
        return [*self.categorical, *([HOUR_OF_DAY] if self.time else [])]


class TimeSplit(_StrictModel):
    """Whole days from the end of the log: the last ``test_days`` are test, the ``valid_days`` before valid."""

    method: Literal["time"]
    valid_days: PositiveInt = 1
    test_days: PositiveInt = 1


class RandomSplit(_StrictModel):
    """A seeded random share of the rows per evaluation split (for logs without a time column)."""

    method: Literal["random"]
    valid_fraction: float = Field(default=0.1, gt=0.0, lt=0.5)
    test_fraction: float = Field(default=0.1, gt=0.0, lt=0.5)
    seed: int = 42


_SPLIT_METHODS: dict[str, type[TimeSplit | RandomSplit]] = {"time": TimeSplit, "random": RandomSplit}
SPLITS_KEY = "clicklog_features.splits"
# How to switch an environment's split from the command line, sizes spelled out so they are easy to
# change; the model accepts it as is (the time split's own keys are dropped, see below).
RANDOM_SPLIT_OVERRIDE = "--params " + ",".join(
    [
        f"{SPLITS_KEY}.method=random",
        *(
            f"{SPLITS_KEY}.{size}={RandomSplit.model_fields[size].default}"
            for size in ("valid_fraction", "test_fraction")
        ),
    ]
)


def _keys_of_other_methods(method: object) -> set[str]:
    chosen = _SPLIT_METHODS.get(str(method))
    if chosen is None:
        return set()  # an unknown method is the discriminator's to report
    return {key for model in _SPLIT_METHODS.values() for key in model.model_fields} - set(chosen.model_fields)


class ClickLogFeatureParams(_StrictModel):
    """Splits, vocabularies, hashed crosses and past-only target statistics of a click log."""

    splits: Annotated[TimeSplit | RandomSplit, Field(discriminator="method")]
    min_count: PositiveInt = 2  # rarer values in the train split share the out-of-vocabulary index
    crosses: CrossParams
    target_stats: TargetStatParams

    @field_validator("splits", mode="before")
    @classmethod
    def _ignore_keys_of_other_methods(cls, splits: object) -> object:
        """``--params clicklog_features.splits.method=random`` merges into an environment's time split,
        and a merge cannot unset its ``valid_days`` / ``test_days``: the other method's keys are
        dropped instead of refused (any other unknown key still fails)."""
        if not isinstance(splits, Mapping) or "method" not in splits:
            return splits
        ignored = _keys_of_other_methods(splits["method"])
        return {key: value for key, value in splits.items() if key not in ignored}


def check_feature_columns(mapping: ColumnMapping, params: ClickLogFeatureParams) -> None:
    """Crosses and target-statistic keys may only name key columns; a time split needs a time column.

    Raises:
        ValueError: naming the parameter and the unknown columns.
    """
    if params.splits.method == "time" and mapping.time is None:
        raise ValueError(
            "clicklog_features.splits.method is 'time' but clicklog_columns.time is not set: a log without a "
            f"time column splits at random (clicklog_features.splits.method: random, or {RANDOM_SPLIT_OVERRIDE})"
        )
    known = set(mapping.key_columns)
    named = {
        "clicklog_features.crosses.pairs": {name for pair in params.crosses.pairs for name in pair},
        "clicklog_features.target_stats.keys": {name for key in params.target_stats.keys for name in key},
    }
    for parameter, columns in named.items():
        unknown = sorted(columns - known)
        if unknown:
            raise ValueError(f"{parameter} names {unknown}, which are not among the key columns {sorted(known)}")
