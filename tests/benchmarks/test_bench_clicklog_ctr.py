"""benchmarks/bench_clicklog_ctr.py in its smallest mode: a file of one's own, two seeds, a split chosen by --params.

A one-day Avazu-format file cannot take the environment's time split (one day each for train, valid
and test); the split named on the command line reaches the run, and every model of the click-log
graph is reported per seed with its mean and standard deviation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adrank_pipelines.clicklogs.synthetic import avazu_like
from tests.conftest import PROJECT_ROOT, project_parameters

pytestmark = pytest.mark.integration

SCRIPT = PROJECT_ROOT / "benchmarks" / "bench_clicklog_ctr.py"


def test_the_smallest_run_reports_every_model_per_seed_on_the_split_it_was_given(tmp_path: Path) -> None:
    log_file = avazu_like(3_000, seed=5, n_days=1).write(tmp_path / "one_day.csv")
    results = tmp_path / "results"
    results.mkdir()
    (results / "ctr_zoo.json").write_text(json.dumps({"simulated": {"transformer": {"auc_mean": 0.7}}}))
    split = "clicklog_features.splits.method=random,clicklog_features.splits.valid_fraction=0.2"
    command = [sys.executable, str(SCRIPT), "--formats", "--file", str(log_file), "--format", "avazu",
               "--seeds", "2", "--params", split, "--results", str(results), "--out", "smallest"]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    result = json.loads((results / "smallest.json").read_text())
    assert {"commit", "cores", "load_average_1min"} <= set(result["machine_start"]) & set(result["machine_end"])
    block = result["formats"]["avazu (one_day.csv)"]
    rows = block["split_rows"]
    assert sum(rows.values()) == 3_000
    assert 0.15 < rows["valid"] / 3_000 < 0.25 and 0.05 < rows["test"] / 3_000 < 0.15  # the random split asked for
    models = project_parameters("avazu")["clicklog_training"]["models"]
    assert set(block["models"]) == set(models)
    for name, figures in block["models"].items():
        assert len(figures["auc"]) == 2 and 0.4 < figures["auc_mean"] < 1.0, name
        assert figures["auc_std"] >= 0.0
    assert block["models"]["baseline"]["auc_std"] == 0.0  # a logistic regression has no seed
    assert block["planted_auc"] is None  # a file of one's own has no planted probability

    zoo = json.loads((results / "ctr_zoo.json").read_text())
    assert zoo["simulated"] == {"transformer": {"auc_mean": 0.7}}  # other keys are kept
    assert set(zoo["clicklog"]["avazu (one_day.csv)"]) == set(models)
    assert "field_attention" in (results / "smallest.md").read_text()
