"""Kedro hook that holds every table handed between stages to the contract its catalog entry names.

An entry opts in with ``metadata: {contract: <name>}`` (a name of
``schemas.handover.HANDOVER_CONTRACTS``), beside its ``kedro-viz`` metadata; a dataset factory
pattern's metadata holds for every dataset it matches. The producer's output is checked before it
is saved, so a table that breaks its contract is never written, and the consumer's input after it
is loaded, so a file edited on disk, written by an older version of its producer, or changed by
the round trip through its file format cannot reach the node that reads it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol
from kedro.pipeline import Pipeline

from adrank_pipelines.schemas.handover import enforce_handover_contract, handover_contract

CONTRACT_KEY = "contract"
_SAVING = "before it is saved"
_LOADED = "after it was loaded"


class HandoverContracts:
    """Checks the tables whose catalog entry names a contract when they are saved and loaded.

    A run checks a table once per write: before it is saved, and on its first load after that (what
    the consumer reads is the file, whose format may change dtypes). Later loads in the same run read
    the same file again, so ranked_candidates, read by three auction nodes, is not checked three times.
    """

    def __init__(self, max_examples: int = 5) -> None:
        self._max_examples = max_examples
        self._catalog: CatalogProtocol | None = None
        self._loaded_since_saved: set[str] = set()

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        self._catalog = catalog
        self._loaded_since_saved.clear()
        # A misspelt contract name fails here, before any node runs, not when its table is first saved.
        for dataset in sorted(pipeline.datasets()):
            self._contract_name(dataset)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any) -> None:
        self._enforce(dataset_name, data, _SAVING)
        self._loaded_since_saved.discard(dataset_name)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        if dataset_name not in self._loaded_since_saved:
            self._enforce(dataset_name, data, _LOADED)
            self._loaded_since_saved.add(dataset_name)

    def _enforce(self, dataset: str, data: Any, moment: str) -> None:
        contract = self._contract_name(dataset)
        if contract is None:
            return
        if not isinstance(data, pd.DataFrame):
            raise TypeError(
                f"dataset '{dataset}' names the contract '{contract}' in its catalog metadata, but {moment} it "
                f"holds a {type(data).__name__}, not a pandas DataFrame"
            )
        enforce_handover_contract(dataset, data, contract, moment, self._max_examples)

    def _contract_name(self, dataset: str) -> str | None:
        """The contract the dataset's catalog entry names (checked to exist), or None when it names none.

        Without the catalog of a run (the hook sees one in ``before_pipeline_run``) no contract is known.
        """
        if self._catalog is None:
            return None
        # The dataset object carries its entry's (or its factory pattern's) `metadata`, as kedro-viz reads it;
        # a dataset that takes no metadata (parameters, MLflow wrappers) has none.
        entry = self._catalog.get(dataset)
        metadata = getattr(entry, "metadata", None) or {}
        contract = metadata.get(CONTRACT_KEY)
        if contract is None:
            return None
        if not isinstance(contract, str):
            raise TypeError(
                f"dataset '{dataset}': catalog metadata '{CONTRACT_KEY}' must be one contract name, not {contract!r}"
            )
        handover_contract(contract, dataset)
        return contract
