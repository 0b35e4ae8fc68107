"""kedro-viz can order the catalog's layers: no node reads a later layer than one it writes."""

from __future__ import annotations

import re
from pathlib import Path

from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

LAYER_ORDER = [
    "01_raw",
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
]


def _layer_of(catalog: dict, name: str) -> str | None:
    entry = catalog.get(name)
    if entry is None:
        patterns = (key for key in catalog if "{" in key)
        entry = next((catalog[k] for k in patterns if re.fullmatch(re.sub(r"\{[^}]+\}", ".+", k), name)), None)
    if not isinstance(entry, dict):
        return None
    return (entry.get("metadata") or {}).get("kedro-viz", {}).get("layer")


def test_every_node_writes_a_layer_no_earlier_than_it_reads(project_copy: Path):
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy) as session:
        catalog = session.load_context().config_loader["catalog"]
    backwards = []
    for node in pipelines["__default__"].nodes:
        read = [_layer_of(catalog, name) for name in node.inputs]
        written = [_layer_of(catalog, name) for name in node.outputs]
        for source in filter(None, read):
            for target in filter(None, written):
                assert source in LAYER_ORDER and target in LAYER_ORDER, (node.name, source, target)
                if LAYER_ORDER.index(target) < LAYER_ORDER.index(source):
                    backwards.append((node.name, source, target))
    assert not backwards, f"nodes writing an earlier layer than they read (kedro-viz drops all layers): {backwards}"
