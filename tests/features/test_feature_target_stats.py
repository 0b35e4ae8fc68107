import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.features.target_stats import strictly_prior_counts, target_statistics


@pytest.fixture
def six_rows() -> pd.DataFrame:
    """Rows 0-2 share the first instant (rows 0 and 1 are one ad in two slots of one request)."""
    return pd.DataFrame(
        {
            "ad_id": [1, 1, 2, 1, 2, 1],
            "category": ["a", "a", "a", "b", "a", "a"],
            "event_time": pd.Timestamp("2026-01-05") + pd.to_timedelta([0, 0, 0, 1, 2, 2], unit="min"),
            "click": np.array([1, 0, 1, 1, 0, 0], dtype=np.int8),
        }
    )


def test_counts_and_smoothed_ctr_by_hand(six_rows):
    stats = target_statistics(six_rows, [["ad_id"]], smoothing_strength=2.0, initial_prior_ctr=0.1)
    # Rows at the same instant do not see each other, so rows 0 and 1 both start from nothing.
    assert stats["ad_id_impressions"].tolist() == [0, 0, 0, 2, 1, 3]
    assert stats["ad_id_clicks"].tolist() == [0, 0, 0, 1, 1, 2]
    # Global prior, shrunk toward 0.1 with m = 2: 0.1 before any data, then (2 + 0.2) / (3 + 2)
    # after three rows with two clicks, then (3 + 0.2) / (4 + 2).
    early, late = (2 + 2 * 0.1) / (3 + 2), (3 + 2 * 0.1) / (4 + 2)
    expected_ctr = [0.1, 0.1, 0.1, (1 + 2 * early) / (2 + 2), (1 + 2 * late) / (1 + 2), (2 + 2 * late) / (3 + 2)]
    np.testing.assert_allclose(stats["ad_id_ctr"], expected_ctr, rtol=1e-6)
    np.testing.assert_allclose(stats["ad_id_log_impressions"], np.log1p([0, 0, 0, 2, 1, 3]), rtol=1e-6)
    np.testing.assert_allclose(stats["ad_id_log_clicks"], np.log1p([0, 0, 0, 1, 1, 2]), rtol=1e-6)


def test_composite_keys_count_the_pair(six_rows):
    stats = target_statistics(six_rows, [["ad_id", "category"]], smoothing_strength=2.0, initial_prior_ctr=0.1)
    # Row 3 is the first (ad 1, category b); row 5 sees rows 0 and 1 of (ad 1, category a).
    assert stats["ad_id_x_category_impressions"].tolist() == [0, 0, 0, 0, 1, 2]
    assert stats["ad_id_x_category_clicks"].tolist() == [0, 0, 0, 0, 1, 1]


def test_row_order_and_index_do_not_matter(six_rows):
    stats = target_statistics(six_rows, [["ad_id"], ["category"]], 2.0, 0.1)
    shuffled = six_rows.sample(frac=1.0, random_state=3)
    shuffled_stats = target_statistics(shuffled, [["ad_id"], ["category"]], 2.0, 0.1)
    pd.testing.assert_frame_equal(shuffled_stats.sort_index(), stats)


def test_strictly_prior_counts_match_a_brute_force_loop():
    rng = np.random.default_rng(1)
    keys, times, labels = rng.integers(0, 5, 300), rng.integers(0, 40, 300), rng.integers(0, 2, 300)
    rows, positives = strictly_prior_counts(keys, times, labels)
    for i in range(300):
        earlier = (keys == keys[i]) & (times < times[i])
        assert rows[i] == earlier.sum()
        assert positives[i] == labels[earlier].sum()
