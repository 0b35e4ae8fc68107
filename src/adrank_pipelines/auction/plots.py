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
    """Expected revenue, welfare, surplus and clicks: one group per mechanism, one bar per model, the
    mean over the draw seeds with +-1 standard deviation."""
    expected = outcomes.loc[outcomes["reading"] == EXPECTED]
    mechanisms = list(dict.fromkeys(expected["mechanism"]))
    models = list(dict.fromkeys(expected["model"]))
    width = 0.8 / len(models)
    figure = Figure(figsize=(12, 8))
    for index, (metric, title) in enumerate(_PANELS.items(), start=1):
        axes = figure.add_subplot(2, 2, index)
        table, spread = (
            expected.pivot(index="mechanism", columns="model", values=column).loc[mechanisms, models]
            for column in (metric, f"{metric}_std")
        )
        for offset, model in enumerate(models):
            style: _BarStyle = {"color": "black", "alpha": 0.35} if model == oracle_name else {}
            x = np.arange(len(mechanisms)) + offset * width
            axes.bar(x, table[model], width, yerr=spread[model], capsize=2, label=model, **style)
        axes.set_xticks(np.arange(len(mechanisms)) + 0.4 - width / 2, mechanisms, rotation=20, fontsize="small")
        axes.set_title(title)
    figure.axes[0].legend(fontsize="small")
    seeds = int(expected["draw_seeds"].max())
    figure.suptitle(
        "Evaluation-day replay, expected outcomes (true pCTR / pCVR of the served ads): "
        f"mean over {seeds} click-draw seeds, +-1 sd"
    )
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
    """Estimated lift with its interval per metric (plain and CUPED), and the true lift with the range
    of its single-draw values."""
    rows = []
    for metric, entry in readout["metrics"].items():
        rows.append((metric, entry))
        if "cuped" in entry:
            truth = {key: entry[key] for key in ("true_lift", "true_lift_spread")}
            rows.append((f"{metric} (CUPED)", {**entry["cuped"], **truth}))
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
        spread = entry["true_lift_spread"]
        if spread["min"] is not None:
            axes.plot(
                [spread["min"], spread["max"]],
                [y, y],
                color="grey",
                linewidth=6,
                alpha=0.3,
                solid_capstyle="butt",
                label=f"true lift, range of {spread['draw_seeds']} single draws" if y == 0 else None,
            )
        axes.plot(
            np.nan if entry["true_lift"] is None else entry["true_lift"],
            y,
            marker="x",
            color="black",
            markersize=9,
            linestyle="none",
            label="true lift (mean over draws)" if y == 0 else None,
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
