"""`--env dask` on the test world: the features and LightGBM of the Dask path equal the in-memory path's.

Kedro takes one environment, so the project copy gets `conf/dask_test`: conf/test and conf/dask merged
(a file both hold merged key by key), with a LocalCluster of two single-thread worker processes.
LightGBM is compared on one worker: its 20 trees on ~14k rows peak at the third, so the trees of a
two-worker data-parallel fit move the test AUC by noise alone (0.008 measured); the default world's
two-worker comparison is in benchmarks/bench_scaleout_data.py.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from omegaconf import OmegaConf
from sklearn.metrics import roc_auc_score

from adrank_pipelines.features.splits import SPLITS

pytestmark = pytest.mark.integration

SMALL_CLUSTER = {"dask": {"n_workers": 2, "threads_per_worker": 1, "processes": True, "memory_limit": "2GiB"}}


def _merged_environment(conf: Path, name: str, *environments: str, extra: dict) -> None:
    target = conf / name
    target.mkdir()
    files = sorted({path.name for env in environments for path in (conf / env).glob("*.yml")})
    for file in files:
        parts = [OmegaConf.load(conf / env / file) for env in environments if (conf / env / file).exists()]
        (target / file).write_text(OmegaConf.to_yaml(OmegaConf.merge(*parts)))
    (target / "parameters_dask_cluster.yml").write_text(yaml.safe_dump(extra))


def _run(project: Path, env: str, pipeline_name: str, runtime_params: dict | None = None, **filters) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
        session.run(pipeline_name=pipeline_name, **filters)


def _model_inputs(data: Path) -> dict[str, pd.DataFrame]:
    return {
        split: pd.read_parquet(data / "05_model_input" / f"model_input_{split}.parquet")
        .sort_values("impression_id")
        .reset_index(drop=True)
        for split in SPLITS
    }


def _lightgbm_test_auc(project: Path, test: pd.DataFrame) -> float:
    predictions = pd.read_parquet(project / "data" / "07_model_output" / "lightgbm" / "predictions.parquet")
    scored = test[["impression_id", "click"]].merge(predictions, on="impression_id")
    assert len(scored) == len(test)
    return float(roc_auc_score(scored["click"], scored["pctr"]))


def test_dask_environment_matches_the_in_memory_path(project_copy: Path):
    conf, data = project_copy / "conf", project_copy / "data"
    # `dask_test` rather than a test world passed as --params: the start-up checks and the catalog see one env.
    _merged_environment(conf, "dask_test", "test", "dask", extra=SMALL_CLUSTER)
    for stage in ("ingest", "validate", "features"):
        _run(project_copy, "test", stage)
    _run(project_copy, "test", "ctr_training", namespaces=["lightgbm"])
    in_memory = _model_inputs(data)
    in_memory_auc = _lightgbm_test_auc(project_copy, in_memory["test"])
    snapshots = pickle.loads((data / "05_model_input" / "statistics_snapshots.pkl").read_bytes())

    _run(project_copy, "dask_test", "features")
    _run(project_copy, "dask_test", "ctr_training", {"dask": {"n_workers": 1}}, namespaces=["lightgbm"])
    partitioned = _model_inputs(data)

    enriched_days = sorted(path.name for path in (data / "03_primary" / "impressions_enriched").glob("*.parquet"))
    assert (
        len(enriched_days) == pd.read_parquet(data / "01_raw" / "impressions.parquet", columns=["day"])["day"].nunique()
    )
    for split in SPLITS:
        pd.testing.assert_frame_equal(partitioned[split], in_memory[split], check_exact=True)
    assert sum(len(frame) for frame in partitioned.values()) > 0
    assert pickle.loads((data / "05_model_input" / "statistics_snapshots.pkl").read_bytes()).keys() == snapshots.keys()
    assert _lightgbm_test_auc(project_copy, partitioned["test"]) == pytest.approx(in_memory_auc, abs=0.002)
