"""Figures of the drift report: per-feature PSI, score histograms and reliability curves per window.

Built on ``matplotlib.figure.Figure`` (no pyplot state), like the CTR report's figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from adrank_pipelines.models.metrics import reliability_bins
from adrank_pipelines.monitoring.alerts import ALERT, FLAGGED, OK, UNDEFINED, WARN

_SEVERITY_COLOURS = {OK: "tab:green", WARN: "tab:orange", ALERT: "tab:red", UNDEFINED: "tab:grey"}
_REPORT_ONLY_COLOUR = "lightgrey"


class _LineStyle(TypedDict, total=False):
    color: str
    linestyle: str


def _empty_figure(message: str) -> Figure:
    figure = Figure(figsize=(6, 2))
    axes = figure.add_subplot()
    axes.axis("off")
    axes.text(0.5, 0.5, message, ha="center", va="center")
    return figure


def psi_bars(evaluated: pd.DataFrame, windows: Sequence[str], warn: float, alert: float) -> Figure:
    """Horizontal PSI bars per feature, one panel per window, coloured by severity.

    Report-only features are grey: they are shown, never alerted on. A symmetric-log axis keeps
    PSIs of 0.001 and of 5 readable on one scale.
    """
    psi = evaluated.loc[(evaluated["group"] == "feature") & (evaluated["statistic"] == "psi")]
    windows = [window for window in windows if (psi["window"] == window).any()]
    if not windows:
        return _empty_figure("no feature statistics: every current window is empty")
    features = list(dict.fromkeys(psi["subject"]))
    figure = Figure(figsize=(5.5 * len(windows), 0.28 * len(features) + 1.8))
    for index, window in enumerate(windows, start=1):
        axes = figure.add_subplot(1, len(windows), index)
        # A feature another window has and this one lacks is drawn as an empty, grey row.
        rows = psi.loc[psi["window"] == window].set_index("subject").reindex(features)
        alerting = rows["alerting"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        colours = [
            _SEVERITY_COLOURS[severity] if alerts else _REPORT_ONLY_COLOUR
            for severity, alerts in zip(rows["severity"], alerting, strict=True)
        ]
        axes.barh(features, rows["value"].to_numpy(dtype=float), color=colours)
        _annotate_unseen(axes, evaluated, window, features)
        for threshold, style in ((warn, "--"), (alert, "-")):
            axes.axvline(threshold, color="black", linestyle=style, linewidth=0.8)
        axes.set_xscale("symlog", linthresh=0.01)
        axes.invert_yaxis()
        axes.set(xlabel="PSI vs the training window", title=f"{window} ({int(rows['n_current'].max()):,} rows)")
        if index > 1:
            axes.set_yticklabels([])
    figure.legend(
        handles=[Patch(color=colour, label=label) for label, colour in _SEVERITY_COLOURS.items()]
        + [Patch(color=_REPORT_ONLY_COLOUR, label="report only")],
        loc="lower center",
        ncol=4,
        fontsize="small",
    )
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def _annotate_unseen(axes: Axes, evaluated: pd.DataFrame, window: str, features: list[str]) -> None:
    """Name the flagged unseen shares beside their features: PSI does not show values it has no bin for."""
    unseen = evaluated.loc[
        (evaluated["window"] == window)
        & (evaluated["statistic"] == "unseen_share_increase")
        & evaluated["severity"].isin(FLAGGED)
        & evaluated["alerting"]
    ]
    for row in unseen.itertuples():
        axes.annotate(
            f"+{row.value:.1%} unseen",
            xy=(1, features.index(str(row.subject))),
            xytext=(-3, 0),
            xycoords=("axes fraction", "data"),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize="x-small",
            fontweight="bold",
            color=_SEVERITY_COLOURS[str(row.severity)],
        )


def score_histograms(
    scored: Mapping[str, pd.DataFrame], reference: str, currents: Sequence[str], n_bins: int, score: str = "pctr"
) -> Figure:
    """Density of the score in the reference window against each current window (log-spaced bins)."""
    currents = [window for window in currents if window in scored]
    if reference not in scored or not currents:
        return _empty_figure(f"the predictions do not score the '{reference}' window and a current one")
    every_score = np.concatenate([scored[window][score].to_numpy() for window in (reference, *currents)])
    positive = every_score[every_score > 0]
    edges = np.geomspace(np.quantile(positive, 0.001), np.quantile(positive, 0.999), n_bins + 1)
    figure = Figure(figsize=(5.5 * len(currents), 4))
    for index, window in enumerate(currents, start=1):
        axes = figure.add_subplot(1, len(currents), index)
        styles: tuple[tuple[str, _LineStyle], ...] = (
            (reference, {"color": "grey", "linestyle": "--"}),
            (window, {"color": "tab:blue"}),
        )
        for name, style in styles:
            axes.hist(
                np.clip(scored[name][score], edges[0], edges[-1]),
                bins=edges.tolist(),
                density=True,
                histtype="step",
                linewidth=1.5,
                label=f"{name} ({len(scored[name]):,})",
                **style,
            )
        axes.set(xscale="log", xlabel=f"predicted {score}", ylabel="density", title=f"{window} vs {reference}")
        axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def reliability_curves(
    scored: Mapping[str, pd.DataFrame], windows: Sequence[str], n_bins: int, score: str = "pctr", label: str = "click"
) -> Figure:
    """Observed CTR against mean predicted CTR per equal-mass bin, one line per window, log-log."""
    windows = [window for window in windows if window in scored]
    if not windows:
        return _empty_figure("the predictions score none of the monitored windows")
    figure = Figure(figsize=(6.5, 6))
    axes = figure.add_subplot()
    curves = {window: reliability_bins(scored[window][label], scored[window][score], n_bins) for window in windows}
    everything = np.concatenate([np.concatenate([c["mean_predicted"], c["observed_rate"]]) for c in curves.values()])
    positive = everything[everything > 0]
    low, high = positive.min() * 0.8, everything.max() * 1.25
    axes.plot([low, high], [low, high], color="grey", linestyle=":", label="perfect calibration")
    for window, bins in curves.items():
        axes.plot(bins["mean_predicted"], bins["observed_rate"], marker="o", markersize=3, label=window)
    axes.set(
        xscale="log",
        yscale="log",
        xlim=(low, high),
        ylim=(low, high),
        xlabel=f"mean predicted {score} in bin",
        ylabel="observed CTR in bin",
        title=f"Reliability per window ({n_bins} equal-mass bins)",
    )
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    return figure
