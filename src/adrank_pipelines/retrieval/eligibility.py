"""Which ads may be served to which request: active on the request's day, budget left, targeting.

* Active: an ad serves from its ``first_day`` on. Cold-start ads start on the test day; ads of the
  drift-only category start with the drift window, so they are never served before it.
* Budget: an ad serves while its advertiser's remaining daily budget pays for
  ``min_affordable_clicks`` clicks at the ad's bid. Before any replay, the remaining budget is the
  whole daily budget; a pacing stage can later write its own ``remaining_budget``.
* Targeting: the simulated ads carry no targeting columns, so targeting is a list of config rules
  (ads of some categories reach only some countries / platforms); no rules = no targeting.

Requests sharing a day (and the country / platform a rule looks at) share one eligible set, so the
eligibility of a whole day is a handful of groups rather than a request x ad matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.retrieval.config import BudgetParams, TargetingRule

ELIGIBILITY_COLUMNS = ["ad_id", "advertiser_id", "category", "first_day", "bid", "remaining_budget", "has_budget"]
CONTEXT_COLUMNS = ["request_id", "user_id", "day", "hour", "placement", "platform", "country"]


@dataclass(frozen=True)
class EligibilityGroup:
    request_positions: np.ndarray  # rows of the request-context table
    ad_ids: np.ndarray  # sorted ids of the ads every one of those requests may be shown


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"dataset '{name}' lacks column(s) {missing}")


def ad_eligibility(ads: pd.DataFrame, advertisers: pd.DataFrame, budget: BudgetParams) -> pd.DataFrame:
    """One row per ad: what eligibility reads (start day, category, bid) and its remaining-budget flag."""
    _require(ads, ["ad_id", "advertiser_id", "category", "first_day", "bid"], "ads")
    _require(advertisers, ["advertiser_id", "daily_budget"], "advertisers")
    table = ads[["ad_id", "advertiser_id", "category", "first_day", "bid"]].merge(
        advertisers[["advertiser_id", "daily_budget"]], on="advertiser_id", how="left", validate="many_to_one"
    )
    orphans = table.loc[table["daily_budget"].isna(), "ad_id"]
    if len(orphans):
        raise ValueError(f"dataset 'ads': {len(orphans)} ad(s) have no advertiser budget, e.g. ad_id {orphans.iloc[0]}")
    table = _flag_budget(table.rename(columns={"daily_budget": "remaining_budget"}), budget)
    return table[ELIGIBILITY_COLUMNS].sort_values("ad_id", ignore_index=True)


def _flag_budget(table: pd.DataFrame, budget: BudgetParams) -> pd.DataFrame:
    affordable = table["remaining_budget"] >= budget.min_affordable_clicks * table["bid"]
    return table.assign(has_budget=affordable & (table["remaining_budget"] > 0))


def with_remaining_budget(table: pd.DataFrame, remaining: pd.Series, budget: BudgetParams) -> pd.DataFrame:
    """:func:`ad_eligibility`'s table with each ad's remaining budget taken from ``remaining`` (indexed
    by advertiser_id; advertisers it lacks keep theirs) and the budget flag recomputed: a live spend."""
    live = table["advertiser_id"].map(remaining).fillna(table["remaining_budget"]).astype(np.float64)
    return _flag_budget(table.assign(remaining_budget=live), budget)


def request_contexts(request_ids: np.ndarray, requests: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Day, hour, placement, platform and the user's country of each of ``request_ids``, in that order."""
    _require(requests, ["request_id", "user_id", "day", "hour", "placement", "platform"], "requests")
    _require(users, ["user_id", "country"], "users")
    wanted = pd.DataFrame({"request_id": np.asarray(request_ids, dtype=np.int64)})
    contexts = wanted.merge(requests, on="request_id", how="left", validate="one_to_one", indicator=True)
    unknown = contexts.loc[contexts["_merge"] != "both", "request_id"]
    if len(unknown):
        raise ValueError(
            f"dataset 'requests' lacks {len(unknown)} queried request(s), e.g. request_id {unknown.iloc[0]}"
        )
    contexts = contexts.merge(users[["user_id", "country"]], on="user_id", how="left", validate="many_to_one")
    return contexts[CONTEXT_COLUMNS]


def _targeting_allows(ads: pd.DataFrame, rules: Sequence[TargetingRule], country: str, platform: str) -> np.ndarray:
    allowed = np.ones(len(ads), dtype=bool)
    for rule in rules:
        reaches = (rule.countries is None or country in rule.countries) and (
            rule.platforms is None or platform in rule.platforms
        )
        if not reaches:
            allowed &= ~ads["category"].isin(rule.categories).to_numpy()
    return allowed


def eligibility_groups(
    contexts: pd.DataFrame, ads: pd.DataFrame, rules: Sequence[TargetingRule]
) -> list[EligibilityGroup]:
    """Requests of :func:`request_contexts` grouped by their eligible ad set (``ads``: :func:`ad_eligibility`)."""
    _require(ads, ELIGIBILITY_COLUMNS, "ad_eligibility")
    keys = ["day"]
    keys += ["country"] if any(rule.countries is not None for rule in rules) else []
    keys += ["platform"] if any(rule.platforms is not None for rule in rules) else []
    groups = []
    # Every request of a group shares the keys, so its first request speaks for the group.
    for positions in contexts.groupby(keys, sort=True).indices.values():
        first = contexts.iloc[positions[0]]
        eligible = (
            (ads["first_day"].to_numpy() <= first["day"])
            & ads["has_budget"].to_numpy()
            & _targeting_allows(ads, rules, first["country"], first["platform"])
        )
        groups.append(
            EligibilityGroup(request_positions=np.asarray(positions), ad_ids=np.sort(ads["ad_id"].to_numpy()[eligible]))
        )
    return groups
