"""The tiny test world with stand-in ranked candidates of known quality (noisy oracles)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from adrank_pipelines.auction.config import AbTestParams, AuctionEvalParams
from adrank_pipelines.auction.synthetic import noisy_oracle_candidates
from adrank_pipelines.auction.truth import candidate_ground_truth, position_logit_shifts
from adrank_pipelines.marketplace import GroundTruth, MarketplaceTables
from tests.conftest import project_parameters

MODEL_NOISE = {"lightgbm": 1.0, "hybrid": 0.4}


@dataclass(frozen=True)
class AuctionWorld:
    world: MarketplaceTables
    truth: GroundTruth
    day: int
    ranked: pd.DataFrame
    candidate_truth: pd.DataFrame
    shifts: list[float]


@pytest.fixture(scope="session")
def auction_world(test_world: MarketplaceTables) -> AuctionWorld:
    truth = GroundTruth(test_world.truth_users, test_world.truth_ads, test_world.truth_world)
    day = test_world.truth_world["days"]["test_day"]
    ranked = noisy_oracle_candidates(test_world.requests, test_world.ads, truth, day, 12, MODEL_NOISE, seed=0)
    todays = test_world.requests.loc[test_world.requests["day"] == day]
    frame = candidate_ground_truth(ranked, todays, truth)
    return AuctionWorld(test_world, truth, day, ranked, frame, position_logit_shifts(frame, todays, truth, 4))


@pytest.fixture(scope="session")
def auction_params() -> AuctionEvalParams:
    return AuctionEvalParams.model_validate(project_parameters("test")["auction_eval"])


@pytest.fixture(scope="session")
def ab_params() -> AbTestParams:
    return AbTestParams.model_validate(project_parameters("test")["ab_test"])
