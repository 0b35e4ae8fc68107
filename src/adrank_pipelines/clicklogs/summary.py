"""What a person checks first about a parsed click log: size, CTR, time span, and per column how many
distinct values it has and how often it is empty."""

from __future__ import annotations

from typing import Any

import pandas as pd

from adrank_pipelines.clicklogs.config import CLICK, EVENT_TIME, ColumnMapping


def click_log_summary(events: pd.DataFrame, mapping: ColumnMapping) -> dict[str, Any]:
    """JSON-ready: rows, clicks, CTR, first and last time (when there is time), column profiles."""
    summary: dict[str, Any] = {
        "rows": len(events),
        "clicks": int(events[CLICK].sum()),
        "ctr": float(events[CLICK].mean()) if len(events) else float("nan"),
    }
    if EVENT_TIME in events.columns:
        summary["first_time"] = events[EVENT_TIME].min().isoformat()
        summary["last_time"] = events[EVENT_TIME].max().isoformat()
    summary["columns"] = {
        name: {
            "role": role,
            "distinct_values": int(events[name].nunique()),
            "missing_share": float(events[name].isna().mean()),
        }
        for role, names in (("categorical", mapping.categorical), ("numeric", mapping.numeric))
        for name in names
    }
    return summary
