"""The rollout of a challenger that passed its gates: a state machine over consecutive guardrail windows.

The challenger serves ``rollout.steps[step]`` of the traffic, the champion the rest. Every window of
``rollout.window_minutes`` is read against the guardrails:

- any guardrail breached: roll back at the end of that window, so a breach is acted on within one window;
- otherwise, any guardrail without enough traffic to judge: hold (the window does not count towards the step);
- otherwise the window passed: once passed windows add up to ``rollout.min_step_minutes`` the rollout advances,
  and passing the last partial step completes it (the challenger takes all traffic and becomes the champion).

Every transition is a ``RolloutEvent`` stamped with the simulated time at which it happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from adrank_pipelines.lifecycle.params import GuardrailParams, RolloutParams
from adrank_pipelines.lifecycle.thresholds import exceeds, finite_or_none
from adrank_pipelines.monitoring.ab_test import two_proportion_z_test


class Phase(StrEnum):
    ROLLING_OUT = "rolling_out"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"


class Action(StrEnum):
    START = "start"
    PASS = "pass"  # the window passed; the step keeps its share until its time is served
    HOLD = "hold"  # not enough traffic to judge; the window does not count
    ADVANCE = "advance"
    COMPLETE = "complete"
    ROLLBACK = "rollback"


class Reading(StrEnum):
    PASS = "pass"
    BREACH = "breach"
    NO_EVIDENCE = "no_evidence"


@dataclass(frozen=True)
class WindowObservation:
    """What one evaluation window saw: both arms' impressions and clicks, the challenger's requests, errors and
    p99 latency (None where nothing was timed)."""

    start: datetime
    end: datetime
    champion_impressions: int
    champion_clicks: int
    challenger_impressions: int
    challenger_clicks: int
    challenger_requests: int
    challenger_errors: int
    challenger_p99_ms: float | None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        counts = {name: value for name, value in asdict(self).items() if isinstance(value, int)}
        negative = [name for name, value in counts.items() if value < 0]
        if negative:
            raise ValueError(f"counts must not be negative: {', '.join(negative)}")
        for part, whole in (
            ("champion_clicks", "champion_impressions"),
            ("challenger_clicks", "challenger_impressions"),
            ("challenger_errors", "challenger_requests"),
        ):
            if counts[part] > counts[whole]:
                raise ValueError(f"{part} ({counts[part]}) exceeds {whole} ({counts[whole]})")

    def evidence(self) -> dict[str, Any]:
        return {
            name: value.isoformat() if isinstance(value, datetime) else value for name, value in asdict(self).items()
        }


@dataclass(frozen=True)
class GuardrailReading:
    guardrail: str
    reading: Reading
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def ctr_guardrail(observation: WindowObservation, params: GuardrailParams) -> GuardrailReading:
    """Breach when the challenger's CTR is more than ``max_ctr_drop`` below the champion's (relative) and the
    two-proportion test finds the difference significant at ``ctr_alpha``."""
    o = observation
    evidence: dict[str, Any] = {"max_ctr_drop": params.max_ctr_drop, "ctr_alpha": params.ctr_alpha}
    thin = min(o.champion_impressions, o.challenger_impressions)
    if thin < params.min_impressions:
        reason = f"an arm has {thin} impressions, below min_impressions {params.min_impressions}"
        return GuardrailReading("ctr", Reading.NO_EVIDENCE, reason, evidence)
    if o.champion_clicks == 0:
        reason = "the champion has no clicks: a relative CTR change is undefined"
        return GuardrailReading("ctr", Reading.NO_EVIDENCE, reason, evidence)
    test = two_proportion_z_test(
        o.champion_clicks, o.champion_impressions, o.challenger_clicks, o.challenger_impressions, params.ctr_alpha
    )
    change = test["treatment_rate"] / test["control_rate"] - 1.0
    evidence.update(
        champion_ctr=test["control_rate"], challenger_ctr=test["treatment_rate"], change=change, p_value=test["p_value"]
    )
    dropped, significant = exceeds(-change, params.max_ctr_drop), test["p_value"] < params.ctr_alpha
    reading = Reading.BREACH if dropped and significant else Reading.PASS
    reason = (
        f"challenger CTR {change:+.4%} vs the champion (p-value {test['p_value']:.4g}); "
        f"a breach is a drop beyond {params.max_ctr_drop:.4%} with a p-value below {params.ctr_alpha:g}"
    )
    return GuardrailReading("ctr", reading, reason, evidence)


def _too_few_requests(
    guardrail: str, observation: WindowObservation, params: GuardrailParams, evidence: dict[str, Any]
) -> GuardrailReading | None:
    """No evidence when the challenger served fewer than ``min_requests`` in the window; None when it did not."""
    requests = observation.challenger_requests
    if requests >= params.min_requests:
        return None
    reason = f"the challenger served {requests} requests, below min_requests {params.min_requests}"
    return GuardrailReading(guardrail, Reading.NO_EVIDENCE, reason, evidence)


def latency_guardrail(observation: WindowObservation, params: GuardrailParams) -> GuardrailReading:
    """Breach when the challenger's p99 latency over the window passes ``max_p99_ms``."""
    p99 = finite_or_none(observation.challenger_p99_ms)
    evidence: dict[str, Any] = {"p99_ms": p99, "max_p99_ms": params.max_p99_ms}
    thin = _too_few_requests("latency", observation, params, evidence)
    if thin is not None:
        return thin
    if p99 is None:
        return GuardrailReading("latency", Reading.NO_EVIDENCE, "no finite p99 latency of the challenger", evidence)
    reading = Reading.BREACH if exceeds(p99, params.max_p99_ms) else Reading.PASS
    return GuardrailReading("latency", reading, f"p99 {p99:g} ms against a limit of {params.max_p99_ms:g} ms", evidence)


