"""The lifecycle scenario on the test world: known outcomes of its decisions, and the quiet case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.lifecycle.model import load_by_alias, predict
from adrank_pipelines.lifecycle.params import LifecycleParams
from adrank_pipelines.lifecycle.registry import CHAMPION, resolve_alias
from adrank_pipelines.lifecycle.report import summarise
from adrank_pipelines.lifecycle.scenario import ScenarioLog, play_scenario
from adrank_pipelines.lifecycle.scenario_params import scenario_world
from adrank_pipelines.marketplace import MarketplaceConfig, simulate_marketplace
from adrank_pipelines.monitoring.params import DriftParams
from tests.conftest import project_parameters


def _params(registry: Path, rollout: dict[str, Any] | None = None, **scenario: Any) -> LifecycleParams:
    lifecycle = project_parameters("test")["lifecycle"]
    location = {"uri": f"sqlite:///{registry / 'mlflow.db'}", "artifacts_dir": str(registry / "models")}
    merged = {**lifecycle["scenario"], **scenario, "registry": {**lifecycle["scenario"]["registry"], **location}}
    steps = {**lifecycle["rollout"], **(rollout or {})}
    return LifecycleParams.model_validate({**lifecycle, "rollout": steps, "scenario": merged})


def _world(seed: int | None = None, **overrides: Any) -> MarketplaceConfig:
    parameters = project_parameters("test")
    marketplace = {**parameters["marketplace"], **({} if seed is None else {"seed": seed})}
    return scenario_world(marketplace, {**parameters["lifecycle_world"], **overrides})


def _play(config: MarketplaceConfig, params: LifecycleParams) -> ScenarioLog:
    drift = DriftParams.model_validate(project_parameters("test")["drift"])
    return play_scenario(simulate_marketplace(config, show_progress=False), config, params, drift)


@pytest.fixture(scope="module")
def drift_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScenarioLog, LifecycleParams]:
    params = _params(tmp_path_factory.mktemp("registry"))
    return _play(_world(), params), params


def _judged(log: ScenarioLog, decision: str) -> pd.DataFrame:
    return log.decisions.loc[log.decisions["decision"] == decision]


def test_a_broken_challenger_is_never_promoted(drift_run):
    log, params = drift_run
    broken = log.decisions.loc[log.decisions["broken_serving"].eq(True) & log.decisions["truly"].notna()]
    # cleared offline (its offline evidence is the correct model's), rolled back after the first window of its
    # first step: every re-scored request was served scores its registered model does not give
    assert broken["decision"].tolist() == ["pre_traffic_gates", "rollback"]
    assert broken["passed"].tolist() == [True, False] and broken["truly"].iloc[-1] == "worse"
    assert broken["right"].all()
    rollback = broken.iloc[-1]
    assert rollback["step"] == 0 and rollback["minutes_since_rollout_start"] == params.rollout.window_minutes
    (breach,) = log.decisions.loc[log.decisions["decision"] == "rollout_rollback", "evidence"]
    skew = json.loads(breach)["skew"]
    assert skew["reading"] == "breach" and skew["skewed"] == skew["rescored"] > 0


def test_a_broken_challenger_that_costs_a_fifth_of_the_clicks_is_rolled_back_before_it_takes_over(tmp_path: Path):
    # the test world with more clicks (seed 0) and the skew check blinded (no score differs by more than 1): the
    # broken deploy serves 20% fewer clicks, too few of them in any one window to read; the rollout's accumulated
    # CTR evidence rolls it back in its second step (measured)
    world = _world(seed=0, click_model={"intercept": -3.0})
    params = _params(tmp_path, rollout={"guardrails": {"score_tolerance": 1.0}})
    log = _play(world, params)
    rollbacks = _judged(log, "rollback")
    assert len(rollbacks) == 1 and bool(rollbacks["broken_serving"].iloc[0])
    assert rollbacks["step"].tolist() == [1] and rollbacks["share"].tolist() == [params.rollout.steps[1]]
    assert rollbacks["truly"].tolist() == ["worse"] and rollbacks["true_click_lift"].iloc[0] < -0.15
    assert rollbacks["minutes_since_rollout_start"].tolist() == [960.0]
    (breach,) = log.decisions.loc[log.decisions["decision"] == "rollout_rollback", "reason"]
    assert breach == "breached: ctr_rollout"


def test_a_clearly_better_challenger_is_promoted_and_becomes_the_registered_champion(drift_run):
    log, params = drift_run
    promotions = _judged(log, "promotion")
    promoted = promotions.loc[promotions["passed"].astype(bool)]
    assert len(promoted) >= 1
    assert set(promoted["truly"]) == {"better"} and promoted["true_click_lift"].min() > 0.1
    assert (promoted["day"] - promoted["trained_day"]).max() <= 2
    assert not promoted["broken_serving"].astype(bool).any()
    registry = params.scenario.registry
    champion = resolve_alias(registry.uri, registry.model_name, CHAMPION)
    assert champion.version == int(promoted["version"].iloc[-1])
    assert log.days["champion_version"].iloc[-1] <= champion.version
    summary = summarise(log.decisions, log.days)
    assert summary["wrong_promotions"] == 0 and summary["promotions"] == len(promoted)


def test_every_decision_before_the_drift_is_quiet_and_drift_is_what_triggers_retraining(drift_run):
    log, _ = drift_run
    days = log.days.set_index("day")
    config = _world()
    assert (days.loc[: config.n_days - 1, "drift_recommendation"] == "none").all()
    assert days.loc[config.n_days, "drift_recommendation"] == "retrain"
    assert days.loc[: config.n_days - 1, "retrained"].isna().all()
    assert (days["oracle_auc"] > days["champion_auc"]).all()
    assert (days["oracle_welfare"] > days["welfare"]).all()


def test_the_quiet_world_retrains_and_promotes_nothing(tmp_path: Path):
    world = project_parameters("test")["lifecycle_world"]
    quiet = _world(drift={**world["drift"], "enabled": False}, n_days=world["n_days"] + 2)
    log = _play(quiet, _params(tmp_path))
    assert log.decisions["decision"].tolist() == ["bootstrap"]
    assert log.days["retrained"].isna().all() and set(log.days["drift_recommendation"]) == {"none"}
    assert (log.days["challenger_share_of_requests"] == 0).all()
    summary = summarise(log.decisions, log.days)
    assert (summary["promotions"], summary["judged_calls"], summary["rollback_delay_minutes"]) == (0, 0, [])


def test_the_champion_alias_resolves_to_the_model_that_was_registered(drift_run):
    _, params = drift_run
    registry = params.scenario.registry
    version, model = load_by_alias(registry.uri, registry.model_name)
    assert version.version == resolve_alias(registry.uri, registry.model_name, CHAMPION).version
    assert set(version.metrics()) >= {"auc", "logloss", "p99_ms"}
    assert version.lineage()["reason"] in {"bootstrap", "drift", "schedule"}
    features = pd.DataFrame({name: np.zeros(3, dtype=np.int32) for name in model.feature_name()})
    assert np.all((predict(model, features) > 0) & (predict(model, features) < 1))


def test_a_scenario_without_a_day_to_play_is_refused_naming_the_parameter(tmp_path: Path):
    drift = project_parameters("test")["lifecycle_world"]["drift"]
    with pytest.raises(ValueError, match="warmup_days"):
        _play(_world(n_days=3, drift={**drift, "enabled": False}), _params(tmp_path, warmup_days=3))
