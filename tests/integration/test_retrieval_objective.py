"""The towers' retrieval objective on the test world: without bid weighting, retrieval finds the oracle's best ad
(true eCPM) far more often when the towers are trained with it than when they learn from the click loss alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.conftest import project_parameters

pytestmark = pytest.mark.integration

# Measured on the test world (K = 50 of ~430 ads, 200 sampled requests), training seeds 0, 1, 2: the oracle's
# best ad retrieved with bid_weight 0 for 0.235 / 0.255 / 0.235 of requests without the term and
# 0.645 / 0.615 / 0.595 with conf/test's weight (0.02); the smallest gap was 0.34.
MARGIN = 0.15


def _session(project: Path, params: dict[str, Any]) -> KedroSession:
    return KedroSession.create(project_path=project, env="test", runtime_params=params)


def _oracle_share_without_bids(project: Path, weight: float) -> float:
    objective = {"ctr_models": {"transformer": {"retrieval_objective": {"weight": weight}}}}
    with _session(project, objective) as session:
        session.run(pipeline_name="ctr_training", namespaces=["transformer"])
    with _session(project, {"indexing": {"bid_weight": 0.0}}) as session:
        session.run(pipeline_name="indexing")
    report = json.loads((project / "data" / "08_reporting" / "indexing_report.json").read_text())
    assert report["bid_weight"] == 0.0
    share: float = report["pipeline"]["oracle_best_ad_share"]
    return share


def test_the_retrieval_objective_raises_the_oracle_best_ad_share_at_bid_weight_0(project_copy: Path):
    bootstrap_project(project_copy)
    with _session(project_copy, {}) as session:
        session.run(pipeline_names=["ingest", "validate", "features"])
    without = _oracle_share_without_bids(project_copy, weight=0.0)
    weight = project_parameters("test")["ctr_models"]["transformer"]["retrieval_objective"]["weight"]
    assert weight > 0
    with_term = _oracle_share_without_bids(project_copy, weight=weight)
    assert with_term >= without + MARGIN, (without, with_term)
