"""The metrics bar chart of a click-log evaluation report (built with ``Figure``, no pyplot state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adrank_pipelines.clicklogs.evaluation import ALL

# (metric, axis label, reference line: what a model that learned nothing scores)
_PANELS = (("auc", "test AUC", 0.5), ("normalized_entropy", "test normalized entropy (lower is better)", 1.0))


def metric_bars(report: Mapping[str, Any]) -> Figure:
    """AUC and normalized entropy per model, each beside what a model without signal would score."""
    block = report["subsets"][ALL]
    names = list(block["metrics"])
    figure = Figure(figsize=(10, 4.5), layout="tight")
    for index, (metric, label, reference) in enumerate(_PANELS, start=1):
        axes = figure.add_subplot(1, len(_PANELS), index)
        values = np.array([block["metrics"][name][metric] for name in names], dtype=float)
        positions = np.arange(len(names))
        bars = axes.bar(positions, np.nan_to_num(values, nan=reference), color=[f"C{i}" for i in positions])
        axes.bar_label(bars, labels=[f"{value:.3f}" for value in values], fontsize="small")
        axes.axhline(reference, color="black", linestyle=":", linewidth=1, label="no signal")
        # Differences between models are a few hundredths: zoom in around them and the reference.
        finite = values[np.isfinite(values)]
        low, high = min([reference, *finite]), max([reference, *finite])
        margin = 0.1 * (high - low) + 0.01
        axes.set(ylim=(low - margin, high + margin), ylabel=label)
        axes.set_title(f"{block['rows']:,} test rows, CTR {block['ctr']:.3f}")
        # Model names are long: slanted, each anchored at its bar.
        axes.set_xticks(positions, names, rotation=40, ha="right", rotation_mode="anchor")
        axes.legend(loc="best", fontsize="small")
    return figure
