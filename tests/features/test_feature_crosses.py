import subprocess
import sys

import numpy as np
import pandas as pd

from adrank_pipelines.features.crosses import hashed_cross, stable_hash


def test_buckets_are_pinned_so_a_change_of_hash_is_a_visible_decision():
    # Changing these numbers silently re-buckets every trained embedding table.
    countries = pd.Series(["US", "DE", "US"], dtype="str")
    categories = pd.Series(["travel", "travel", "games"], dtype="str")
    assert hashed_cross(countries, categories, 1000).tolist() == [232, 656, 849]
    assert hashed_cross(pd.Series([3, 7]), pd.Series([1, 2]), 1000).tolist() == [761, 283]


def test_hash_does_not_depend_on_the_process():
    # Python's hash() of a str changes between processes; ours must not.
    code = (
        "import pandas as pd; from adrank_pipelines.features.crosses import stable_hash; "
        "print(stable_hash(pd.Series(['US'])).tolist())"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert outputs == {f"{stable_hash(pd.Series(['US'])).tolist()}\n"}


def test_buckets_fill_one_to_n_and_leave_zero_for_padding():
    rng = np.random.default_rng(0)
    left = pd.Series(rng.integers(0, 1000, 20_000))
    right = pd.Series(rng.choice(["a", "b", "c", "d"], 20_000), dtype="str")
    buckets = hashed_cross(left, right, 50)
    assert buckets.dtype == np.int32
    assert buckets.min() == 1 and buckets.max() == 50
    assert np.bincount(buckets, minlength=51)[1:].min() > 0


def test_pairs_are_ordered_and_depend_only_on_the_values():
    a, b = pd.Series([1, 2, 3]), pd.Series([4, 5, 6])
    assert hashed_cross(a, b, 10**6).tolist() != hashed_cross(b, a, 10**6).tolist()
    assert hashed_cross(a.iloc[::-1], b.iloc[::-1], 10**6).tolist() == hashed_cross(a, b, 10**6).tolist()[::-1]


def test_missing_values_hash_to_a_fixed_value():
    hashes = stable_hash(pd.Series(["x", None, "y", None], dtype="str"))
    assert hashes[1] == hashes[3]
    assert len(set(hashes.tolist())) == 3
