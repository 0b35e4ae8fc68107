"""The synthetic logs follow the public formats and carry a signal a model can find."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from adrank_pipelines.clicklogs.synthetic import AVAZU_COLUMNS, CRITEO_COLUMNS, avazu_like, criteo_like, main


def test_avazu_like_rows_are_in_hour_order_with_the_avazu_header_and_value_shapes():
    log = avazu_like(2_000, seed=1)
    assert tuple(log.frame.columns) == AVAZU_COLUMNS
    hours = pd.to_datetime(log.frame["hour"].astype(str), format="%y%m%d%H")
    assert hours.is_monotonic_increasing and hours.dt.normalize().nunique() == 4
    assert log.frame["site_id"].str.fullmatch("[0-9a-f]{8}").all()


def test_criteo_like_rows_have_the_criteo_fields_and_empty_values():
    frame = criteo_like(2_000, seed=1).frame
    assert tuple(frame.columns) == CRITEO_COLUMNS
    assert frame["I1"].isna().mean() == pytest.approx(0.45, abs=0.05)
    assert frame["C22"].isna().mean() == pytest.approx(0.4, abs=0.05)
    assert frame["label"].isin([0, 1]).all()


@pytest.mark.parametrize("generator", [avazu_like, criteo_like])
def test_the_planted_probability_separates_clicks_and_the_same_seed_gives_the_same_log(generator):
    log = generator(5_000, seed=4)
    labels = log.frame.iloc[:, 1 if generator is avazu_like else 0]
    assert 0.15 < labels.mean() < 0.3
    assert roc_auc_score(labels, log.true_ctr) > 0.7
    pd.testing.assert_frame_equal(log.frame, generator(5_000, seed=4).frame)
    assert np.array_equal(log.true_ctr, generator(5_000, seed=4).true_ctr)


def test_the_command_line_writes_the_file_and_its_truth_by_line(tmp_path: Path):
    main(["avazu", str(tmp_path / "a.csv.gz"), "--rows", "30", "--truth", str(tmp_path / "truth.parquet")])
    truth = pd.read_parquet(tmp_path / "truth.parquet")
    assert truth["impression_id"].tolist() == list(range(2, 32))  # line 1 is the header
    assert (tmp_path / "a.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
