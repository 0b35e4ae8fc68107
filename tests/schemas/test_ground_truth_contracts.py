"""Ground-truth contracts: probabilities in [0, 1], unique ids, and exactly one truth row per raw id."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.schemas.ground_truth import ground_truth_failures

Tables = dict[str, pd.DataFrame]


def test_tiny_world_ground_truth_keeps_its_contract(world: Tables) -> None:
    assert ground_truth_failures(world, world, max_examples=5) == []


def test_probability_outside_unit_interval_is_reported(world: Tables) -> None:
    world["truth_impressions"].loc[4, "true_pctr"] = 1.2
    (failure,) = ground_truth_failures(world, world, max_examples=5)
    assert (failure.dataset, failure.column, failure.check) == ("truth_impressions", "true_pctr", "in_range(0.0, 1.0)")
    assert "'true_pctr': 1.2" in failure.render()


def test_raw_id_without_truth_row_is_reported(world: Tables) -> None:
    world["truth_users"] = world["truth_users"].iloc[1:]
    (failure,) = ground_truth_failures(world, world, max_examples=5)
    assert (failure.dataset, failure.column) == ("truth_users", "user_id")
    assert "has a row for every users.user_id" in failure.check
    assert "'user_id': 1" in failure.examples[0]


def test_truth_row_of_unknown_id_and_duplicate_ids_are_reported(world: Tables) -> None:
    world["truth_ads"].loc[0, "ad_id"] = 2
    world["truth_ads"].loc[2, "ad_id"] = np.int64(99)
    checks = {failure.check for failure in ground_truth_failures(world, world, max_examples=5)}
    assert "field_uniqueness" in checks
    assert "every ad_id exists in ads.ad_id" in checks


def test_missing_truth_key_skips_the_coverage_rule(world: Tables) -> None:
    world["truth_ads"] = world["truth_ads"].drop(columns="ad_id")
    (failure,) = ground_truth_failures(world, world, max_examples=5)
    assert (failure.dataset, failure.column, failure.check) == ("truth_ads", "ad_id", "column_in_dataframe")