def error_guardrail(observation: WindowObservation, params: GuardrailParams) -> GuardrailReading:
    """Breach when the challenger's error rate over the window passes ``max_error_rate``."""
    requests, errors = observation.challenger_requests, observation.challenger_errors
    evidence: dict[str, Any] = {"errors": errors, "requests": requests, "max_error_rate": params.max_error_rate}
    thin = _too_few_requests("errors", observation, params, evidence)
    if thin is not None:
        return thin
    rate = errors / requests
    evidence["error_rate"] = rate
    reading = Reading.BREACH if exceeds(rate, params.max_error_rate) else Reading.PASS
    reason = f"error rate {rate:.4%} against a limit of {params.max_error_rate:.4%}"
    return GuardrailReading("errors", reading, reason, evidence)


GUARDRAILS: tuple[Callable[[WindowObservation, GuardrailParams], GuardrailReading], ...] = (
    ctr_guardrail,
    latency_guardrail,
    error_guardrail,
)


@dataclass(frozen=True)
class RolloutState:
    """Where a rollout stands: its phase, step (an index of ``rollout.steps``), the end of the last window read
    (the next window starts there) and the minutes of passed windows served at this step."""

    phase: Phase
    step: int
    clock: datetime
    passed_minutes: int = 0


@dataclass(frozen=True)
class RolloutEvent:
    """A transition at a simulated time: the step and challenger share after it, and the evidence it read (for a
    rollback, the step and share it was rolled back from)."""

    time: datetime
    step: int
    share: float
    action: Action
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "time": self.time.isoformat(), "action": str(self.action)}


def start_rollout(start: datetime, params: RolloutParams) -> tuple[RolloutState, RolloutEvent]:
    state = RolloutState(Phase.ROLLING_OUT, step=0, clock=start)
    share = params.steps[0]
    return state, RolloutEvent(start, 0, share, Action.START, f"the challenger starts at {share:.0%} of traffic")


def _check_window(state: RolloutState, observation: WindowObservation, params: RolloutParams) -> None:
    if state.phase != Phase.ROLLING_OUT:
        raise ValueError(f"the rollout has ended ({state.phase}): no window can be read")
    if observation.start != state.clock:
        raise ValueError(f"the window must start where the last ended ({state.clock}), got {observation.start}")
    minutes = (observation.end - observation.start) / timedelta(minutes=1)
    if minutes != params.window_minutes:
        raise ValueError(f"the window lasts {minutes:g} minutes, rollout.window_minutes is {params.window_minutes}")


def read_window(
    state: RolloutState, observation: WindowObservation, params: RolloutParams
) -> tuple[RolloutState, RolloutEvent]:
    """The state after ``observation`` (the window starting at ``state.clock``), and the event it causes."""
    _check_window(state, observation, params)
    readings = [guardrail(observation, params.guardrails) for guardrail in GUARDRAILS]
    evidence: dict[str, Any] = {
        "window": observation.evidence(),
        **{r.guardrail: {"reading": str(r.reading), "reason": r.reason, **r.evidence} for r in readings},
    }
    moved = replace(state, clock=observation.end)

    def event(after: RolloutState, action: Action, reason: str) -> tuple[RolloutState, RolloutEvent]:
        return after, RolloutEvent(observation.end, after.step, params.steps[after.step], action, reason, evidence)

    breached = [r.guardrail for r in readings if r.reading == Reading.BREACH]
    if breached:
        return event(replace(moved, phase=Phase.ROLLED_BACK), Action.ROLLBACK, f"breached: {', '.join(breached)}")
    unjudged = [r.guardrail for r in readings if r.reading == Reading.NO_EVIDENCE]
    if unjudged:
        return event(moved, Action.HOLD, f"not enough evidence: {', '.join(unjudged)}")
    served = state.passed_minutes + params.window_minutes
    if served < params.min_step_minutes:
        return event(
            replace(moved, passed_minutes=served),
            Action.PASS,
            f"passed; {served} of {params.min_step_minutes} min served",
        )
    # Passing the last partial step is completion: the final share, 1.0, leaves no champion traffic to compare.
    if state.step + 2 == len(params.steps):
        done = replace(moved, phase=Phase.COMPLETED, step=state.step + 1, passed_minutes=0)
        return event(done, Action.COMPLETE, "every partial step passed: the challenger becomes the champion")
    advanced = replace(moved, step=state.step + 1, passed_minutes=0)
    return event(advanced, Action.ADVANCE, f"passed; the step served {served} min")


def play_rollout(
    start: datetime,
    until: datetime,
    observe: Callable[[float, datetime, datetime], WindowObservation],
    params: RolloutParams,
) -> tuple[RolloutState, list[RolloutEvent]]:
    """Run a rollout from ``start``: ``observe(share, window start, window end)`` serves one window at the
    current share and reports it. Stops when the rollout completes, rolls back, or its next window would end
    after ``until`` (the state then still reads ``rolling_out``)."""
    state, first = start_rollout(start, params)
    events = [first]
    window = timedelta(minutes=params.window_minutes)
    while state.phase == Phase.ROLLING_OUT and state.clock + window <= until:
        observation = observe(params.steps[state.step], state.clock, state.clock + window)
        state, happened = read_window(state, observation, params)
        events.append(happened)
    return state, events
