"""Figures of the auction replay and the A/B readout (``matplotlib.figure.Figure``: no pyplot state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.auction.outcomes import EXPECTED
from adrank_pipelines.auction.pacing import MINUTES_PER_DAY

_PANELS = {
    "revenue": "platform revenue",
    "social_welfare": "social welfare (advertiser value)",
    "advertiser_surplus": "advertiser surplus",
    "clicks": "clicks",
}


class _BarStyle(TypedDict, total=False):
    color: str
    alpha: float


def comparison_bars(outcomes: pd.DataFrame, oracle_name: str) -> Figure:
    """Expected revenue, welfare, surplus and clicks: one group per mechanism, one bar per model."""
    expected = outcomes.loc[outcomes["reading"] == EXPECTED]
    mechanisms = list(dict.fromkeys(expected["mechanism"]))
    models = list(dict.fromkeys(expected["model"]))
    width = 0.8 / len(models)
    figure = Figure(figsize=(12, 8))
    for index, (metric, title) in enumerate(_PANELS.items(), start=1):
        axes = figure.add_subplot(2, 2, index)
        table = expected.pivot(index="mechanism", columns="model", values=metric).loc[mechanisms, models]
        for offset, model in enumerate(models):
            style: _BarStyle = {"color": "black", "alpha": 0.35} if model == oracle_name else {}
            axes.bar(np.arange(len(mechanisms)) + offset * width, table[model], width, label=model, **style)
        axes.set_xticks(np.arange(len(mechanisms)) + 0.4 - width / 2, mechanisms, rotation=20, fontsize="small")
        axes.set_title(title)
    figure.axes[0].legend(fontsize="small")
    figure.suptitle("Evaluation-day replay, expected outcomes (true pCTR / pCVR of the served ads)")
    figure.tight_layout()
    return figure


def pacing_lines(pacing: pd.DataFrame, mechanism: str) -> Figure:
    """Cumulative spend / budget of the budget-bound advertisers through the day, beside the target."""
    curves = pacing.loc[pacing["mechanism"] == mechanism]
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    steps = int(curves["step"].max()) + 1 if len(curves) else 1
    hours = (np.arange(steps) + 1) * (MINUTES_PER_DAY / steps) / 60
    target = curves.drop_duplicates("step").sort_values("step")["target_share"].to_numpy()
    axes.plot(hours[: len(target)], target, color="grey", linestyle=":", label="target")
    for model, curve in curves.groupby("model", sort=False):
        curve = curve.sort_values("step")
        axes.plot(
            hours[: len(curve)],
            curve["bound_spend_share"],
            label=f"{model} ({int(curve['bound_accounts'].iloc[0])} bound)",
        )
    axes.set(
        xlabel="hour of the evaluation day",
        ylabel="spend / budget (budget-bound advertisers)",
        title=f"Budget pacing under {mechanism}",
        xlim=(0, 24),
        ylim=(0, 1.1),
    )
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def ab_lift_plot(readout: Mapping[str, Any]) -> Figure:
    """Estimated lift with its interval per metric (plain and CUPED), and the true lift."""
    rows = []
    for metric, entry in readout["metrics"].items():
        rows.append((metric, entry))
        if "cuped" in entry:
            rows.append((f"{metric} (CUPED)", {**entry["cuped"], "true_lift": entry["true_lift"]}))
    undefined = [f"{label}: {entry['undefined']}" for label, entry in rows if entry["lift"] is None]
    rows = [(label, entry) for label, entry in rows if entry["lift"] is not None]
    figure = Figure(figsize=(7, 1.2 + 0.8 * max(len(rows), 1) + 0.3 * len(undefined)))
    axes = figure.add_subplot()
    if undefined:
        axes.text(0.5, 0.02, "\n".join(undefined), transform=axes.transAxes, ha="center", fontsize="small", wrap=True)
    for y, (_label, entry) in enumerate(rows):
        axes.errorbar(
            entry["lift"],
            y,
            xerr=[[entry["lift"] - entry["ci_low"]], [entry["ci_high"] - entry["lift"]]],
            fmt="o",
            color="tab:blue",
            capsize=4,
            label="estimate" if y == 0 else None,
        )
        axes.plot(
            np.nan if entry["true_lift"] is None else entry["true_lift"],
            y,
            marker="x",
            color="black",
            markersize=9,
            linestyle="none",
            label="true lift" if y == 0 else None,
        )
    axes.axvline(0.0, color="grey", linestyle=":")
    axes.set_yticks(range(len(rows)), [label for label, _ in rows])
    design = readout["design"]
    axes.set(
        xlabel="relative lift (treatment / control - 1)",
        title=f"A/B: {design['treatment_model']} vs {design['control_model']} under {design['mechanism']}",
    )
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure
