"""A drift window over several days that grows: the default settings draw the world exactly as before."""

from __future__ import annotations

import hashlib
import json
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from adrank_pipelines.marketplace import GroundTruth, MarketplaceConfig, simulate_marketplace
from adrank_pipelines.marketplace.vocabulary import DRIFT_CATEGORY

# Fingerprints of the test world drawn before the drift window could grow (one drift day, and three).
BEFORE = {
    1: {
        "users": "08c1367500d21cfb",
        "advertisers": "2723b80db5a6dc29",
        "ads": "cf5c76d97a0c8677",
        "requests": "6fcaf48333f3f529",
        "impressions": "8bc5b7339878da87",
        "user_events": "d88d0fdf503dafce",
        "truth_impressions": "2633dcfbebc4d103",
        "truth_users": "c50f757013c1ba93",
        "truth_ads": "8708acfdbdb6a52b",
        "truth_world": "22f051e35fd0a7bf",
    },
    3: {
        "requests": "bce919a4c2f8dfdf",
        "impressions": "948e803444cf7d9a",
        "user_events": "727622bd13016f25",
        "truth_impressions": "cb2a231ee35363c9",
        "truth_world": "eb0bd704585479d0",
    },
}


def _with_drift(config: MarketplaceConfig, **drift) -> MarketplaceConfig:
    dumped = config.model_dump()
    return MarketplaceConfig.model_validate({**dumped, "drift": {**dumped["drift"], **drift}})


def _fingerprint(world, name: str) -> str:
    if name == "truth_world":
        return hashlib.sha256(json.dumps(world.truth_world, sort_keys=True).encode()).hexdigest()[:16]
    hashed = pd.util.hash_pandas_object(getattr(world, name), index=True).to_numpy().tobytes()
    return hashlib.sha256(hashed).hexdigest()[:16]


@pytest.mark.parametrize("drift_days", [1, 3])
def test_the_default_ramp_and_launch_draw_the_same_world_as_before(test_world_config, test_world, drift_days):
    world = test_world if drift_days == 1 else simulate_marketplace(_with_drift(test_world_config, n_days=3), False)
    for name, expected in BEFORE[drift_days].items():
        assert _fingerprint(world, name) == expected, name


def test_a_growing_drift_shifts_the_platform_mix_and_launches_new_ads_day_by_day(test_world_config):
    config = _with_drift(test_world_config, n_days=4, ramp_days=3, launch_days=2, new_category_ads=40)
    world = simulate_marketplace(config, show_progress=False)
    first = config.n_days
    web = world.requests.assign(web=world.requests["platform"] == "web").groupby("day")["web"].mean()
    # the drift mix has 35% web against 15% in the base mix: the share climbs over the ramp's three days
    assert web[first - 1] < web[first] < web[first + 1] < web[first + 2]
    assert web[first + 2] == pytest.approx(web[first + 3], abs=0.03)
    launched = world.ads.loc[world.ads["category"] == DRIFT_CATEGORY, "first_day"].value_counts().to_dict()
    assert launched == {first: 20, first + 1: 20}
    assert world.truth_world["drift"]["ramp_days"] == 3
    assert sorted(world.truth_world["drift"]["new_category_ad_ids"]) == sorted(
        world.ads.loc[world.ads["category"] == DRIFT_CATEGORY, "ad_id"]
    )


def test_interest_shifts_grow_with_the_ramp(test_world_config):
    config = _with_drift(test_world_config, n_days=3, ramp_days=3)
    world = simulate_marketplace(config, show_progress=False)
    truth = GroundTruth(world.truth_users, world.truth_ads, world.truth_world)
    shifted = [f"interest_{c}" for c in config.drift.shifted_categories]
    columns = [c for c in world.truth_users.columns if c.startswith("interest_")]
    index = [columns.index(c) for c in shifted]
    rows = np.arange(len(world.truth_users))
    share = [truth.interests(rows, np.full(len(rows), day))[:, index].sum(axis=1).mean() for day in range(3, 8)]
    before, drift_days = share[: config.n_days - 3], share[config.n_days - 3 :]
    assert all(later > earlier for earlier, later in pairwise(drift_days))
    assert all(day == pytest.approx(before[0]) for day in before)


def test_a_ramp_of_zero_days_is_refused_naming_it(test_world_config):
    with pytest.raises(ValidationError, match="ramp_days"):
        _with_drift(test_world_config, ramp_days=0)
