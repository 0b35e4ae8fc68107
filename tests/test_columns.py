import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.columns import column_matrix


def test_columns_come_in_the_asked_order_and_dtype_as_a_writable_matrix():
    frame = pd.DataFrame({"a": np.array([1, 2], dtype=np.int32), "b": [0.5, 1.5], "c": ["x", "y"]})
    matrix = column_matrix(frame, ["b", "a"], np.float64)
    np.testing.assert_array_equal(matrix, [[0.5, 1.0], [1.5, 2.0]])
    assert matrix.dtype == np.float64 and matrix.flags.writeable and matrix.flags.c_contiguous
    np.testing.assert_array_equal(matrix, frame[["b", "a"]].to_numpy(dtype=np.float64))


def test_an_empty_frame_gives_zero_rows_and_a_missing_column_names_itself():
    assert column_matrix(pd.DataFrame({"a": pd.Series([], dtype=np.int64)}), ["a"], np.int64).shape == (0, 1)
    with pytest.raises(KeyError, match="missing"):
        column_matrix(pd.DataFrame({"a": [1]}), ["missing"], np.int64)


def test_a_wide_selection_gives_the_same_writable_matrix():
    frame = pd.DataFrame({f"slot_{i}": np.arange(3, dtype=np.int32) + i for i in range(40)})
    names = [f"slot_{i}" for i in reversed(range(40))]
    matrix = column_matrix(frame, names, np.int64)
    np.testing.assert_array_equal(matrix, frame[names].to_numpy(dtype=np.int64))
    assert matrix.dtype == np.int64 and matrix.flags.writeable and matrix.flags.c_contiguous
    assert matrix.shape == (3, 40)
