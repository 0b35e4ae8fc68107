"""Thin adapters between the catalog and the lifecycle package: build the scenario's world, play it, report."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.lifecycle.params import LifecycleParams
from adrank_pipelines.lifecycle.report import plot_days, summarise
from adrank_pipelines.lifecycle.scenario import play_scenario
from adrank_pipelines.lifecycle.scenario_params import scenario_world
from adrank_pipelines.marketplace import MarketplaceTables, simulate_marketplace
from adrank_pipelines.monitoring.params import DriftParams

logger = logging.getLogger(__name__)


def simulate_lifecycle_world(marketplace: dict[str, Any], overrides: dict[str, Any]) -> MarketplaceTables:
    """The scenario's own world: ``marketplace`` with ``lifecycle_world`` merged over it."""
    return simulate_marketplace(scenario_world(marketplace, overrides), show_progress=False)


def play_lifecycle(
    world: MarketplaceTables,
    marketplace: dict[str, Any],
    overrides: dict[str, Any],
    params: LifecycleParams,
    drift: DriftParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every decision with its evidence and ground-truth verdict, and one row of figures per simulated day."""
    log = play_scenario(world, scenario_world(marketplace, overrides), params, drift)
    logger.info("lifecycle: %d days played, %d decisions logged", len(log.days), len(log.decisions))
    return log.decisions, log.days


def report_lifecycle(decisions: pd.DataFrame, days: pd.DataFrame) -> tuple[dict[str, Any], Figure]:
    summary = summarise(decisions, days)
    logger.info(
        "lifecycle: %d promotion(s), %d wrong promotion(s), %d wrong rejection(s)",
        summary["promotions"],
        summary["wrong_promotions"],
        summary["wrong_rejections"],
    )
    return summary, plot_days(decisions, days)
