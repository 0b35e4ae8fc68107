"""ranking on the test environment: retrieved candidates ranked by every model, as the contract says.

The upstream stages run once for the module. The first test ranks what the indexing pipeline
retrieved; the second stands in for retrieval with each request's logged ads plus random launched
ads (tests/ranking/retrieval_stand_in.py), so logged pairs are candidates and their pCTR can be
compared with ctr_training's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from adrank_pipelines.ranking.objective import group_starts, objective_scores
from adrank_pipelines.ranking.params import ObjectiveParams
from tests.conftest import project_parameters
from tests.integration.conftest import copy_project
from tests.ranking.retrieval_stand_in import retrieved_stand_in

pytestmark = pytest.mark.integration

PARAMS = project_parameters("test")
MODELS = PARAMS["ranking"]["scoring"]["models"]
CAP = PARAMS["ranking"]["candidates"]["max_per_request"]


def _run(project: Path, pipeline_names: Sequence[str]) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test") as session:
        session.run(pipeline_names=list(pipeline_names))


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project copy whose ingest .. ctr_training outputs exist."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        project = copy_project(tmp_path_factory.mktemp("ranking_project"))
        monkeypatch.chdir(project)
        _run(project, ["ingest", "validate", "features", "ctr_training"])
        yield project


def _data(project: Path, folder: str, name: str) -> pd.DataFrame:
    return pd.read_parquet(project / "data" / folder / f"{name}.parquet")


def _check_contract(ranked: pd.DataFrame, retrieved: pd.DataFrame, objective: ObjectiveParams, bids: pd.Series) -> None:
    assert ranked.dtypes.astype(str).to_dict() == {
        "request_id": "int64", "ad_id": "int64", "model": "str", "pctr": "float64", "pcvr": "float64",
        "score": "float64", "rank": "int32",
    }  # fmt: skip
    scored = retrieved.loc[retrieved["retrieval_rank"] < CAP]
    assert len(ranked) == len(MODELS) * len(scored)
    assert ranked["model"].unique().tolist() == MODELS
    assert not ranked.duplicated(["request_id", "ad_id", "model"]).any()
    assert ranked["pctr"].between(0, 1).all() and ranked["pcvr"].between(0, 1).all()
    # Rows come best first: ranks count 0, 1, ... within each request and model.
    np.testing.assert_array_equal(ranked["rank"], ranked.groupby(["model", "request_id"]).cumcount())
    # pCVR is the one model's that ranking.scoring.pcvr_model names, for every model.
    pcvr = ranked.pivot_table(index=["request_id", "ad_id"], columns="model", values="pcvr")
    assert (pcvr.max(axis=1) - pcvr.min(axis=1)).max() < 1e-12
    # The score column is the configured objective of the written pCTR, pCVR and the ad's bid.
    for _, rows in ranked.groupby("model", sort=False):
        expected = objective_scores(
            rows["pctr"].to_numpy(), rows["pcvr"].to_numpy(), bids.loc[rows["ad_id"]].to_numpy(),
            group_starts(rows["request_id"].to_numpy()), objective,
        )  # fmt: skip
        np.testing.assert_allclose(rows["score"], expected, rtol=1e-12)


def test_ranking_ranks_what_indexing_retrieved(trained_project: Path):
    _run(trained_project, ["indexing", "ranking"])

    ranked = _data(trained_project, "07_model_output", "ranked_candidates")
    retrieved = _data(trained_project, "07_model_output", "retrieved_candidates")
    bids = _data(trained_project, "02_intermediate", "validated_ads").set_index("ad_id")["bid"]
    _check_contract(ranked, retrieved, ObjectiveParams.model_validate(PARAMS["ranking"]["objective"]), bids)

    report = json.loads((trained_project / "data" / "08_reporting" / "ranking_report.json").read_text())
    assert set(report["models"]) == set(MODELS)
    assert report["requests"] == retrieved["request_id"].nunique()
    mean_pctr = ranked.groupby("model")["pctr"].mean()
    for model, summary in report["models"].items():
        assert 0.0 <= summary["top_equals_logged_winner"] <= report["references"]["logged_winner_among_candidates"]
        # pCTR is one of the objectives (and drives the revenue term): the top slot holds more of it.
        assert summary["top_slot_mean_pctr"] > mean_pctr[model]


def _first_request_top_slots(test: pd.DataFrame) -> pd.DataFrame:
    """Logged top-slot rows of the test day's first instant: there the snapshot equals the logged statistics."""
    first = test.loc[(test["event_time"] == test["event_time"].min()) & (test["position"] == 1)]
    return first[["impression_id", "request_id", "ad_id"]]


def test_logged_pairs_get_the_pctr_ctr_training_gave_them(trained_project: Path):
    """Where a candidate is a logged top-slot pair with nothing earlier that day (the snapshot then
    equals the logged statistics), its pCTR is the one ctr_training gave the logged impression."""
    test = _data(trained_project, "05_model_input", "model_input_test")
    requests = _data(trained_project, "02_intermediate", "validated_requests")
    ads = _data(trained_project, "02_intermediate", "validated_ads")
    retrieved = retrieved_stand_in(requests.loc[requests["request_id"].isin(test["request_id"])], test, ads, CAP)
    retrieved.to_parquet(trained_project / "data" / "07_model_output" / "retrieved_candidates.parquet")
    # A stand-in written by hand replaces indexing's output: drop its lineage entry, as README says.
    (trained_project / "data" / "lineage" / "retrieved_candidates.json").unlink(missing_ok=True)
    _run(trained_project, ["ranking"])

    ranked = _data(trained_project, "07_model_output", "ranked_candidates")
    _check_contract(ranked, retrieved, ObjectiveParams.model_validate(PARAMS["ranking"]["objective"]),
                    ads.set_index("ad_id")["bid"])  # fmt: skip
    first = _first_request_top_slots(test)
    assert len(first) > 0
    # Ranking reads each model's saved calibrator: its pCTR is ctr_training's calibrated one.
    for model in MODELS:
        predictions = _data(trained_project, "07_model_output", f"{model}/calibrated_predictions")
        logged = first.merge(predictions.loc[predictions["split"] == "test"], on="impression_id")
        candidate = logged[["request_id", "ad_id"]].merge(ranked.loc[ranked["model"] == model])
        assert len(candidate) == len(first)
        np.testing.assert_allclose(candidate["pctr"], logged["pctr"], rtol=1e-5, err_msg=model)
    report = json.loads((trained_project / "data" / "08_reporting" / "ranking_report.json").read_text())
    assert report["references"]["logged_winner_among_candidates"] == 1.0  # the stand-in retrieves logged ads
