"""`kedro run --pipeline lifecycle --env test`: the decision log, the daily figures, the report and its plot."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from adrank_pipelines.lifecycle.registry import CHAMPION, resolve_alias

pytestmark = pytest.mark.integration


def test_the_lifecycle_pipeline_writes_its_log_report_and_plot(project_copy: Path):
    uri = f"sqlite:///{project_copy / 'registry.db'}"
    registry = {"lifecycle": {"scenario": {"registry": {"uri": uri, "artifacts_dir": str(project_copy / "models")}}}}
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test", runtime_params=registry) as session:
        session.run(pipeline_name="lifecycle")

    reporting = project_copy / "data" / "08_reporting"
    report = json.loads((reporting / "lifecycle_report.json").read_text())
    days = pd.read_csv(reporting / "lifecycle_days.csv")
    decisions = pd.read_parquet(reporting / "lifecycle_decisions.parquet")
    assert report["days_played"] == len(days) > 0
    assert report["decisions"]["bootstrap"] == 1 and report["decisions"]["promotion"] >= 2
    assert report["wrong_promotions"] == 0 and report["promotions"] >= 1
    assert (reporting / "lifecycle_plot.png").stat().st_size > 0
    assert set(decisions["decision"]) >= {"bootstrap", "pre_traffic_gates", "rollout_start", "promotion"}
    assert decisions["evidence"].map(json.loads).map(lambda evidence: isinstance(evidence, dict)).all()
    champion = resolve_alias(uri, "lifecycle_ctr", CHAMPION)
    promoted = decisions.loc[(decisions["decision"] == "promotion") & decisions["passed"].astype(bool), "version"]
    assert champion.version == int(promoted.iloc[-1]) and Path(champion.source).is_file()
