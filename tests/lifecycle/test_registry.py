"""The MLflow Model Registry on a SQLite store: versions with metrics and lineage, aliases that move."""

import json
import math
from pathlib import Path

import pytest

from adrank_pipelines.lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    RegistryLookupError,
    promote_challenger,
    register_version,
    remove_alias,
    resolve_alias,
    set_alias,
)


@pytest.fixture(scope="module")
def uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    # One store for the module (creating and migrating one takes seconds); each test registers its own model name.
    return f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}"


def _saved_model(folder: Path, zoo: str) -> Path:
    """A model directory as the catalog's ZooModelDataset saves it."""
    folder.mkdir(parents=True)
    (folder / "zoo.json").write_text(json.dumps({"model": zoo}))
    return folder


def test_two_versions_carry_their_own_source_metrics_and_lineage(uri: str, tmp_path: Path):
    first = register_version(
        uri, "ctr", _saved_model(tmp_path / "v1", "lightgbm"), {"auc": 0.751, "logloss": 0.4}, {"run": "a"}
    )
    second = register_version(uri, "ctr", _saved_model(tmp_path / "v2", "transformer"), {"auc": 0.7661}, {"run": "b"})
    assert (first.version, second.version) == (1, 2)
    assert first.source == str((tmp_path / "v1").resolve()) and second.source == str((tmp_path / "v2").resolve())
    assert first.metrics() == {"auc": 0.751, "logloss": 0.4} and first.lineage() == {"run": "a"}
    assert second.tags == {"metric.auc": "0.7661", "lineage.run": "b"}


def test_aliases_move_and_resolve_to_their_version(uri: str, tmp_path: Path):
    for name in ("v1", "v2"):
        register_version(uri, "aliased", _saved_model(tmp_path / name, "lightgbm"), {"auc": 0.7}, {"model": name})
    set_alias(uri, "aliased", CHAMPION, 1)
    set_alias(uri, "aliased", CHALLENGER, 2)
    champion, challenger = resolve_alias(uri, "aliased", CHAMPION), resolve_alias(uri, "aliased", CHALLENGER)
    assert (champion.version, champion.aliases, champion.lineage()) == (1, ("champion",), {"model": "v1"})
    assert (challenger.version, challenger.source) == (2, str((tmp_path / "v2").resolve()))
    set_alias(uri, "aliased", CHAMPION, 2)
    moved = resolve_alias(uri, "aliased", CHAMPION)
    assert moved.version == 2 and sorted(moved.aliases) == ["challenger", "champion"]


def test_promotion_moves_the_champion_to_the_challenger_and_drops_the_challenger(uri: str, tmp_path: Path):
    for name in ("v1", "v2"):
        register_version(uri, "promoted", _saved_model(tmp_path / name, "lightgbm"), {"auc": 0.7}, {})
    set_alias(uri, "promoted", CHAMPION, 1)
    set_alias(uri, "promoted", CHALLENGER, 2)
    champion = promote_challenger(uri, "promoted")
    assert (champion.version, champion.aliases) == (2, ("champion",))
    with pytest.raises(RegistryLookupError, match="has no alias 'challenger' \\(aliases: champion\\)"):
        resolve_alias(uri, "promoted", CHALLENGER)


def test_a_rolled_back_challenger_loses_its_alias_and_the_champion_stays(uri: str, tmp_path: Path):
    for name in ("v1", "v2"):
        register_version(uri, "rolled_back", _saved_model(tmp_path / name, "lightgbm"), {"auc": 0.7}, {})
    set_alias(uri, "rolled_back", CHAMPION, 1)
    set_alias(uri, "rolled_back", CHALLENGER, 2)
    remove_alias(uri, "rolled_back", CHALLENGER)
    assert resolve_alias(uri, "rolled_back", CHAMPION).version == 1
    with pytest.raises(RegistryLookupError, match="registered model 'rolled_back' has no alias 'challenger'"):
        remove_alias(uri, "rolled_back", CHALLENGER)


def test_an_unknown_alias_or_model_is_named_in_the_error(uri: str, tmp_path: Path):
    register_version(uri, "lonely", _saved_model(tmp_path / "v1", "lightgbm"), {"auc": 0.7}, {})
    with pytest.raises(
        RegistryLookupError, match="registered model 'lonely' has no alias 'champion' \\(aliases: none\\)"
    ):
        resolve_alias(uri, "lonely", CHAMPION)
    with pytest.raises(RegistryLookupError, match="no registered model 'nosuch'"):
        resolve_alias(uri, "nosuch", CHAMPION)
    with pytest.raises(RegistryLookupError, match="no registered model 'nosuch'"):
        set_alias(uri, "nosuch", CHAMPION, 1)


def test_a_file_artifact_and_an_undefined_metric_are_kept_as_registered(uri: str, tmp_path: Path):
    booster = tmp_path / "booster.txt"
    booster.write_text("tree")
    version = register_version(uri, "single_file", booster, {"auc": math.nan}, {})
    assert version.source == str(booster.resolve())
    assert math.isnan(version.metrics()["auc"])


def test_bad_input_is_refused_before_anything_is_registered(uri: str, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"artifact_path .*missing does not exist"):
        register_version(uri, "refused", tmp_path / "missing", {"auc": 0.7}, {})
    with pytest.raises(TypeError, match="metrics must be numbers: auc"):
        register_version(uri, "refused", _saved_model(tmp_path / "v1", "lightgbm"), {"auc": "0.7"}, {})
    with pytest.raises(RegistryLookupError, match="no registered model 'refused'"):
        resolve_alias(uri, "refused", CHAMPION)
