"""The hand-over contract hook, run through Kedro's own runner on a tiny catalog of stub datasets."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import AbstractDataset, DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from adrank_pipelines import contract_hooks
from adrank_pipelines.contract_hooks import HandoverContracts
from adrank_pipelines.schemas.handover import HandoverContractError, UnknownContractError

PREDICTIONS = {"contract": "predictions", "kedro-viz": {"layer": "07_model_output"}}


class StubDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Keeps what it is given and records every save, so a test sees whether anything was written."""

    def __init__(self, data: pd.DataFrame | None = None, metadata: dict[str, Any] | None = None) -> None:
        self.data = data
        self.metadata = metadata
        self.saved: list[pd.DataFrame] = []

    def load(self) -> pd.DataFrame:
        assert self.data is not None
        return self.data

    def save(self, data: pd.DataFrame) -> None:
        self.saved.append(data)
        self.data = data

    def _describe(self) -> dict[str, Any]:
        return {"metadata": self.metadata}


def good_predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {"impression_id": np.array([1, 2], dtype=np.int64), "split": ["test", "test"], "pctr": [0.1, 0.2]}
    )


def bad_predictions() -> pd.DataFrame:
    return good_predictions().assign(pctr=[0.1, 1.7])


def run(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """What a KedroSession does with the project's hooks: before_pipeline_run, then the runner."""
    manager = _create_hook_manager()
    manager.register(HandoverContracts())
    manager.hook.before_pipeline_run(run_params={}, pipeline=pipeline, catalog=catalog)
    SequentialRunner().run(pipeline, catalog, hook_manager=manager)


def producing(frame: pd.DataFrame, output: str) -> Pipeline:
    return Pipeline([Node(lambda: frame, None, output, name="produce")])


def consuming(dataset: str, received: list[pd.DataFrame]) -> Pipeline:
    def consume(frame: pd.DataFrame) -> int:
        received.append(frame)
        return len(frame)

    return Pipeline([Node(consume, dataset, "report", name="consume")])


def test_a_table_that_breaks_its_contract_is_never_saved():
    stored = StubDataset(metadata=PREDICTIONS)
    with pytest.raises(HandoverContractError) as raised:
        run(producing(bad_predictions(), "lightgbm_predictions"), DataCatalog({"lightgbm_predictions": stored}))
    message = str(raised.value)
    assert "dataset 'lightgbm_predictions' breaks its contract 'predictions' before it is saved" in message
    assert "column 'pctr', check 'in_range(0.0, 1.0)'" in message
    assert "row 1: {'impression_id': 2, 'pctr': 1.7}" in message
    assert stored.saved == []


def test_a_table_that_keeps_its_contract_is_saved():
    stored = StubDataset(metadata=PREDICTIONS)
    run(producing(good_predictions(), "lightgbm_predictions"), DataCatalog({"lightgbm_predictions": stored}))
    assert len(stored.saved) == 1


def test_a_consumer_never_receives_a_loaded_table_that_breaks_its_contract():
    received = []
    catalog = DataCatalog(
        {"lightgbm_predictions": StubDataset(bad_predictions(), PREDICTIONS), "report": StubDataset()}
    )
    loaded = "dataset 'lightgbm_predictions' breaks its contract 'predictions' after it was loaded"
    with pytest.raises(HandoverContractError, match=loaded):
        run(consuming("lightgbm_predictions", received), catalog)
    assert received == []


def test_a_dataset_without_a_contract_is_untouched():
    bad = bad_predictions()
    stored = StubDataset(metadata={"kedro-viz": {"layer": "07_model_output"}})
    received = []
    run(
        producing(bad, "scores") + consuming("scores", received),
        DataCatalog({"scores": stored, "report": StubDataset()}),
    )
    assert stored.saved[0] is bad
    assert received[0] is bad


def test_a_dataset_factory_pattern_gives_its_contract_to_every_dataset_it_matches():
    catalog = DataCatalog.from_config(
        {"{model}_predictions": {"type": "MemoryDataset", "metadata": {"contract": "predictions"}}}
    )
    with pytest.raises(HandoverContractError, match="dataset 'hybrid_predictions' breaks its contract 'predictions'"):
        run(producing(bad_predictions(), "hybrid_predictions"), catalog)
    assert not catalog.exists("hybrid_predictions")


def test_an_unknown_contract_name_fails_before_any_node_runs_with_a_did_you_mean():
    ran = []
    catalog = DataCatalog({"lightgbm_predictions": StubDataset(metadata={"contract": "prediction"})})
    pipeline = Pipeline([Node(lambda: ran.append(1) or good_predictions(), None, "lightgbm_predictions")])
    with pytest.raises(UnknownContractError) as raised:
        run(pipeline, catalog)
    assert "dataset 'lightgbm_predictions' names the contract 'prediction'" in str(raised.value)
    assert "did you mean 'predictions'?" in str(raised.value)
    assert ran == []


def test_a_contract_on_a_dataset_that_holds_no_table_fails_naming_it():
    catalog = DataCatalog({"ranking_timings": StubDataset(metadata={"contract": "ranked_candidates"})})
    with pytest.raises(
        TypeError, match=r"dataset 'ranking_timings' names the contract 'ranked_candidates'.*holds a dict"
    ):
        run(Pipeline([Node(lambda: {"seconds": 1.0}, None, "ranking_timings")]), catalog)


def test_a_table_read_by_several_nodes_is_checked_once_per_write(monkeypatch):
    checked = []
    real = contract_hooks.enforce_handover_contract

    def counting(dataset: str, frame: pd.DataFrame, contract: str, moment: str, max_examples: int) -> None:
        checked.append((dataset, moment))
        real(dataset, frame, contract, moment, max_examples)

    monkeypatch.setattr(contract_hooks, "enforce_handover_contract", counting)
    catalog = DataCatalog(
        {"lightgbm_predictions": StubDataset(metadata=PREDICTIONS), "first": StubDataset(), "second": StubDataset()}
    )
    pipeline = producing(good_predictions(), "lightgbm_predictions") + Pipeline(
        [Node(len, "lightgbm_predictions", name, name=f"read_{name}") for name in ("first", "second")]
    )
    run(pipeline, catalog)
    assert checked == [
        ("lightgbm_predictions", "before it is saved"),
        ("lightgbm_predictions", "after it was loaded"),
    ]
