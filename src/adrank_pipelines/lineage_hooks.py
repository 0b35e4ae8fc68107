"""Kedro hooks that keep the lineage manifest and refuse stale or mixed inputs (adrank_pipelines.lineage)."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol
from kedro.pipeline import Node, Pipeline

from adrank_pipelines.lineage import LineageEntry, LineageStore, StaleInputError, fingerprint, stale_input_reason
from adrank_pipelines.pipeline_registry import DEFAULT, pipeline_names

logger = logging.getLogger(__name__)

_PARAMETERS = "parameters"
_PARAMS_PREFIX = "params:"


def _producing_pipeline(dataset: str) -> str | None:
    """The smallest pipeline that writes ``dataset``: the one to re-run.

    Every stage package is looked up, not Kedro's registry: `kedro run --pipelines X` loads X alone.
    """
    producers = []
    for name in pipeline_names():
        if name == DEFAULT:
            continue
        pipeline = importlib.import_module(f"adrank_pipelines.pipelines.{name}").create_pipeline()
        if dataset in pipeline.all_outputs():
            producers.append((len(pipeline.nodes), name))
    return min(producers)[1] if producers else None


class DatasetLineage:
    """Records what every persisted output was made from and checks each persisted input before it is read.

    An output is committed to the manifest only after every output of its node has been saved; the
    file it replaces is kept aside until then and put back if the run fails or is interrupted.
    """

    def __init__(self, folder: str = "data/lineage") -> None:
        self._folder = folder
        self._store: LineageStore | None = None
        self._catalog: CatalogProtocol | None = None
        self._paths: dict[str, Path | None] = {}
        self._versioned: set[str] = set()
        self._run_id = ""
        self._loaded: dict[str, dict[str, str]] = defaultdict(dict)
        self._parameters: dict[str, dict[str, str]] = defaultdict(dict)
        self._saved: dict[str, dict[str, str]] = defaultdict(dict)
        self._set_aside: set[Path] = set()

    # -- where each dataset lives ----------------------------------------------------------------------
    def _path(self, dataset: str) -> Path | None:
        if dataset not in self._paths:
            self._paths[dataset] = self._resolve(dataset)
        return self._paths[dataset]

    def _resolve(self, dataset: str) -> Path | None:
        if self._catalog is None or dataset == _PARAMETERS or dataset.startswith(_PARAMS_PREFIX):
            return None
        dataset_object = self._catalog.get(dataset)
        if dataset_object is None:
            return None
        # _describe() is the one view every Kedro dataset gives of where it writes.
        description = dataset_object._describe()
        location = description.get("filepath") or description.get("path")
        if description.get("version") is not None:
            self._versioned.add(dataset)
        return Path(str(location)) if location else None

    def _current(self, dataset: str) -> tuple[LineageEntry | None, str | None]:
        path = self._path(dataset)
        return self.store.get(dataset), fingerprint(path) if path is not None else None

    @property
    def store(self) -> LineageStore:
        if self._store is None:
            raise RuntimeError("the lineage store is set up when the Kedro context is created")
        return self._store

    # -- hooks -------------------------------------------------------------------------------------------
    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._store = LineageStore(Path(context.project_path) / self._folder)

    @hook_impl
    def after_catalog_created(self, catalog: CatalogProtocol) -> None:
        self._catalog = catalog
        self._paths.clear()

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline) -> None:
        self._run_id = str(run_params.get("run_id") or run_params.get("session_id") or uuid.uuid4().hex)
        # One hook instance serves every session of a process: nothing of an earlier, failed run carries over.
        for per_node in (self._loaded, self._parameters, self._saved):
            per_node.clear()
        restored = [name for name in sorted(pipeline.datasets()) if self._restore(name)]
        if restored:
            logger.warning("lineage: put back the last complete write of %s (a run was interrupted)", restored)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        if self._restore(dataset_name):
            logger.warning("lineage: put back the last complete write of '%s' (a run was interrupted)", dataset_name)
        entry, current = self._current(dataset_name)
        if current is None and entry is None:
            return
        reason = stale_input_reason(dataset_name, current, entry, self._current)
        if reason is not None:
            producer = _producing_pipeline(dataset_name)
            rerun = f"kedro run --pipelines {producer}" if producer else "the pipeline that writes it"
            raise StaleInputError(f"node '{node.name}' refuses an input: {reason}. Re-run `{rerun}` first.")
        if current is not None:
            self._loaded[node.name][dataset_name] = current

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        if dataset_name == _PARAMETERS or dataset_name.startswith(_PARAMS_PREFIX):
            encoded = json.dumps(data, sort_keys=True, default=str).encode()
            self._parameters[node.name][dataset_name] = hashlib.sha256(encoded).hexdigest()[:16]

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, node: Node) -> None:
        path = self._path(dataset_name)
        if path is not None and dataset_name not in self._versioned and path.exists():
            self.store.set_aside(path)
            self._set_aside.add(path)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Node) -> None:
        path = self._path(dataset_name)
        written = fingerprint(path) if path is not None else None
        if written is None:
            return
        self._saved[node.name][dataset_name] = written
        tracked = {name for name in node.outputs if self._path(name) is not None}
        if tracked <= set(self._saved[node.name]):
            self._commit(node)

    @hook_impl
    def on_pipeline_error(self, pipeline: Pipeline) -> None:
        restored = [name for name in sorted(pipeline.datasets()) if self._restore(name)]
        if restored:
            logger.warning("lineage: the run failed; kept the last complete write of %s", restored)

    # -- commit and recovery -----------------------------------------------------------------------------
    def _commit(self, node: Node) -> None:
        written_at = datetime.now(UTC).isoformat(timespec="seconds")
        parameters = self._parameters.pop(node.name, {})
        parameter_hash = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:16]
        inputs = self._loaded.pop(node.name, {})
        saved = self._saved.pop(node.name)
        self.store.put(
            LineageEntry(name, fp, self._run_id, node.name, written_at, inputs, parameter_hash)
            for name, fp in saved.items()
        )
        for name in saved:
            path = self._path(name)
            if path is not None and path in self._set_aside:
                self.store.discard_previous(path)
                self._set_aside.discard(path)

    def _restore(self, dataset: str) -> bool:
        path = self._path(dataset)
        if path is None or dataset in self._versioned:
            return False
        self._set_aside.discard(path)
        return self.store.restore_previous(path)
