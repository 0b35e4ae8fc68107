"""The lifecycle report: headline figures of a played scenario, and a day-by-day plot against the oracle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.lifecycle.scenario import BETTER, WORSE

# Decisions that send a challenger away, and the one that makes it the champion.
REJECTIONS = ("pre_traffic_gates", "promotion", "rollback")


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _judged(decisions: pd.DataFrame) -> pd.DataFrame:
    if decisions.empty or "truly" not in decisions:
        return decisions.iloc[0:0].assign(truly=pd.Series(dtype=object), right=pd.Series(dtype=object))
    return decisions.loc[decisions["truly"].notna()]


def summarise(decisions: pd.DataFrame, days: pd.DataFrame) -> dict[str, Any]:
    """Counts of every decision kind, wrong calls by the ground truth, promotion and rollback timing."""
    judged = _judged(decisions)
    passed = judged["passed"].astype(bool)
    promotions = judged.loc[(judged["decision"] == "promotion") & passed]
    rejections = judged.loc[judged["decision"].isin(REJECTIONS) & ~passed]
    rollbacks = judged.loc[judged["decision"] == "rollback"]
    better_promoted = promotions.loc[promotions["truly"] == BETTER]
    broken = rollbacks.loc[rollbacks["broken_serving"].astype(bool)] if not rollbacks.empty else rollbacks
    worse_rollbacks = rollbacks.loc[rollbacks["truly"] == WORSE]
    counts = decisions["decision"].value_counts().to_dict() if not decisions.empty else {}
    return {
        "days_played": len(days),
        "decisions": {str(name): int(n) for name, n in counts.items()},
        "retrained_versions": int(days["retrained"].notna().sum()) if not days.empty else 0,
        "promotions": len(promotions),
        "wrong_promotions": int((promotions["truly"] == WORSE).sum()),
        "wrong_rejections": int((rejections["truly"] == BETTER).sum()),
        "wrong_calls": int((~judged["right"].astype(bool)).sum()),
        "judged_calls": len(judged),
        # From the end of the training day to the promotion; null when no truly better version was promoted.
        "days_to_promote_better": [int(d) for d in better_promoted["day"] - better_promoted["trained_day"]],
        "broken_challenger_stopped_at_step": [int(step) + 1 for step in broken["step"]],
        # A truly worse challenger breaches from its first minute of traffic: the delay runs from there.
        "rollback_delay_minutes": [float(m) for m in worse_rollbacks["minutes_since_rollout_start"]],
        "champion_auc_mean": _number(days["champion_auc"].mean()) if not days.empty else None,
        "oracle_auc_mean": _number(days["oracle_auc"].mean()) if not days.empty else None,
        "expected_clicks_vs_oracle": _number(days["expected_clicks"].sum() / days["oracle_expected_clicks"].sum())
        if not days.empty
        else None,
        "welfare_vs_oracle": _number(days["welfare"].sum() / days["oracle_welfare"].sum()) if not days.empty else None,
    }


def plot_days(decisions: pd.DataFrame, days: pd.DataFrame) -> Figure:
    """Champion AUC vs the oracle's, welfare as a share of the oracle's, and each judged decision by day."""
    figure = Figure(figsize=(9, 8))
    auc_axes, welfare_axes, decision_axes = figure.subplots(3, 1, sharex=True)
    if days.empty:
        auc_axes.text(0.5, 0.5, "no day was played", ha="center", va="center", transform=auc_axes.transAxes)
        return figure
    auc_axes.plot(days["day"], days["champion_auc"], marker="o", label="champion")
    auc_axes.plot(days["day"], days["oracle_auc"], marker="s", linestyle="--", label="oracle (true pCTR)")
    auc_axes.set_ylabel("AUC, logged impressions")
    auc_axes.legend(loc="lower left")
    welfare_axes.plot(days["day"], days["welfare"] / days["oracle_welfare"], marker="o", label="welfare / oracle")
    welfare_axes.plot(
        days["day"], days["expected_clicks"] / days["oracle_expected_clicks"], marker="^", label="clicks / oracle"
    )
    welfare_axes.set_ylabel("served / oracle")
    welfare_axes.legend(loc="lower left")
    judged = _judged(decisions)
    kinds = list(REJECTIONS)
    for right, colour in ((True, "tab:green"), (False, "tab:red")):
        rows = judged.loc[judged["right"].astype(bool) == right]
        y = [
            kinds.index(kind) + (0.15 if passed else -0.15)
            for kind, passed in zip(rows["decision"], rows["passed"], strict=True)
        ]
        decision_axes.scatter(rows["day"], y, color=colour, label="right" if right else "wrong", zorder=3)
    decision_axes.set_yticks(np.arange(len(kinds)), kinds)
    decision_axes.set_ylim(-0.6, len(kinds) - 0.4)
    decision_axes.set_xlabel("simulated day (above a line: passed; below: failed)")
    decision_axes.legend(loc="upper left")
    figure.tight_layout()
    return figure
