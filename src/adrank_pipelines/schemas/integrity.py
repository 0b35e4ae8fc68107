"""Cross-table rules of the raw marketplace tables: foreign keys and what impressions copy.

Each rule names the columns it reads (``CrossTableRule.reads``) so the caller can skip rules on
columns that are missing or mistyped; pandera has already reported those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from adrank_pipelines.schemas.failures import ContractFailure, failure_from_mask

Tables = Mapping[str, pd.DataFrame]
ColumnRef = tuple[str, str]  # (dataset, column)

# Columns an impression copies from its request (docs/data_contracts.md).
COPIED_FROM_REQUEST = ("user_id", "event_time", "day", "hour", "placement", "platform")


@dataclass(frozen=True)
class CrossTableRule:
    reads: tuple[ColumnRef, ...]
    check: Callable[[Tables, int], list[ContractFailure]]


def _foreign_key(child: str, column: str, parent: str, parent_column: str) -> CrossTableRule:
    def check(tables: Tables, max_examples: int) -> list[ContractFailure]:
        frame = tables[child]
        dangling = ~frame[column].isin(tables[parent][parent_column])
        rule = f"foreign key: every {column} exists in {parent}.{parent_column}"
        return failure_from_mask(child, frame, column, rule, dangling, max_examples)

    return CrossTableRule(((child, column), (parent, parent_column)), check)


def _with_request(tables: Tables) -> pd.DataFrame:
    """Impressions joined (by row, keeping their index) to the request they were shown in."""
    requests = tables["requests"].drop_duplicates("request_id").set_index("request_id")
    return requests.reindex(tables["impressions"]["request_id"]).set_axis(tables["impressions"].index)


def _copied_from_request(column: str) -> CrossTableRule:
    def check(tables: Tables, max_examples: int) -> list[ContractFailure]:
        impressions = tables["impressions"]
        request = _with_request(tables)
        # Dangling request ids are reported by the foreign-key rule, not again here.
        differs = request[column].notna() & (impressions[column] != request[column])
        rule = f"equals the {column} of its request (requests.{column})"
        return failure_from_mask("impressions", impressions, column, rule, differs, max_examples)

    reads = (("impressions", "request_id"), ("requests", "request_id"), ("impressions", column), ("requests", column))
    return CrossTableRule(reads, check)


def _position_within_request_slots(tables: Tables, max_examples: int) -> list[ContractFailure]:
    impressions = tables["impressions"]
    beyond_slots = impressions["position"] > _with_request(tables)["n_slots"]
    rule = "position <= n_slots of its request"
    return failure_from_mask("impressions", impressions, "position", rule, beyond_slots, max_examples)


def _ad_live_on_impression_day(tables: Tables, max_examples: int) -> list[ContractFailure]:
    impressions = tables["impressions"]
    first_day = impressions["ad_id"].map(tables["ads"].drop_duplicates("ad_id").set_index("ad_id")["first_day"])
    too_early = impressions["day"] < first_day
    rule = "day >= first_day of its ad (ads.first_day)"
    return failure_from_mask("impressions", impressions, "day", rule, too_early, max_examples)


CROSS_TABLE_RULES: tuple[CrossTableRule, ...] = (
    _foreign_key("ads", "advertiser_id", "advertisers", "advertiser_id"),
    _foreign_key("requests", "user_id", "users", "user_id"),
    _foreign_key("impressions", "request_id", "requests", "request_id"),
    _foreign_key("impressions", "user_id", "users", "user_id"),
    _foreign_key("impressions", "ad_id", "ads", "ad_id"),
    _foreign_key("user_events", "user_id", "users", "user_id"),
    *(_copied_from_request(column) for column in COPIED_FROM_REQUEST),
    CrossTableRule(
        (
            ("impressions", "request_id"),
            ("requests", "request_id"),
            ("impressions", "position"),
            ("requests", "n_slots"),
        ),
        _position_within_request_slots,
    ),
    CrossTableRule(
        (("impressions", "ad_id"), ("ads", "ad_id"), ("impressions", "day"), ("ads", "first_day")),
        _ad_live_on_impression_day,
    ),
)


def cross_table_failures(tables: Tables, unusable: set[ColumnRef], max_examples: int) -> list[ContractFailure]:
    """Failures of every rule that reads no ``unusable`` column."""
    failures: list[ContractFailure] = []
    for rule in CROSS_TABLE_RULES:
        if unusable.isdisjoint(rule.reads):
            failures += rule.check(tables, max_examples)
    return failures
