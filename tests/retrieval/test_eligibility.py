"""Eligibility: start days (cold start, drift-only ads), the remaining-budget flag, targeting rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from adrank_pipelines.marketplace import MarketplaceTables
from adrank_pipelines.marketplace.vocabulary import DRIFT_CATEGORY
from adrank_pipelines.retrieval.config import BudgetParams, TargetingRule
from adrank_pipelines.retrieval.eligibility import ad_eligibility, eligibility_groups, request_contexts


def _ads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ad_id": [1, 2, 3, 4],
            "advertiser_id": [10, 10, 20, 30],
            "category": ["finance", "games", "games", "finance"],
            "first_day": [0, 0, 3, 0],
            "bid": [2.0, 50.0, 1.0, 1.0],
        }
    )


def _advertisers() -> pd.DataFrame:
    return pd.DataFrame({"advertiser_id": [10, 20, 30], "daily_budget": [40.0, 5.0, 0.0]})


def _contexts(countries: list[str], platforms: list[str], day: int = 3) -> pd.DataFrame:
    n = len(countries)
    return pd.DataFrame(
        {
            "request_id": np.arange(1, n + 1),
            "user_id": np.arange(n),
            "day": day,
            "hour": 12,
            "placement": "feed",
            "platform": platforms,
            "country": countries,
        }
    )


def test_budget_flag_needs_enough_remaining_budget_for_the_clicks_asked():
    table = ad_eligibility(_ads(), _advertisers(), BudgetParams(min_affordable_clicks=1.0))
    # ad 2 bids 50 against a 40 budget; ad 4's advertiser has nothing left.
    assert table.set_index("ad_id")["has_budget"].to_dict() == {1: True, 2: False, 3: True, 4: False}
    stricter = ad_eligibility(_ads(), _advertisers(), BudgetParams(min_affordable_clicks=10.0))
    assert stricter.loc[stricter["has_budget"], "ad_id"].tolist() == [1]


def test_an_ad_without_an_advertiser_budget_is_a_clear_error():
    with pytest.raises(ValueError, match=r"dataset 'ads': 1 ad\(s\) have no advertiser budget, e.g. ad_id 4"):
        ad_eligibility(_ads(), _advertisers().iloc[:2], BudgetParams())
    with pytest.raises(ValueError, match="dataset 'advertisers' lacks column\\(s\\) \\['daily_budget'\\]"):
        ad_eligibility(_ads(), _advertisers().drop(columns="daily_budget"), BudgetParams())


def test_ads_serve_from_their_first_day_and_while_they_have_budget():
    table = ad_eligibility(_ads(), _advertisers(), BudgetParams())
    contexts = pd.concat([_contexts(["US"], ["ios"], day=2), _contexts(["US"], ["ios"], day=3)], ignore_index=True)
    groups = eligibility_groups(contexts, table, rules=[])
    assert [g.ad_ids.tolist() for g in groups] == [[1], [1, 3]]
    assert [g.request_positions.tolist() for g in groups] == [[0], [1]]


def test_targeting_rules_restrict_categories_to_countries_and_platforms():
    table = ad_eligibility(_ads(), _advertisers(), BudgetParams(min_affordable_clicks=0.0))
    rules = [
        TargetingRule(categories=["finance"], countries=["US"]),
        TargetingRule(categories=["games"], platforms=["web"]),
    ]
    contexts = _contexts(["US", "DE", "US", "DE"], ["web", "web", "ios", "ios"])
    eligible = {}
    for group in eligibility_groups(contexts, table, rules):
        for position in group.request_positions:
            eligible[position] = group.ad_ids.tolist()
    # ad 4 has no budget at all (0 left), whatever the click count asked for.
    assert eligible == {0: [1, 2, 3], 1: [2, 3], 2: [1], 3: []}


def test_a_targeting_rule_must_restrict_something():
    with pytest.raises(ValidationError, match="names neither countries nor platforms"):
        TargetingRule(categories=["finance"])


def test_on_the_simulated_test_day_cold_start_ads_serve_and_drift_only_ads_do_not(test_world: MarketplaceTables):
    table = ad_eligibility(test_world.ads, test_world.advertisers, BudgetParams(min_affordable_clicks=0.0))
    world = test_world.truth_world
    test_day, drift_day = world["days"]["test_day"], world["drift"]["start_day"]
    requests = test_world.requests
    day_requests = requests.loc[requests["day"].isin([test_day, drift_day])]
    contexts = request_contexts(day_requests["request_id"].to_numpy(), requests, test_world.users)
    by_day = {
        int(contexts.iloc[g.request_positions[0]]["day"]): set(g.ad_ids)
        for g in eligibility_groups(contexts, table, [])
    }
    drift_ads = set(test_world.ads.loc[test_world.ads["category"] == DRIFT_CATEGORY, "ad_id"])
    assert drift_ads and not drift_ads & by_day[test_day]
    assert drift_ads <= by_day[drift_day]
    assert set(world["cold_start_ad_ids"]) <= by_day[test_day]


def test_request_contexts_follow_the_asked_order_and_name_unknown_requests(test_world: MarketplaceTables):
    requests, users = test_world.requests, test_world.users
    wanted = requests["request_id"].to_numpy()[[5, 2, 9]]
    contexts = request_contexts(wanted, requests, users)
    assert contexts["request_id"].tolist() == wanted.tolist()
    expected_country = users.set_index("user_id").loc[contexts["user_id"], "country"].tolist()
    assert contexts["country"].tolist() == expected_country
    with pytest.raises(ValueError, match=r"dataset 'requests' lacks 1 queried request\(s\), e\.g\. request_id -5"):
        request_contexts(np.array([wanted[0], -5]), requests, users)
