"""The features pipeline as Kedro sees it: wiring, catalog entries, typed parameters, one full run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro.validation.exceptions import ParameterValidationError
from kedro.validation.parameter_validator import ParameterValidator
from pydantic import BaseModel

from adrank_pipelines.features.params import SplitParams
from adrank_pipelines.features.recipe import FeatureRecipeArtifact
from adrank_pipelines.pipelines.features import create_pipeline
from adrank_pipelines.pipelines.features.nodes import build_impressions_enriched
from adrank_pipelines.settings import CONFIG_LOADER_ARGS
from tests.features.features_tiny_world import make_tables
from tests.pipelines.kept_dataset import KeptDataset

CONF = Path(__file__).resolve().parents[3] / "conf"
VALIDATED_INPUTS = {
    "validated_users": "users",
    "validated_advertisers": "advertisers",
    "validated_ads": "ads",
    "validated_requests": "requests",
    "validated_impressions": "impressions",
    "validated_user_events": "user_events",
}
OUTPUT_LAYERS = {
    "impressions_enriched": "03_primary",
    "vocabularies": "04_feature",
    "behaviour_sequences": "04_feature",
    "model_input_train": "05_model_input",
    "model_input_valid": "05_model_input",
    "model_input_test": "05_model_input",
    "model_input_drift": "05_model_input",
    "ad_features": "05_model_input",
    "feature_spec": "05_model_input",
    "feature_recipe": "05_model_input",
    "statistics_snapshots": "05_model_input",
}


def _config(env: str, key: str) -> dict[str, Any]:
    loader = OmegaConfigLoader(
        conf_source=str(CONF),
        base_env=CONFIG_LOADER_ARGS["base_env"],
        default_run_env=env,
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    return loader[key]


def _validated_params(raw: dict[str, Any]) -> dict[str, Any]:
    """The ``params:`` inputs of the pipeline after Kedro's own type validation."""
    validated = ParameterValidator({"features": create_pipeline()}).validate_raw_params(raw)
    feed = {}
    for name in create_pipeline().inputs():
        if name.startswith("params:"):
            value: Any = validated
            for part in name.removeprefix("params:").split("."):
                value = value[part]
            feed[name] = value
    return feed


def test_nodes_and_datasets():
    pipeline = create_pipeline()
    assert {node.name for node in pipeline.nodes} == {
        "enrich_impressions",
        "fit_vocabularies",
        "build_model_inputs",
        "build_behaviour_sequences",
        "build_ad_features",
        "build_feature_spec",
        "build_feature_recipe",
        "build_statistics_snapshots",
    }
    assert {name for name in pipeline.inputs() if not name.startswith("params:")} == set(VALIDATED_INPUTS)
    assert pipeline.all_outputs() == set(OUTPUT_LAYERS)


def test_every_output_is_a_catalog_entry_with_its_layer():
    catalog = _config("test", "catalog")
    for name, layer in OUTPUT_LAYERS.items():
        assert catalog[name]["metadata"]["kedro-viz"]["layer"] == layer, name


@pytest.mark.parametrize("env", ["base", "test"])
def test_project_parameters_pass_kedro_validation(env):
    feed = _validated_params(_config(env, "parameters"))
    assert feed["params:features.sequences"].sequence_length == (20 if env == "base" else 8)


def test_a_bad_parameter_fails_at_start_up_with_its_name():
    raw = _config("test", "parameters")
    raw["features"]["vocabulary"]["min_count"] = 0
    with pytest.raises(ParameterValidationError, match=r"features\.vocabulary"):
        _validated_params(raw)
    raw = _config("test", "parameters")
    raw["features"]["sequences"]["sequence_lenght"] = 5
    with pytest.raises(ParameterValidationError, match=r"sequence_lenght"):
        _validated_params(raw)


@pytest.mark.parametrize("drift_enabled", [True, False])
def test_full_run_on_a_tiny_world(drift_enabled):
    tables = make_tables()
    raw = _config("test", "parameters")
    raw["marketplace"]["drift"]["enabled"] = drift_enabled
    datasets = {name: MemoryDataset(tables[table]) for name, table in VALIDATED_INPUTS.items()}
    datasets |= {name: MemoryDataset(value) for name, value in _validated_params(raw).items()}
    datasets |= {name: KeptDataset() for name in OUTPUT_LAYERS}
    catalog = DataCatalog(datasets=datasets)
    SequentialRunner().run(create_pipeline(), catalog)

    frames = {split: catalog.load(f"model_input_{split}") for split in ("train", "valid", "test", "drift")}
    assert frames["drift"].empty != drift_enabled
    assert sum(len(frame) for frame in frames.values()) == len(tables["impressions"])
    assert all(list(frame.columns) == list(frames["train"].columns) for frame in frames.values())
    sequences = catalog.load("behaviour_sequences")
    assert len(sequences) == len(tables["requests"])
    assert "hist_ad_id_07" in sequences and "hist_ad_id_08" not in sequences  # conf/test: sequence_length 8
    spec = catalog.load("feature_spec")
    assert set(spec["categorical"]) | set(spec["numeric"]) <= set(frames["train"].columns)
    assert len(catalog.load("ad_features")) == len(tables["ads"])
    # The recipe ranking reads: this run's vocabularies and spec, the settings it ran with, JSON-ready.
    recipe = FeatureRecipeArtifact.model_validate(json.loads(json.dumps(catalog.load("feature_recipe"))))
    assert recipe.spec == spec and recipe.vocabularies == catalog.load("vocabularies")
    assert recipe.sequences.sequence_length == 8 and recipe.crosses == _validated_params(raw)["params:features.crosses"]
    candidate = recipe.candidate_recipe()
    assert set(candidate.vocabularies) == set(recipe.vocabularies)


def test_the_drift_window_is_read_from_a_dict_or_from_the_simulators_typed_model():
    class SimulatorDrift(BaseModel):  # stands in for the ingest pipeline's own model of marketplace.drift
        enabled: bool
        n_days: int
        interest_multiplier: float

    tables = make_tables()
    inputs = [tables[name] for name in ("impressions", "ads", "advertisers", "users")]
    from_dict = build_impressions_enriched(*inputs, SplitParams(), {"enabled": True, "n_days": 2, "other": 1})
    simulator_drift = SimulatorDrift(enabled=True, n_days=2, interest_multiplier=3.0)
    from_model = build_impressions_enriched(*inputs, SplitParams(), simulator_drift)
    assert from_dict["split"].equals(from_model["split"])
    assert (from_dict.loc[from_dict["day"] >= 4, "split"] == "drift").all()
    disabled = build_impressions_enriched(*inputs, SplitParams(), {"enabled": False, "n_days": 2})
    assert "drift" not in set(disabled["split"])
