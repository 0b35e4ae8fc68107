"""Edge worlds: valid but unusual settings of the test world, run end to end, each asserting what the reports say.

Worlds that change what the simulator draws run the whole default graph on their own project copy.
Worlds that change only a later stage (retrieval's K, the auction rules, the budgets, pacing) reuse the
outputs of the shared test-world run and rerun just the stages downstream of the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.integration.conftest import copy_project, copy_run_outputs

pytestmark = pytest.mark.integration

REPORTING = Path("data") / "08_reporting"
TEST_WORLD_PLATFORMS = {"ios": 0.38, "android": 0.47, "web": 0.15}


def _nested(dotted: dict[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}, the shape `kedro run --params a.b=1` hands the config loader."""
    nested: dict[str, Any] = {}
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def _run(project: Path, params: dict[str, Any], pipelines: list[str] | None = None) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test", runtime_params=_nested(params)) as session:
        session.run(pipeline_names=pipelines or ["__default__"])


def _report(project: Path, name: str) -> Any:
    return json.loads((project / REPORTING / name).read_text())


def _outcomes(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / REPORTING / "auction_outcomes.csv")


# -- worlds the simulator draws differently: the whole graph ------------------------------------------


def _nothing_drifts(project: Path) -> None:
    report = _report(project, "drift_report.json")
    assert set(report["windows"]) == {"test", "drift"}
    for window in report["windows"].values():
        assert window["alerts"] == 0, window["reasons"]
        assert window["decision"] in {"none", "watch"}
    assert report["recommendation"] in {"none", "watch"}
    alerts = pd.read_csv(project / REPORTING / "drift_alerts.csv")
    assert not (alerts["severity"] == "alert").any()
    assert _report(project, "drift_retrain_recommendation.json")["recommendation"] == report["recommendation"]


def _no_drift_window(project: Path) -> None:
    report = _report(project, "drift_report.json")
    assert set(report["windows"]) == {"test"}
    assert set(report["absent_windows"]) == {"drift"}
    assert report["based_on_window"] == "test"
    assert report["windows"]["test"]["summary"]


def _no_cold_or_late_start_ads(project: Path) -> None:
    subsets = _report(project, "ctr_evaluation_report.json")["subsets"]
    cold = subsets["cold_start"]
    assert cold["rows"] == 0 and cold["ctr"] is None
    assert all(metrics["auc"] is None and metrics["ece"] is None for metrics in cold["metrics"].values())
    assert cold["undefined"]["auc"] == "no cold-start ads in the test window"
    assert all(value is None for value in cold["headroom_captured"].values())
    overall = subsets["all"]
    assert overall["undefined"] == {}
    assert overall["metrics"]["oracle"]["auc"] > overall["metrics"]["baseline"]["auc"]
    assert _report(project, "marketplace_summary.json")["test_day_cold_start_impression_share"] == 0


def _no_browsing_log(project: Path) -> None:
    assert len(pd.read_parquet(project / "data" / "01_raw" / "user_events.parquet")) == 0
    test = pd.read_parquet(project / "data" / "05_model_input" / "model_input_test.parquet")
    assert (test["browse_events"] == 0).all() and (test["browse_share_ad_category"] == 0).all()
    overall = _report(project, "ctr_evaluation_report.json")["subsets"]["all"]["metrics"]
    assert overall["transformer"]["auc"] > 0.55


def _one_country_one_platform(project: Path) -> None:
    users = pd.read_parquet(project / "data" / "01_raw" / "users.parquet")
    assert set(users["country"]) == {"US"} and set(users["platform"]) == {"ios"}
    report = _report(project, "drift_report.json")
    assert report["windows"]["test"]["alerts"] == 0
    overall = _report(project, "ctr_evaluation_report.json")["subsets"]["all"]["metrics"]
    assert overall["lightgbm"]["auc"] > 0.55


def _few_requests(project: Path) -> None:
    summary = _report(project, "marketplace_summary.json")
    assert summary["requests"] <= 300 * 7
    outcomes = _outcomes(project)
    assert (outcomes["impressions"] > 0).all()
    assert _report(project, "ab_readout.json")["metrics"]["clicks_per_user"]["n_control"] > 0


WHOLE_GRAPH_WORLDS: dict[str, tuple[dict[str, Any], Callable[[Path], None]]] = {
    "nothing_drifts": (
        {
            "marketplace.drift.interest_multiplier": 1.0,
            "marketplace.drift.new_category_ads": 0,
            **{f"marketplace.drift.platform_shares.{name}": share for name, share in TEST_WORLD_PLATFORMS.items()},
        },
        _nothing_drifts,
    ),
    "no_drift_window": ({"marketplace.drift.enabled": False}, _no_drift_window),
    "no_cold_or_late_start_ads": (
        {"marketplace.cold_start_ad_share": 0.0, "marketplace.late_start_ad_share": 0.0},
        _no_cold_or_late_start_ads,
    ),
    "no_browsing_log": ({"marketplace.browsing.events_per_user": 0}, _no_browsing_log),
    "one_country_one_platform": (
        {
            **{f"marketplace.countries.{c}": 0.0 for c in ("GB", "DE", "FR", "BR", "IN", "JP")},
            "marketplace.countries.US": 1.0,
            **{f"marketplace.platforms.{p}": 0.0 for p in ("android", "web")},
            "marketplace.platforms.ios": 1.0,
            **{f"marketplace.drift.platform_shares.{p}": 0.0 for p in ("android", "web")},
            "marketplace.drift.platform_shares.ios": 1.0,
        },
        _one_country_one_platform,
    ),
    "few_requests": ({"marketplace.requests_per_day": 300}, _few_requests),
}


