"""No stage runs on stale or mixed inputs: the lineage manifest on real runs of the test world.

Each test starts from the outputs of the shared test-world run (copied with their modification times,
so the manifest still matches them), changes something upstream, and runs a downstream stage.
"""

from __future__ import annotations

import importlib
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from adrank_pipelines.lineage import LineageEntry, LineageStore, StaleInputError, fingerprint, stale_input_reason
from tests.integration.conftest import copy_project, copy_run_outputs

pytestmark = pytest.mark.integration

REFUSAL = "refuses an input"
DOWNSTREAM = ["features", "ctr_training", "indexing", "ranking", "auction_eval", "drift"]


@pytest.fixture
def run_copy(default_run_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = copy_project(tmp_path / "project")
    copy_run_outputs(default_run_project, project)
    monkeypatch.chdir(project)
    bootstrap_project(project)
    return project


def _run(project: Path, pipeline: str, params: dict | None = None) -> None:
    with KedroSession.create(project_path=project, env="test", runtime_params=params) as session:
        session.run(pipeline_names=[pipeline])


def test_a_stage_refuses_inputs_made_from_an_older_upstream_and_names_the_pipeline_to_rerun(run_copy: Path):
    _run(run_copy, "ingest", {"marketplace": {"seed": 7}})
    before = fingerprint(run_copy / "data" / "05_model_input" / "model_input_train.parquet")
    with pytest.raises(StaleInputError, match=r"made from an older '\w+'.*kedro run --pipelines validate"):
        _run(run_copy, "features")
    assert fingerprint(run_copy / "data" / "05_model_input" / "model_input_train.parquet") == before
    _run(run_copy, "validate")
    _run(run_copy, "features")


def test_a_raw_table_replaced_outside_a_run_is_never_read_through_its_old_validation(run_copy: Path):
    ads = run_copy / "data" / "01_raw" / "ads.parquet"
    pd.read_parquet(ads).head(100).to_parquet(ads)
    with pytest.raises(StaleInputError, match=r"made from 'ads', which has changed since"):
        _run(run_copy, "features")


def _assert_consistent(project: Path, stage: str) -> None:
    """Every persisted input of ``stage`` is what its producer last wrote, made from current parents."""
    with KedroSession.create(project_path=project, env="test") as session:
        catalog = session.load_context().catalog
    store = LineageStore(project / "data" / "lineage")

    def lookup(name: str) -> tuple[LineageEntry | None, str | None]:
        location = catalog.get(name)._describe().get("filepath")
        return store.get(name), fingerprint(Path(location)) if location else None

    for name in sorted(importlib.import_module(f"adrank_pipelines.pipelines.{stage}").create_pipeline().inputs()):
        entry, current = lookup(name) if not name.startswith("params:") else (None, None)
        assert stale_input_reason(name, current, entry, lookup) is None, name


def test_interrupted_runs_leave_no_mixed_inputs_behind(run_copy: Path):
    """Fault injection: a whole-graph run stopped by Ctrl-C at a random moment, then a random downstream
    stage, three times; that stage either completes on consistent inputs or refuses with the lineage message."""
    chance = random.Random(13)
    kedro = str(Path(sys.executable).with_name("kedro"))
    for _ in range(3):
        interrupted = subprocess.Popen(
            [kedro, "run", "--env", "test"], cwd=run_copy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(chance.uniform(4.0, 25.0))
        interrupted.send_signal(signal.SIGINT)
        interrupted.wait(timeout=120)
        stage = chance.choice(DOWNSTREAM)
        done = subprocess.run(
            [kedro, "run", "--env", "test", "--pipelines", stage], cwd=run_copy, capture_output=True, text=True
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0 or REFUSAL in output, output[-3000:]
        if done.returncode == 0:
            _assert_consistent(run_copy, stage)
