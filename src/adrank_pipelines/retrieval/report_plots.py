"""The recall / latency figure of index types, drawn from report rows alone (pipeline report or benchmark).

Each index structure (factory string, with or without the L2 reduction) is one curve through its
search-parameter values. Built with ``matplotlib.figure.Figure`` (no pyplot registry, no GUI backend),
as the CTR report is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

_PANELS = (
    ("single_median_ms", "median latency, one query per search (ms)"),
    ("batched_per_query_median_ms", "median latency per query, batched search (ms)"),
)


def _structure(row: Mapping[str, Any]) -> str:
    factory: str = row["factory"]
    return factory + (" MIPS->L2" if row["mips_to_l2"] else "")


def _setting(row: Mapping[str, Any]) -> str:
    if row.get("nprobe"):
        return f"nprobe {row['nprobe']}"
    return f"ef {row['ef_search']}" if row.get("ef_search") else ""


def recall_latency_plot(rows: Sequence[Mapping[str, Any]], k: int, title: str) -> Figure:
    """Recall@K against exact search versus query latency (log axis), one curve per index structure."""
    curves: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        curves.setdefault(_structure(row), []).append(row)
    lowest = min(row["recall_at_k"] for row in rows)
    figure = Figure(figsize=(12, 5))
    for panel, (latency_key, label) in enumerate(_PANELS, start=1):
        axes = figure.add_subplot(1, len(_PANELS), panel)
        for structure, points in curves.items():
            points = sorted(points, key=lambda row: row["latency"][latency_key])
            latency = [row["latency"][latency_key] for row in points]
            recall = [row["recall_at_k"] for row in points]
            axes.plot(latency, recall, marker="o", markersize=4, label=structure)
            for row, x, y in zip(points, latency, recall, strict=True):
                axes.annotate(_setting(row), (x, y), fontsize="xx-small", xytext=(3, -8), textcoords="offset points")
        axes.set(xscale="log", xlabel=label, ylabel=f"recall@{k} vs exact search", ylim=(max(0.0, lowest - 0.05), 1.01))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.grid(True, which="both", alpha=0.3)
    handles, labels = figure.axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize="small")
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    return figure
