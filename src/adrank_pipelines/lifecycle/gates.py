"""Promotion gates: whether a challenger may start its rollout, decided from evidence alone.

Each gate returns a ``GateDecision`` with the numbers it judged. Evidence that is missing, undefined or not a
finite number fails the gate closed with a reason naming it: a gate never passes on what it could not read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from adrank_pipelines.lifecycle.params import AbGateParams, GateParams, LatencyGateParams, OfflineGateParams
from adrank_pipelines.lifecycle.thresholds import at_least, exceeds, finite_or_none

# The fields of a lift estimate (monitoring.ab_test.LiftEstimate.as_dict(), auction.experiment's readout entries).
_LIFT_FIELDS = ("lift", "ci_low", "ci_high", "p_value")


@dataclass(frozen=True)
class GateDecision:
    gate: str
    passed: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PromotionEvidence:
    """What the gates judge: offline metrics of both models, A/B readouts by metric name (each a lift estimate
    as a dict, with ``undefined`` naming why where it could not be estimated) and the challenger's p99 latency."""

    challenger_metrics: Mapping[str, float | None]
    champion_metrics: Mapping[str, float | None]
    ab_readouts: Mapping[str, Mapping[str, Any]]
    p99_ms: float | None


def offline_gate(
    challenger: Mapping[str, float | None], champion: Mapping[str, float | None], params: OfflineGateParams
) -> GateDecision:
    """Pass when the challenger's ``params.metric`` beats the champion's by at least ``params.min_improvement``."""
    metric = params.metric
    new, old = finite_or_none(challenger.get(metric)), finite_or_none(champion.get(metric))
    evidence: dict[str, Any] = {
        "metric": metric,
        "challenger": new,
        "champion": old,
        "comparison": params.comparison,
        "min_improvement": params.min_improvement,
    }
    if new is None or old is None:
        missing = [side for side, value in (("challenger", new), ("champion", old)) if value is None]
        return GateDecision("offline", False, f"no finite '{metric}' for the {' and '.join(missing)}", evidence)
    gain = new - old if params.greater_is_better else old - new
    if params.comparison == "relative":
        if old == 0.0:
            return GateDecision("offline", False, f"the champion's '{metric}' is 0: no relative improvement", evidence)
        gain /= abs(old)
    evidence["improvement"] = gain
    passed = at_least(gain, params.min_improvement)
    verdict = "at least" if passed else "below"
    reason = f"{params.comparison} improvement in '{metric}' {gain:.6g} is {verdict} {params.min_improvement:g}"
    return GateDecision("offline", passed, reason, evidence)


def ab_gate(readouts: Mapping[str, Mapping[str, Any]], params: AbGateParams) -> GateDecision:
    """Pass when the readout of ``params.metric`` has a lift of at least ``params.min_lift`` and a p-value below
    ``params.alpha``."""
    metric = params.metric
    entry = readouts.get(metric)
    evidence: dict[str, Any] = {"metric": metric, "min_lift": params.min_lift, "alpha": params.alpha}
    if entry is None:
        return GateDecision("ab", False, f"no A/B readout of '{metric}'", evidence)
    evidence.update({name: entry.get(name) for name in _LIFT_FIELDS})
    if entry.get("undefined"):
        return GateDecision("ab", False, f"the A/B lift of '{metric}' is undefined: {entry['undefined']}", evidence)
    lift, p_value = finite_or_none(entry.get("lift")), finite_or_none(entry.get("p_value"))
    if lift is None or p_value is None:
        unread = [name for name, value in (("lift", lift), ("p_value", p_value)) if value is None]
        return GateDecision("ab", False, f"the A/B readout of '{metric}' has no finite {', '.join(unread)}", evidence)
    large, significant = at_least(lift, params.min_lift), p_value < params.alpha
    reason = (
        f"lift in '{metric}' {lift:.6g} is {'at least' if large else 'below'} {params.min_lift:g}; "
        f"p-value {p_value:.6g} is {'below' if significant else 'not below'} {params.alpha:g}"
    )
    return GateDecision("ab", large and significant, reason, evidence)


def latency_gate(p99_ms: float | None, params: LatencyGateParams) -> GateDecision:
    """Pass when the challenger's p99 latency is at most ``params.max_p99_ms``."""
    evidence: dict[str, Any] = {"p99_ms": p99_ms, "max_p99_ms": params.max_p99_ms}
    p99 = finite_or_none(p99_ms)
    if p99 is None:
        return GateDecision("latency", False, "no finite p99 latency of the challenger", evidence)
    over = exceeds(p99, params.max_p99_ms)
    reason = f"p99 {p99:g} ms is {'above' if over else 'within'} {params.max_p99_ms:g} ms"
    return GateDecision("latency", not over, reason, evidence)


def promotion(decisions: Sequence[GateDecision]) -> GateDecision:
    """Promote only when at least one gate was judged and every gate passed."""
    evidence: dict[str, Any] = {decision.gate: decision.passed for decision in decisions}
    if not decisions:
        return GateDecision("promotion", False, "no gate was judged", evidence)
    failed = [decision.gate for decision in decisions if not decision.passed]
    if failed:
        return GateDecision("promotion", False, f"failed gate(s): {', '.join(failed)}", evidence)
    return GateDecision("promotion", True, f"passed gate(s): {', '.join(evidence)}", evidence)


def gate_challenger(evidence: PromotionEvidence, params: GateParams) -> tuple[GateDecision, list[GateDecision]]:
    """The promotion decision and the decision of each gate behind it."""
    decisions = [
        offline_gate(evidence.challenger_metrics, evidence.champion_metrics, params.offline),
        ab_gate(evidence.ab_readouts, params.ab),
        latency_gate(evidence.p99_ms, params.latency),
    ]
    return promotion(decisions), decisions