@pytest.mark.parametrize("world", WHOLE_GRAPH_WORLDS)
def test_whole_graph_on_an_edge_world(world: str, project_copy: Path):
    params, check = WHOLE_GRAPH_WORLDS[world]
    _run(project_copy, params)
    check(project_copy)


# -- worlds that differ only downstream: rerun the stages after the change ---------------------------


def _fewer_ads_than_k(project: Path) -> None:
    report = _report(project, "indexing_report.json")
    assert report["top_k"] > report["n_ads_indexed"]
    retrieved = pd.read_parquet(project / "data" / "07_model_output" / "retrieved_candidates.parquet")
    assert (retrieved["ad_id"] >= 1).all()
    assert retrieved.groupby("request_id").size().max() <= report["n_ads_indexed"]
    assert not retrieved.duplicated(["request_id", "ad_id"]).any()
    assert (_outcomes(project)["impressions"] > 0).all()


def _reserve_above_every_bid(project: Path) -> None:
    outcomes = _outcomes(project)
    assert (outcomes["impressions"] == 0).all() and (outcomes["revenue"] == 0).all()
    assert (outcomes["revenue_std"] == 0).all(), "nothing sold in any draw: no spread"
    readout = _report(project, "ab_readout.json")
    for metric in ("clicks_per_user", "revenue_per_user"):
        entry = readout["metrics"][metric]
        assert entry["lift"] is None and entry["p_value"] is None and entry["true_lift"] is None
        assert "the control arm has no" in entry["undefined"]
        assert "the control model earns no expected" in entry["true_lift_undefined"]
        assert entry["true_lift_spread"]["std"] is None and entry["true_lift_spread"]["min"] is None
    assert "no ad" in readout["ctr_two_proportion_z_test"]["undefined"]


def _budgets_below_one_click(project: Path) -> None:
    accounts = pd.read_parquet(project / REPORTING / "auction_advertiser_outcomes.parquet")
    assert (accounts["budget"] < 0.05).all(), "every budget is below the reserve, the cheapest click"
    # Billing is per click and an account serves only while under budget: its first click exhausts it.
    assert accounts["clicks"].max() == 1
    clicked = accounts["clicks"] > 0
    assert (accounts.loc[clicked, "exhausted_step"] >= 0).all()
    assert (accounts.loc[~clicked, "exhausted_step"] == -1).all()
    realised = _outcomes(project).query("reading == 'realised'")
    assert (realised["clicks"] <= accounts["account"].nunique()).all()


def _pacing_off(project: Path) -> None:
    outcomes = _outcomes(project)
    assert (outcomes["revenue"] > 0).all()
    assert set(outcomes["mechanism"]) == {"second_price", "gsp", "vcg", "first_price", "first_price_learned"}


DOWNSTREAM_WORLDS: dict[str, tuple[dict[str, Any], list[str], Callable[[Path], None]]] = {
    "fewer_ads_than_k": ({"indexing.top_k": 1000}, ["indexing", "ranking", "auction_eval"], _fewer_ads_than_k),
    "reserve_above_every_bid": (
        {"auction_eval.rules.reserve_price": 1000.0},
        ["auction_eval"],
        _reserve_above_every_bid,
    ),
    "budgets_below_one_click": (
        {"auction_eval.pacing.budget_scale": 0.00001},
        ["auction_eval"],
        _budgets_below_one_click,
    ),
    "pacing_off": ({"auction_eval.pacing.kind": "none"}, ["auction_eval"], _pacing_off),
}


@pytest.mark.parametrize("world", DOWNSTREAM_WORLDS)
def test_downstream_stages_on_an_edge_world(
    world: str, default_run_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    params, pipelines, check = DOWNSTREAM_WORLDS[world]
    project = copy_project(tmp_path)
    copy_run_outputs(default_run_project, project)
    monkeypatch.chdir(project)
    _run(project, params, pipelines)
    check(project)


def test_a_failed_run_names_the_node_and_parameter_and_closes_its_mlflow_run_once(
    default_run_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    project = copy_project(tmp_path)
    copy_run_outputs(default_run_project, project)
    monkeypatch.chdir(project)
    with pytest.raises(ValueError, match=r"ab_test\.mechanism 'nosuch' is not one of auction_eval\.mechanisms"):
        _run(project, {"ab_test.mechanism": "nosuch"}, ["auction_eval"])
    node_errors = [r for r in caplog.records if r.levelname == "ERROR" and "run_ab_test" in r.getMessage()]
    assert len(node_errors) == 1
    closing = [r for r in caplog.records if "was closed because of an error" in r.getMessage()]
    assert len(closing) == 1
