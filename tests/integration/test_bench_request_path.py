"""benchmarks/bench_request_path.py measures the request path of a finished run, per tier and batch size."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_request_path import _markdown, measure

pytestmark = pytest.mark.integration


def test_cpu_per_request_is_measured_for_every_tier_and_batch_size(
    default_run_project: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(default_run_project)  # measure() moves to the project; the fixture restores the folder
    figures = measure(default_run_project, "test", ["lightgbm", "transformer"], [1, 4], n_batches=2)

    assert set(figures) == {"lightgbm batch 1", "lightgbm batch 4", "transformer batch 1", "transformer batch 4"}
    assert all(0.0 < ms < 60_000.0 for ms in figures.values())
    result = {
        "project": str(default_run_project), "env": "test", "n_batches": 2, "rounds": 1,
        "machine_start": {"cores": 2, "load_average_1min": 0.5}, "machine_end": {"cores": 2, "load_average_1min": 0.7},
        "sources": {"this tree": {"commit": "0123456789abcdef", "median": figures}},
    }  # fmt: skip
    table = _markdown(result)
    assert "| lightgbm batch 4 | " in table and "`0123456789` (this tree)" in table
