"""The ranking report on a hand-made case: two requests, two models, known logged winners."""

from __future__ import annotations

import pandas as pd
import pytest

from adrank_pipelines.features.snapshot import StatisticsSnapshot
from adrank_pipelines.ranking.report import ranking_report


def test_report_counts_top_slot_agreement_by_hand():
    candidates = pd.DataFrame({"request_id": [1, 1, 2, 2], "ad_id": [10, 11, 20, 21], "retrieval_rank": [0, 1, 0, 1]})
    ranked = pd.DataFrame(
        {
            "request_id": [1, 1, 2, 2, 1, 1, 2, 2],
            "ad_id": [11, 10, 20, 21, 10, 11, 21, 20],
            "model": ["a"] * 4 + ["b"] * 4,
            "pctr": [0.2, 0.1, 0.4, 0.3, 0.1, 0.2, 0.3, 0.4],
            "pcvr": [0.5] * 8,
            "score": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
            "rank": [0, 1, 0, 1, 0, 1, 0, 1],
        }
    )
    # Request 1 showed ad 11 on top, request 2 showed ad 99, which retrieval never proposed.
    logged = pd.DataFrame({"request_id": [1, 1, 2], "ad_id": [11, 10, 99], "position": [1, 2, 1]})
    snapshot = StatisticsSnapshot(as_of=pd.Timestamp("2026-01-10"), prior_ctr=0.03, tables={})
    report = ranking_report(ranked, candidates, logged, {"a": 1.0, "b": 3.0, "features": 2.0}, {5: snapshot}, 1)

    assert report["models"]["a"]["top_equals_logged_winner"] == pytest.approx(0.5)
    assert report["models"]["b"]["top_equals_logged_winner"] == pytest.approx(0.0)
    assert report["models"]["a"]["top_slot_mean_pctr"] == pytest.approx(0.3)
    assert report["models"]["b"]["top_slot_mean_pctr"] == pytest.approx(0.2)
    assert report["references"] == {
        "logged_winner_among_candidates": pytest.approx(0.5),
        "retrieval_first_equals_logged_winner": pytest.approx(0.0),
    }
    assert report["seconds"]["total"] == pytest.approx(6.0)
    assert report["scored_pairs_per_second"] == pytest.approx(4 * 2 / 6.0)
    assert report["statistics_snapshots"] == {"5": {"as_of": "2026-01-10 00:00:00", "prior_ctr": 0.03, "entries": 0}}
