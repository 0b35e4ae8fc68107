"""Figures of the test-day evaluation report, drawn from the report dict alone.

Figures are built with ``matplotlib.figure.Figure`` rather than pyplot: no global figure registry, no
GUI backend, nothing to close in a long-running Kedro session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adrank_pipelines.models.evaluation import ALL, COLD_START

_SUBSET_TITLES = {ALL: "all test impressions", COLD_START: "cold-start ads"}


def reliability_diagram(report: Mapping[str, Any]) -> Figure:
    """Observed click rate against mean predicted pCTR per bin, one line per model and the oracle.

    Log-log axes: CTRs span two orders of magnitude and most rows sit near the base rate.
    """
    oracle = report["params"]["oracle_name"]
    figure = Figure(figsize=(6.5, 6))
    axes = figure.add_subplot()
    bins_per_model: Mapping[str, Mapping[str, list[float]]] = report["reliability"]
    everything = np.concatenate(
        [np.concatenate([b["mean_predicted"], b["observed_rate"]]) for b in bins_per_model.values()]
    )
    positive = everything[everything > 0]
    low, high = positive.min() * 0.8, everything.max() * 1.25
    axes.plot([low, high], [low, high], color="grey", linestyle=":", label="perfect calibration")
    for name, bins in bins_per_model.items():
        # Extra Line2D properties for plot's **kwargs, which take values of any type.
        style: dict[str, Any] = {"color": "black", "linestyle": "--"} if name == oracle else {}
        axes.plot(bins["mean_predicted"], bins["observed_rate"], marker="o", markersize=3, label=name, **style)
    axes.set(
        xscale="log",
        yscale="log",
        xlim=(low, high),
        ylim=(low, high),
        xlabel="mean predicted pCTR in bin",
        ylabel="observed CTR in bin",
        title=f"Reliability on the test day ({report['params']['ece_binning'].replace('_', ' ')} bins)",
    )
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    return figure


def auc_bars(report: Mapping[str, Any]) -> Figure:
    """Test-day AUC per model, overall and on cold-start ads, with the baseline and oracle as lines."""
    params = report["params"]
    subsets = [subset for subset in (ALL, COLD_START) if subset in report["subsets"]]
    figure = Figure(figsize=(5 * len(subsets), 4.5))
    for index, subset in enumerate(subsets, start=1):
        axes = figure.add_subplot(1, len(subsets), index)
        metrics = report["subsets"][subset]["metrics"]
        names = list(metrics)
        aucs = np.array([metrics[name]["auc"] for name in names], dtype=float)
        colours = [
            "black" if name == params["oracle_name"] else "grey" if name == params["baseline_name"] else f"C{i}"
            for i, name in enumerate(names)
        ]
        bars = axes.bar(names, np.nan_to_num(aucs, nan=0.5), color=colours)
        axes.bar_label(
            bars, labels=[f"{value:.3f}" if np.isfinite(value) else "undefined" for value in aucs], fontsize="small"
        )
        for reference, style in ((params["oracle_name"], "--"), (params["baseline_name"], ":")):
            if metrics[reference]["auc"] is not None:
                axes.axhline(metrics[reference]["auc"], color="black", linestyle=style, linewidth=1, label=reference)
        finite = aucs[np.isfinite(aucs)]
        floor = max(0.5, float(finite.min()) - 0.03) if finite.size else 0.5
        axes.set(ylim=(floor, 1.0 if not finite.size else min(1.0, float(finite.max()) + 0.04)), ylabel="AUC")
        axes.set_title(f"{_SUBSET_TITLES[subset]} ({report['subsets'][subset]['rows']:,} rows)")
        # Long model names would overlap at a shallow angle; anchor them at the bar instead.
        for label in axes.get_xticklabels():
            label.set(rotation=40, ha="right", rotation_mode="anchor")
        axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    return figure
