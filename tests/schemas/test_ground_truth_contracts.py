"""Ground-truth contracts: probabilities in [0, 1], unique ids, and exactly one truth row per raw id,
checked only against raw tables that keep their own contract."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.schemas.ground_truth import ground_truth_failures, ground_truth_outcome

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


def test_truth_row_of_unknown_id_is_reported(world: Tables) -> None:
    world["truth_ads"].loc[2, "ad_id"] = np.int64(99)
    checks = {failure.check for failure in ground_truth_failures(world, world, max_examples=5)}
    assert checks == {"has a row for every ads.ad_id", "every ad_id exists in ads.ad_id"}


def test_duplicate_truth_ids_skip_the_id_match(world: Tables) -> None:
    world["truth_ads"].loc[0, "ad_id"] = 2
    outcome = ground_truth_outcome(world, world, max_examples=5)
    assert [(failure.dataset, failure.check) for failure in outcome.failures] == [("truth_ads", "field_uniqueness")]
    assert [(skip.check, skip.failed_tables) for skip in outcome.skipped] == [
        ("truth_ads.ad_id matches ads.ad_id", ("truth_ads",))
    ]


def test_missing_truth_key_skips_the_coverage_rule(world: Tables) -> None:
    world["truth_ads"] = world["truth_ads"].drop(columns="ad_id")
    (failure,) = ground_truth_failures(world, world, max_examples=5)
    assert (failure.dataset, failure.column, failure.check) == ("truth_ads", "ad_id", "column_in_dataframe")


def test_duplicate_raw_impression_id_is_not_blamed_on_the_truth_table(world: Tables) -> None:
    """The raw table's own contract reports the duplicate; ground truth neither fails nor checks against it."""
    world["impressions"].loc[5, "impression_id"] = world["impressions"].loc[4, "impression_id"]
    outcome = ground_truth_outcome(world, world, max_examples=5)
    assert outcome.failures == ()
    assert [(skip.check, skip.failed_tables) for skip in outcome.skipped] == [
        ("truth_impressions.impression_id matches impressions.impression_id", ("impressions",))
    ]


def test_empty_raw_ads_skip_the_truth_ads_match(world: Tables) -> None:
    world["ads"] = world["ads"].iloc[:0]
    outcome = ground_truth_outcome(world, world, max_examples=5)
    assert outcome.failures == ()
    assert [skip.failed_tables for skip in outcome.skipped] == [("ads",)]
