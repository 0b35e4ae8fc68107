"""The drift report (a JSON-ready summary per window) and the figures MLflow should chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import pandas as pd

from adrank_pipelines.monitoring.alerts import ALERT, FLAGGED, UNDEFINED, WARN


def _number(value: Any) -> float | None:
    """A float for JSON; NaN (undefined statistic) becomes null, which strict JSON readers accept."""
    value = float(value)
    return None if math.isnan(value) else value


def _statistic_entry(row: pd.Series) -> dict[str, Any]:
    return {
        "value": _number(row["value"]),
        "reference": _number(row["reference_value"]),
        "current": _number(row["current_value"]),
        "reference_window": row["reference_window"],
        "p_value": _number(row["p_value"]),
        "severity": row["severity"],
    }


def _feature_summary(features: pd.DataFrame) -> dict[str, Any]:
    flagged = features.loc[features["severity"].isin(FLAGGED)]
    alerting, report_only = flagged.loc[flagged["alerting"]], flagged.loc[~flagged["alerting"]]
    # A PSI is NaN where the window had no value in any bin: it cannot be the largest.
    psi = features.loc[features["alerting"] & (features["statistic"] == "psi") & features["value"].notna()]
    # idxmax returns a label of psi's index, which .loc takes; pandas-stubs types it as any Hashable.
    top = psi.loc[psi["value"].idxmax()] if len(psi) else None  # type: ignore[call-overload]  # stubs: Hashable label
    return {
        "monitored": int(features["subject"].nunique()),
        "flagged": [
            {
                "feature": row["subject"],
                "source": row["source"],
                "statistic": row["statistic"],
                "value": _number(row["value"]),
                "severity": row["severity"],
            }
            for _, row in alerting.iterrows()
        ],
        "flagged_sources": sorted({s for source in alerting["source"] for s in source.split(" x ") if s}),
        "report_only_past_threshold": sorted(set(report_only["subject"])),
        "max_psi": None if top is None else {"feature": top["subject"], "value": _number(top["value"])},
        "undefined": sorted(set(features.loc[features["severity"] == UNDEFINED, "subject"])),
    }


def drift_report(
    evaluated: pd.DataFrame,
    recommendation: dict[str, Any],
    model: str,
    windows: Sequence[str],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Per window: rows, decision and what it means in words, every model-level statistic and the flagged
    features; windows without rows are listed under ``absent_windows`` with the reason."""
    report_windows: dict[str, Any] = {}
    absent: dict[str, str] = {}
    for window in windows:
        rows = evaluated.loc[evaluated["window"] == window]
        if rows.empty:
            absent[window] = "the window has no rows: nothing to compare with the reference"
            continue
        model_rows = rows.loc[rows["group"] != "feature"]
        decision = recommendation["windows"][window]
        undefined = int((rows["severity"] == UNDEFINED).sum())
        entry: dict[str, Any] = {
            "rows": int(rows["n_current"].max()),
            **decision,
            "summary": _summary(decision, undefined),
        }
        for group, group_rows in model_rows.groupby("group", sort=False):
            entry[str(group)] = {row["statistic"]: _statistic_entry(row) for _, row in group_rows.iterrows()}
        entry["features"] = _feature_summary(rows.loc[rows["group"] == "feature"])
        report_windows[window] = entry
    return {
        "model": model,
        "recommendation": recommendation["recommendation"],
        "based_on_window": recommendation["based_on_window"],
        "windows": report_windows,
        "absent_windows": absent,
        "settings": settings,
    }


def _summary(decision: dict[str, Any], undefined: int) -> str:
    if decision["alerts"] == 0 and decision["warnings"] == 0:
        summary = "nothing flagged: every alerting statistic is below its warn threshold or not significant"
    else:
        summary = (
            f"{decision['alerts']} alert(s) and {decision['warnings']} warning(s): decision {decision['decision']}"
        )
    if undefined:
        summary += f"; {undefined} statistic(s) undefined on this window (value null, severity undefined)"
    return summary


def drift_metrics(evaluated: pd.DataFrame) -> dict[str, float]:
    """Flat figures per window for MLflow: alert counts, model-level statistics, the largest feature PSI."""
    metrics: dict[str, float] = {}
    alerting = evaluated.loc[evaluated["alerting"]]
    for window, rows in alerting.groupby("window", sort=False):
        metrics[f"{window}_alerts"] = float((rows["severity"] == ALERT).sum())
        metrics[f"{window}_warnings"] = float((rows["severity"] == WARN).sum())
        feature_psi = rows.loc[(rows["group"] == "feature") & (rows["statistic"] == "psi"), "value"]
        if len(feature_psi):
            metrics[f"{window}_max_feature_psi"] = float(feature_psi.max())
        for row in rows.loc[rows["group"] != "feature"].itertuples(index=False):
            value = cast(float, row.value)  # the statistics table's value column is float
            if not math.isnan(value):
                metrics[f"{window}_{row.group}_{row.statistic}"] = float(value)
    return metrics
