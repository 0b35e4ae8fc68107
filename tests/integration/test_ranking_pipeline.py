"""ranking on the test environment: every capped candidate ranked by every model, as the contract says.

Retrieval is stood in for by random eligible ads plus each request's logged ads
(tests/ranking/retrieval_stand_in.py), written where the indexing pipeline writes its candidates.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from adrank_pipelines.ranking.objective import group_starts, objective_scores
from adrank_pipelines.ranking.params import ObjectiveParams
from tests.conftest import project_parameters
from tests.ranking.retrieval_stand_in import retrieved_stand_in

pytestmark = pytest.mark.integration

RETRIEVED = "data/07_model_output/retrieved_candidates.parquet"


def _stand_in_retrieval(project: Path, top_k: int) -> pd.DataFrame:
    data = project / "data"
    test = pd.read_parquet(data / "05_model_input" / "model_input_test.parquet")
    requests = pd.read_parquet(data / "02_intermediate" / "validated_requests.parquet")
    ads = pd.read_parquet(data / "02_intermediate" / "validated_ads.parquet")
    retrieved = retrieved_stand_in(requests.loc[requests["request_id"].isin(test["request_id"])], test, ads, top_k)
    retrieved.to_parquet(project / RETRIEVED)
    entry = {"retrieved_candidates": {"type": "pandas.ParquetDataset", "filepath": RETRIEVED}}
    (project / "conf" / "test" / "catalog_retrieval_stand_in.yml").write_text(yaml.safe_dump(entry))
    return retrieved


def _first_request_top_slots(data: Path) -> pd.DataFrame:
    """Logged top-slot rows of the test day's first instant: there the snapshot equals the logged statistics."""
    test = pd.read_parquet(data / "05_model_input" / "model_input_test.parquet")
    first = test.loc[(test["event_time"] == test["event_time"].min()) & (test["position"] == 1)]
    return first[["impression_id", "request_id", "ad_id"]]


def test_ranking_ranks_every_candidate_with_every_model_as_the_contract_says(project_copy: Path):
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_names=["ingest", "validate", "features", "ctr_training"])
    retrieved = _stand_in_retrieval(project_copy, top_k=60)
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_name="ranking")

    params = project_parameters("test")["ranking"]
    cap, models = params["candidates"]["max_per_request"], params["scoring"]["models"]
    data = project_copy / "data"
    ranked = pd.read_parquet(data / "07_model_output" / "ranked_candidates.parquet")
    assert ranked.dtypes.astype(str).to_dict() == {
        "request_id": "int64", "ad_id": "int64", "model": "str", "pctr": "float64", "pcvr": "float64",
        "score": "float64", "rank": "int32",
    }  # fmt: skip
    scored = retrieved.loc[retrieved["retrieval_rank"] < cap]
    assert len(ranked) == len(models) * len(scored)
    assert ranked["model"].unique().tolist() == models
    assert not ranked.duplicated(["request_id", "ad_id", "model"]).any()
    assert ranked["pctr"].between(0, 1).all() and ranked["pcvr"].between(0, 1).all()
    # Rows come best first: ranks count 0, 1, ... within each request and model.
    np.testing.assert_array_equal(ranked["rank"], ranked.groupby(["model", "request_id"]).cumcount())
    # pCVR is the transformer's for every model.
    pcvr = ranked.pivot_table(index=["request_id", "ad_id"], columns="model", values="pcvr")
    assert (pcvr.max(axis=1) - pcvr.min(axis=1)).max() < 1e-12

    # The score column is the configured objective of the written pCTR, pCVR and the ad's bid.
    bids = pd.read_parquet(data / "02_intermediate" / "validated_ads.parquet").set_index("ad_id")["bid"]
    for _, rows in ranked.groupby("model", sort=False):
        expected = objective_scores(
            rows["pctr"].to_numpy(), rows["pcvr"].to_numpy(), bids.loc[rows["ad_id"]].to_numpy(),
            group_starts(rows["request_id"].to_numpy()), ObjectiveParams.model_validate(params["objective"]),
        )  # fmt: skip
        np.testing.assert_allclose(rows["score"], expected, rtol=1e-12)

    # Where a candidate is a logged top-slot pair with nothing earlier that day, its pCTR is the one
    # ctr_training gave the logged impression.
    first = _first_request_top_slots(data)
    assert len(first) > 0
    written = {"lightgbm": "lightgbm_calibrated", "transformer": "transformer_calibrated", "hybrid": "hybrid"}
    for model, predictions_name in written.items():
        predictions = pd.read_parquet(data / "07_model_output" / f"{predictions_name}_predictions.parquet")
        logged = first.merge(predictions.loc[predictions["split"] == "test"], on="impression_id")
        candidate = logged[["request_id", "ad_id"]].merge(ranked.loc[ranked["model"] == model])
        np.testing.assert_allclose(candidate["pctr"], logged["pctr"], rtol=1e-5, err_msg=model)

    report = json.loads((data / "08_reporting" / "ranking_report.json").read_text())
    assert set(report["models"]) == set(models)
    assert report["requests"] == scored["request_id"].nunique()
    assert report["references"]["logged_winner_among_candidates"] == 1.0  # the stand-in retrieves logged ads
    mean_pctr = ranked.groupby("model")["pctr"].mean()
    for model, summary in report["models"].items():
        assert 0.0 <= summary["top_equals_logged_winner"] <= 1.0
        # pCTR is one of the objectives (and drives the revenue term): the top slot holds more of it.
        assert summary["top_slot_mean_pctr"] > mean_pctr[model]
