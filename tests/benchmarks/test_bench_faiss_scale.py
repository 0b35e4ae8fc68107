"""The FAISS scale benchmark's quick mode, its catalog generator and its merge into scaleout.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.bench_faiss_scale import (
    index_structures,
    main,
    merge_headline,
    silverman_bandwidth,
    smoothed_bootstrap,
)


def test_quick_mode_measures_every_index_and_writes_its_results(tmp_path: Path):
    result = main(["--quick", "--synthetic", "--results-dir", str(tmp_path)])
    written = json.loads((tmp_path / "faiss_scale.json").read_text())
    assert written["n_ads"] == 5_000 and written["commit"] and written["cores"]
    assert {"load_average_1min_at_start", "load_average_1min_at_end"} <= written.keys()
    exact, *indexes = written["rows"]
    assert exact["name"] == "Flat" and exact["recall_at_k"] == 1.0 and exact["speedup"] == 1.0
    assert len(indexes) == 8  # four structures x nprobe 4 x k_factor 1, 4
    assert {row["shards"] for row in indexes} == {1, 2}
    assert all(0 < row["recall_at_k"] <= 1 and row["index_bytes"] > 0 for row in written["rows"])
    assert written["target"]["name"] in {row["name"] for row in indexes}
    assert (tmp_path / "faiss_scale.md").read_text().startswith("# FAISS at 5,000 ads")
    assert not (tmp_path / "scaleout.json").exists()  # only a 10M-ad run writes the headline
    assert result["rows"] == written["rows"]


def test_the_headline_is_merged_beside_the_other_scale_out_results(tmp_path: Path):
    path = tmp_path / "scaleout.json"
    path.write_text(json.dumps({"dask": {"speedup": 1.7}}))
    target = {
        "recall_at_k": 0.97,
        "speedup_single": 40.0,
        "speedup_batched": 25.0,
        "index_bytes": 2**30,
        "resident_growth_bytes": 2 * 2**30,
        "met": True,
        "name": "IVF4096,PQ17np,RFlat",
    }
    merge_headline(path, {"k": 500, "target": target, "measured_at": "now", "commit": "abc"}, "details.json")
    merged = json.loads(path.read_text())
    assert merged["dask"] == {"speedup": 1.7}
    headline = merged["faiss_10m"]
    assert headline["recall_at_500"] == 0.97 and headline["speedup_vs_exact"] == 25.0 and headline["index_gib"] == 2.0
    assert headline["details"] == "details.json"

    # A later sweep whose best row is slower or misses the recall leaves the headline; a better one replaces it.
    slower = {**target, "met": False, "speedup_single": 18.0, "speedup_batched": 30.0}
    merge_headline(path, {"k": 500, "target": slower, "measured_at": "later", "commit": "def"}, "slower.json")
    assert json.loads(path.read_text())["faiss_10m"]["details"] == "details.json"
    faster = {**target, "speedup_single": 30.0, "speedup_batched": 26.0}
    merge_headline(path, {"k": 500, "target": faster, "measured_at": "later", "commit": "def"}, "faster.json")
    assert json.loads(path.read_text())["faiss_10m"]["speedup_vs_exact"] == 26.0


def test_structures_are_chosen_by_name_in_a_fixed_order():
    chosen = index_structures(4096, 8, 1000, ["pq17", "pq34"])
    assert [spec.factory for spec in chosen] == ["IVF4096,PQ34x8np,RFlat", "IVF4096,PQ17x8np,RFlat"]
    assert [spec.shards for spec in index_structures(64, 8, 1000)] == [1, 2, 1, 1]


def test_the_smoothed_bootstrap_keeps_the_seed_mean_and_covariance_without_repeating_it():
    rng = np.random.default_rng(0)
    seed = rng.normal(size=(500, 3)) @ np.array([[2.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.1]]) + 1.0
    seed = seed.astype(np.float32)
    drawn = smoothed_bootstrap(seed, 200_000, silverman_bandwidth(*seed.shape), rng, chunk_rows=30_000)
    assert drawn.dtype == np.float32 and drawn.shape == (200_000, 3)
    np.testing.assert_allclose(drawn.mean(axis=0), seed.mean(axis=0), atol=0.02)
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), np.cov(seed, rowvar=False), atol=0.03)
    seed_rows = {row.tobytes() for row in seed}
    assert not any(row.tobytes() in seed_rows for row in drawn[:5_000])  # noise on every draw
