"""Alert rules over the drift statistics, the alert table, and the retrain recommendation.

A statistic is flagged when its value reaches a threshold of its group and, where it has a test,
when its p-value is below ``max_p_value``: magnitude says whether a shift matters, the test whether
the window is large enough to believe it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.monitoring.params import RuleParams

OK, WARN, ALERT = "ok", "warn", "alert"
# A statistic the window cannot define (NaN: an empty window, a single class) is neither fine nor flagged.
UNDEFINED = "undefined"
FLAGGED = (WARN, ALERT)
SEVERITY_ORDER = {OK: 0, WARN: 1, ALERT: 2}
RETRAIN, WATCH, NONE = "retrain", "watch", "none"


def apply_rules(statistics: pd.DataFrame, rules: RuleParams) -> pd.DataFrame:
    """The statistics with their thresholds, ``significant`` and ``severity`` (ok / warn / alert, or
    undefined where the value is NaN, so an unmeasured statistic never passes as ok).

    Report-only rows get a severity too, so plots can show them against the thresholds; only rows
    with ``alerting`` true reach the alert table.
    """
    thresholds = [
        rules.thresholds(group, subject, statistic)
        for group, subject, statistic in statistics[["group", "subject", "statistic"]].itertuples(index=False)
    ]
    evaluated = statistics.assign(
        warn_threshold=np.array([t.warn for t in thresholds], dtype=np.float64),
        alert_threshold=np.array([t.alert for t in thresholds], dtype=np.float64),
        significant=statistics["p_value"].isna() | (statistics["p_value"] < rules.max_p_value),
    )
    value = evaluated["value"].to_numpy(dtype=np.float64)
    significant = evaluated["significant"].to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        severity = np.select(
            [
                significant & (value >= evaluated["alert_threshold"]),
                significant & (value >= evaluated["warn_threshold"]),
            ],
            [ALERT, WARN],
            default=OK,
        )
    return evaluated.assign(severity=np.where(np.isnan(value), UNDEFINED, severity))


def alert_table(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Flagged rows of alerting statistics, alerts first, then by window and by how far past the threshold.

    No flagged row (or no row at all) gives an empty table with the columns of ``evaluated``.
    """
    flagged = evaluated.loc[evaluated["alerting"].to_numpy(dtype=bool) & evaluated["severity"].isin(FLAGGED).to_numpy()]
    # Sort keys as float arrays: on zero rows pandas keeps the mapped severities a string column,
    # which cannot be negated.
    severity_rank = np.array([SEVERITY_ORDER[severity] for severity in flagged["severity"]], dtype=np.float64)
    value = flagged["value"].to_numpy(dtype=np.float64)
    alert_threshold = flagged["alert_threshold"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = value / alert_threshold
    order = flagged.assign(_rank=-severity_rank, _excess=-excess).sort_values(
        ["_rank", "window", "_excess"], kind="stable"
    )
    return order.drop(columns=["_rank", "_excess"]).reset_index(drop=True)


def describe_alert(row: pd.Series) -> str:
    """One readable line: 'drift: feature platform_idx psi 0.312 >= 0.25 (alert)'."""
    threshold = row["alert_threshold"] if row["severity"] == ALERT else row["warn_threshold"]
    return f"{row['window']}: {row['group']} {row['subject']} {row['statistic']} {row['value']:.3g} >= {threshold:g} ({row['severity']})"


def window_decision(alerts: pd.DataFrame, window: str, min_alerts: int) -> dict[str, Any]:
    """retrain (at least ``min_alerts`` alerts), watch (any flag) or none, with the flags as reasons."""
    flags = alerts.loc[alerts["window"] == window]
    n_alerts = int((flags["severity"] == ALERT).sum())
    decision = RETRAIN if n_alerts >= min_alerts else WATCH if len(flags) else NONE
    return {
        "decision": decision,
        "alerts": n_alerts,
        "warnings": int((flags["severity"] == WARN).sum()),
        "reasons": [describe_alert(row) for _, row in flags.iterrows()],
    }


def retrain_recommendation(alerts: pd.DataFrame, windows: Sequence[str], min_alerts: int) -> dict[str, Any]:
    """Per-window decisions; the recommendation is the latest window's, the model's present state."""
    if not windows:
        raise ValueError("no current window has rows: there is nothing to recommend on")
    decisions = {window: window_decision(alerts, window, min_alerts) for window in windows}
    latest = windows[-1]
    return {
        "recommendation": decisions[latest]["decision"],
        "based_on_window": latest,
        "min_alerts": min_alerts,
        "windows": decisions,
    }
