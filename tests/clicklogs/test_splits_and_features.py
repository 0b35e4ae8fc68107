"""Splits and model inputs of a click log: time order, seeded random splits, nothing from the future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.clicklogs.config import (
    ClickLogFeatureParams,
    ColumnMapping,
    RandomSplit,
    TimeSplit,
    check_feature_columns,
)
from adrank_pipelines.clicklogs.features import (
    click_log_feature_spec,
    click_log_model_input,
    click_log_vocabularies,
    numeric_inputs,
)
from adrank_pipelines.clicklogs.splits import split_click_events
from adrank_pipelines.features.params import CrossParams
from adrank_pipelines.features.target_stats import count_columns
from adrank_pipelines.features.vocabulary import OOV_INDEX
from adrank_pipelines.models.layout import input_layout
from adrank_pipelines.models.zoo.field_attention.network import FieldAttentionCtrModel, FieldAttentionParams

PARAMS = ClickLogFeatureParams.model_validate(
    {
        "splits": {"method": "time", "valid_days": 1, "test_days": 1},
        "min_count": 1,
        "crosses": {"n_hash_buckets": 101, "pairs": [["site", "hour_of_day"]]},
        "target_stats": {"keys": [["site"], ["site", "device"]], "smoothing_strength": 5.0, "initial_prior_ctr": 0.2},
    }
)


NO_TIME_CROSSES = CrossParams(n_hash_buckets=101, pairs=[("site", "device")])


def _events(n_rows: int = 400, seed: int = 0, with_time: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "impression_id": np.arange(2, n_rows + 2, dtype=np.int64),
            "click": rng.integers(0, 2, n_rows).astype(np.int64),
            "site": pd.Categorical(rng.choice(["a", "b", "c", "d"], n_rows)),
            "device": pd.Categorical(rng.choice(["x", "y"], n_rows)),
            "price": np.where(rng.random(n_rows) < 0.2, np.nan, rng.integers(-3, 500, n_rows)).astype(np.float64),
        }
    )
    if with_time:
        hours = rng.integers(0, 4 * 24, n_rows)  # four days, rows not in time order
        frame.insert(1, "event_time", pd.Timestamp("2014-10-21") + pd.to_timedelta(hours, unit="h"))
    return frame


def test_the_time_split_gives_the_last_day_to_test_the_one_before_to_valid():
    split = split_click_events(_events(), PARAMS.splits)
    assert split["event_time"].is_monotonic_increasing
    days = split["event_time"].dt.day
    assert set(days[split["split"] == "test"]) == {24}
    assert set(days[split["split"] == "valid"]) == {23}
    assert set(days[split["split"] == "train"]) == {21, 22}
    assert (split["hour_of_day"] == split["event_time"].dt.hour).all()


def test_a_time_split_needs_enough_days_and_names_its_parameters():
    with pytest.raises(ValueError, match=r"at least 4 distinct days .*valid_days=1 \+ test_days=2.* spans 3"):
        split_click_events(_events().query("event_time < '2014-10-24'"), TimeSplit(method="time", test_days=2))


def test_the_random_split_is_seeded_and_keeps_the_shares():
    events = _events(10_000, with_time=False)
    splits = RandomSplit(method="random", valid_fraction=0.1, test_fraction=0.2, seed=7)
    first, again = split_click_events(events, splits), split_click_events(events.sample(frac=1, random_state=1), splits)
    pd.testing.assert_frame_equal(first, again)  # line order, not row order in memory, decides
    shares = first["split"].value_counts(normalize=True)
    assert shares["test"] == pytest.approx(0.2, abs=0.015)
    assert shares["valid"] == pytest.approx(0.1, abs=0.015)
    other_seed = split_click_events(events, splits.model_copy(update={"seed": 8}))
    assert (other_seed["split"] != first["split"]).any()
    assert "hour_of_day" not in first.columns


def _model_input(split: pd.DataFrame, params: ClickLogFeatureParams = PARAMS) -> pd.DataFrame:
    key_columns = ["site", "device", *(["hour_of_day"] if "hour_of_day" in split else [])]
    vocabularies = click_log_vocabularies(split, key_columns, 1)
    return click_log_model_input(split, vocabularies, ["price"], params)


@pytest.mark.parametrize("with_time", [True, False])
def test_no_feature_of_a_row_depends_on_its_own_or_a_later_label(with_time: bool):
    params = PARAMS
    if not with_time:
        params = PARAMS.model_copy(update={"splits": RandomSplit(method="random"), "crosses": NO_TIME_CROSSES})
    split = split_click_events(_events(with_time=with_time), params.splits)
    cutoff = len(split) // 2
    if with_time:  # rows at the cutoff's instant are not "earlier" than each other
        cutoff = int(np.searchsorted(split["event_time"].to_numpy(), split["event_time"].iloc[cutoff]))
    flipped = split.copy()
    flipped.loc[cutoff:, "click"] = 1 - flipped.loc[cutoff:, "click"]

    before, after = _model_input(split, params), _model_input(flipped, params)
    features = [name for name in before.columns if name not in ("click", "conversion")]
    pd.testing.assert_frame_equal(before.loc[: cutoff - 1, features], after.loc[: cutoff - 1, features])
    assert not before.loc[cutoff:, "site_ctr"].equals(after.loc[cutoff:, "site_ctr"])


def test_vocabularies_are_fitted_on_train_rows_only():
    split = split_click_events(_events(), PARAMS.splits)
    split["site"] = split["site"].cat.add_categories("new")
    split.loc[split["split"] == "test", "site"] = "new"
    inputs = _model_input(split)
    test_rows = inputs["split"] == "test"
    assert (inputs.loc[test_rows, "site_idx"] == OOV_INDEX).all()
    assert (inputs.loc[~test_rows, "site_idx"] > OOV_INDEX).all()


def test_numeric_columns_enter_as_a_signed_log_and_a_missing_flag():
    events = pd.DataFrame({"count": [0.0, 9.0, -3.0, np.nan]})
    inputs = numeric_inputs(events, ["count"])
    np.testing.assert_allclose(inputs["count_log"], [0.0, np.log(10.0), -np.log(4.0), 0.0], rtol=1e-6)
    assert inputs["count_missing"].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_the_spec_names_every_model_input_column_and_makes_the_factory_pick_field_attention():
    split = split_click_events(_events(), PARAMS.splits)
    vocabularies = click_log_vocabularies(split, ["site", "device", "hour_of_day"], 1)
    inputs = click_log_model_input(split, vocabularies, ["price"], PARAMS)
    spec = click_log_feature_spec(vocabularies, ["price"], True, PARAMS)
    roles = spec["id_columns"] + spec["label_columns"] + list(spec["categorical"]) + spec["numeric"]
    raw_counts = {name for key in PARAMS.target_stats.keys for name in count_columns(key)}
    assert sorted(roles) == sorted(set(inputs.columns) - raw_counts)
    for name, entry in spec["categorical"].items():
        assert inputs[name].max() < entry["size"], name
    assert "sequences" not in spec
    params = FieldAttentionParams()
    layout = input_layout(spec, inputs, None, params.ad_side_sources, text_width=0)
    assert not layout.has_towers
    categorical = {**layout.user_categorical, **layout.pair_categorical, **layout.ad_categorical}
    assert set(categorical) == set(spec["categorical"])
    assert isinstance(FieldAttentionCtrModel(layout, params), FieldAttentionCtrModel)


def test_crosses_and_statistic_keys_may_name_only_key_columns():
    mapping = ColumnMapping(label="click", categorical=["site", "device"], numeric=["price"])
    with pytest.raises(ValueError, match=r"method is 'time' but clicklog_columns\.time is not set"):
        check_feature_columns(mapping, PARAMS)
    random = PARAMS.model_copy(update={"splits": RandomSplit(method="random")})  # still crosses hour_of_day
    with pytest.raises(ValueError, match=r"clicklog_features.crosses.pairs names \['hour_of_day'\]"):
        check_feature_columns(mapping, random)
    check_feature_columns(ColumnMapping(label="click", time={"column": "t"}, categorical=["site", "device"]), PARAMS)
