"""The recall / latency figure of the indexing report, drawn from the report's index-type rows alone.

Built with ``matplotlib.figure.Figure`` (no pyplot registry, no GUI backend), as the CTR report is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

_PANELS = (
    ("single_median_ms", "median latency, one query per search (ms)"),
    ("batched_per_query_median_ms", "median latency per query, batched search (ms)"),
)


def recall_latency_plot(rows: Sequence[Mapping[str, Any]], k: int, title: str) -> Figure:
    """Recall@K against exact search versus query latency, one point per index type, log latency axis."""
    figure = Figure(figsize=(11, 4.8))
    for panel, (latency_key, label) in enumerate(_PANELS, start=1):
        axes = figure.add_subplot(1, len(_PANELS), panel)
        for row in rows:
            latency = row["latency"][latency_key]
            axes.scatter(latency, row["recall_at_k"], s=28)
            axes.annotate(row["name"], (latency, row["recall_at_k"]), fontsize="x-small", xytext=(4, 3),
                          textcoords="offset points")
        axes.set(xscale="log", xlabel=label, ylabel=f"recall@{k} vs exact search", ylim=(0, 1.05))
        axes.grid(True, which="both", alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
