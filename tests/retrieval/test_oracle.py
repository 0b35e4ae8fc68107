"""The oracle's best ad: the eligible ad with the highest bid x true pCTR, checked by brute force."""

from __future__ import annotations

import numpy as np
import pytest

from adrank_pipelines.marketplace import Context, GroundTruth, MarketplaceTables
from adrank_pipelines.retrieval.config import BudgetParams, TargetingRule
from adrank_pipelines.retrieval.eligibility import ad_eligibility, request_contexts
from adrank_pipelines.retrieval.oracle import oracle_best_ads


@pytest.fixture(scope="module")
def truth(test_world: MarketplaceTables) -> GroundTruth:
    return GroundTruth(test_world.truth_users, test_world.truth_ads, test_world.truth_world)


def _test_day_contexts(world: MarketplaceTables, n: int):
    test_day = world.truth_world["days"]["test_day"]
    ids = world.requests.loc[world.requests["day"] == test_day, "request_id"].to_numpy()[:n]
    return request_contexts(ids, world.requests, world.users)


def test_best_ad_maximises_true_ecpm_among_eligible_ads(test_world: MarketplaceTables, truth: GroundTruth):
    contexts = _test_day_contexts(test_world, 12)
    table = ad_eligibility(test_world.ads, test_world.advertisers, BudgetParams())
    oracle = oracle_best_ads(truth, contexts, table, rules=[])
    assert oracle["request_id"].tolist() == sorted(contexts["request_id"])
    eligible = table.loc[(table["first_day"] <= contexts["day"].iloc[0]) & table["has_budget"]]
    for _, request in contexts.iterrows():
        n = len(eligible)
        context = Context(
            position=np.ones(n),
            hour=np.full(n, request["hour"]),
            day=np.full(n, request["day"]),
            placement=np.full(n, request["placement"]),
            platform=np.full(n, request["platform"]),
        )
        ecpm = eligible["bid"].to_numpy() * truth.click_probability(
            np.full(n, request["user_id"]), eligible["ad_id"].to_numpy(), context
        )
        row = oracle.set_index("request_id").loc[request["request_id"]]
        assert row["oracle_ad_id"] == eligible["ad_id"].to_numpy()[ecpm.argmax()]
        assert row["oracle_ecpm"] == pytest.approx(ecpm.max())


def test_targeting_keeps_the_oracle_to_ads_a_request_may_see(test_world: MarketplaceTables, truth: GroundTruth):
    contexts = _test_day_contexts(test_world, 40)
    table = ad_eligibility(test_world.ads, test_world.advertisers, BudgetParams())
    free = oracle_best_ads(truth, contexts, table, rules=[])
    winning = free["oracle_ad_id"].map(dict(zip(table["ad_id"], table["category"], strict=True)))
    blocked = winning.value_counts().index[0]
    rules = [TargetingRule(categories=[blocked], countries=["nowhere"])]
    targeted = oracle_best_ads(truth, contexts, table, rules)
    assert not targeted["oracle_ad_id"].map(dict(zip(table["ad_id"], table["category"], strict=True))).eq(blocked).any()
    assert (targeted["oracle_ecpm"] <= free["oracle_ecpm"] + 1e-12).all()
