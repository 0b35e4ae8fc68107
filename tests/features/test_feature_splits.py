import pandas as pd
import pytest

from adrank_pipelines.features.splits import assign_days_to_splits, split_column


def test_days_are_assigned_from_the_end():
    days = pd.Series([5, 0, 1, 2, 3, 4, 6, 6, 0])
    assert assign_days_to_splits(days, valid_days=1, test_days=2, drift_days=1) == {
        0: "train",
        1: "train",
        2: "train",
        3: "valid",
        4: "test",
        5: "test",
        6: "drift",
    }


def test_no_drift_window_means_the_last_days_are_test():
    days = pd.Series([0, 1, 2, 3])
    assert assign_days_to_splits(days, valid_days=1, test_days=1, drift_days=0) == {
        0: "train",
        1: "train",
        2: "valid",
        3: "test",
    }


def test_gaps_in_days_are_counted_as_distinct_days_not_calendar_days():
    assert assign_days_to_splits(pd.Series([0, 7, 9]), valid_days=1, test_days=1, drift_days=0) == {
        0: "train",
        7: "valid",
        9: "test",
    }


def test_too_few_days_names_the_parameters():
    expected = r"features\.splits\.valid_days=1.*features\.splits\.test_days=1.*marketplace\.drift"
    with pytest.raises(ValueError, match=expected):
        assign_days_to_splits(pd.Series([0, 1, 2]), valid_days=1, test_days=1, drift_days=1)


def test_split_column_keeps_the_row_index_and_orders_splits():
    days = pd.Series([3, 0, 1, 2], index=[10, 11, 12, 13])
    column = split_column(days, valid_days=1, test_days=1, drift_days=1)
    assert column.index.tolist() == [10, 11, 12, 13]
    assert column.tolist() == ["drift", "train", "valid", "test"]
    assert list(column.cat.categories) == ["train", "valid", "test", "drift"]
