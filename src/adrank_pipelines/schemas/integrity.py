"""Cross-table rules of the raw marketplace tables: foreign keys and what impressions copy.

Each rule names the columns it reads (``CrossTableRule.reads``) so that a rule reading a table
which failed its own contract is skipped: on a broken table (an empty ``ads``, a duplicated id) it
would only report derived failures (every impression's ad "missing") ahead of the real cause.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from adrank_pipelines.schemas.failures import ContractFailure, ContractOutcome, failure_from_mask, skip_if_broken

Tables = Mapping[str, pd.DataFrame]
ColumnRef = tuple[str, str]  # (dataset, column)

# Columns an impression copies from its request (docs/data_contracts.md).
COPIED_FROM_REQUEST = ("user_id", "event_time", "day", "hour", "placement", "platform")


@dataclass(frozen=True)
class CrossTableRule:
    name: str
    reads: tuple[ColumnRef, ...]
    check: Callable[[Tables, int], list[ContractFailure]]

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(table for table, _ in self.reads))


def _foreign_key(child: str, column: str, parent: str, parent_column: str) -> CrossTableRule:
    def check(tables: Tables, max_examples: int) -> list[ContractFailure]:
        frame = tables[child]
        dangling = ~frame[column].isin(tables[parent][parent_column])
        rule = f"foreign key: every {column} exists in {parent}.{parent_column}"
        return failure_from_mask(child, frame, column, rule, dangling, max_examples)

    name = f"{child}.{column} foreign key to {parent}.{parent_column}"
    return CrossTableRule(name, ((child, column), (parent, parent_column)), check)


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
    # One name for all copied columns: a skipped check is listed once, not once per column.
    return CrossTableRule(f"impressions copy {', '.join(COPIED_FROM_REQUEST)} of their request", reads, check)


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
        "impressions.position <= requests.n_slots",
        (
            ("impressions", "request_id"),
            ("requests", "request_id"),
            ("impressions", "position"),
            ("requests", "n_slots"),
        ),
        _position_within_request_slots,
    ),
    CrossTableRule(
        "impressions.day >= ads.first_day",
        (("impressions", "ad_id"), ("ads", "ad_id"), ("impressions", "day"), ("ads", "first_day")),
        _ad_live_on_impression_day,
    ),
)


def cross_table_outcome(tables: Tables, broken_tables: frozenset[str], max_examples: int) -> ContractOutcome:
    """Failures of every rule whose tables all kept their own contract; the others are skipped."""
    outcome = ContractOutcome()
    for rule in CROSS_TABLE_RULES:
        skipped = skip_if_broken(rule.name, rule.tables, broken_tables)
        if skipped is not None:
            outcome += ContractOutcome(skipped=(skipped,))
        else:
            outcome += ContractOutcome(failures=tuple(rule.check(tables, max_examples)))
    return outcome
