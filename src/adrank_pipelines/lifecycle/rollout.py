"""The rollout of a challenger that passed its gates: a state machine over consecutive guardrail windows.

The challenger serves ``rollout.steps[step]`` of the traffic, the champion the rest. Every window of
``rollout.window_minutes`` is read against the guardrails:

- any guardrail breached: roll back at the end of that window, so a breach is acted on within one window;
- otherwise, any guardrail without enough traffic to judge: hold (the window does not count towards the step);
  the CTR is judged on the window alone (a sudden break) and on every window of the rollout so far (each window
  a stratum; an always-valid sequential test, ``lifecycle.sequential``), and only the latter can hold it;
  latency and errors breach on any traffic but pass only on ``min_requests`` requests, read on the window
  together with the windows just before it that were too thin to pass; the skew
  check compares the challenger's served scores with its registered model's on the same logged features;
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
from adrank_pipelines.lifecycle.sequential import StratifiedClicks
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
    p99 latency (None where nothing was timed), and of its requests re-scored offline by the registered model
    from their logged features, how many were served a score that differs (training/serving skew)."""

    start: datetime
    end: datetime
    champion_impressions: int
    champion_clicks: int
    challenger_impressions: int
    challenger_clicks: int
    challenger_requests: int
    challenger_errors: int
    challenger_p99_ms: float | None
    challenger_rescored_requests: int = 0
    challenger_skewed_requests: int = 0

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
            ("challenger_skewed_requests", "challenger_rescored_requests"),
            ("challenger_rescored_requests", "challenger_requests"),
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


def rollout_ctr_guardrail(clicks: StratifiedClicks, params: GuardrailParams) -> GuardrailReading:
    """Breach when the rollout's windows so far show, with the always-valid test at ``rollout_ctr_alpha``, that the
    challenger's CTR is more than ``max_ctr_drop`` below the champion's."""
    evidence: dict[str, Any] = {
        "rollout_ctr_alpha": params.rollout_ctr_alpha,
        "rollout_ctr_mixture_sd": params.rollout_ctr_mixture_sd,
        **asdict(clicks),
    }
    thin = min(clicks.champion_impressions, clicks.challenger_impressions)
    if thin < params.min_impressions:
        reason = f"an arm has {thin} impressions in the rollout, below min_impressions {params.min_impressions}"
        return GuardrailReading("ctr_rollout", Reading.NO_EVIDENCE, reason, evidence)
    test = clicks.drop_test(params.max_ctr_drop, params.rollout_ctr_mixture_sd)
    evidence.update(change=test.change, log_ratio=test.log_ratio, p_value=test.p_value)
    reading = Reading.BREACH if test.significant(params.rollout_ctr_alpha) else Reading.PASS
    reason = (
        f"challenger clicks {test.change:+.4%} vs the champion's CTR over the rollout (always-valid p-value "
        f"{test.p_value:.4g} for a drop beyond {params.max_ctr_drop:.4%}); a breach needs it at most "
        f"{params.rollout_ctr_alpha:g}"
    )
    return GuardrailReading("ctr_rollout", reading, reason, evidence)


def skew_guardrail(observation: WindowObservation, params: GuardrailParams) -> GuardrailReading:
    """Breach when more than ``max_skewed_share`` of the challenger's re-scored requests were served scores that
    differ from the registered model's scores of the same logged features: a serving bug (a feature read from
    the wrong column, a shuffled input) that no offline metric of the registered model can see."""
    rescored, skewed = observation.challenger_rescored_requests, observation.challenger_skewed_requests
    evidence: dict[str, Any] = {"rescored": rescored, "skewed": skewed, "max_skewed_share": params.max_skewed_share}
    if rescored == 0:
        return GuardrailReading("skew", Reading.NO_EVIDENCE, "no request of the challenger was re-scored", evidence)
    share = skewed / rescored
    evidence["skewed_share"] = share
    reading = Reading.BREACH if exceeds(share, params.max_skewed_share) else Reading.PASS
    reason = (
        f"{skewed} of {rescored} re-scored requests served skewed scores; the limit is {params.max_skewed_share:.2%}"
    )
    return GuardrailReading("skew", reading, reason, evidence)


def _request_reading(
    guardrail: str,
    breached: bool,
    reason: str,
    observation: WindowObservation,
    params: GuardrailParams,
    evidence: dict[str, Any],
) -> GuardrailReading:
    """A breach stands on any number of requests (an incident shows at once, even in a quiet hour); a pass needs
    ``min_requests``, else the reading is no evidence."""
    if breached:
        return GuardrailReading(guardrail, Reading.BREACH, reason, evidence)
    requests = observation.challenger_requests
    if requests < params.min_requests:
        thin = f"the challenger served {requests} requests, below min_requests {params.min_requests}"
        return GuardrailReading(guardrail, Reading.NO_EVIDENCE, thin, evidence)
    return GuardrailReading(guardrail, Reading.PASS, reason, evidence)


def latency_guardrail(observation: WindowObservation, params: GuardrailParams) -> GuardrailReading:
    """Breach when the challenger's p99 latency over the window passes ``max_p99_ms``."""
    p99 = finite_or_none(observation.challenger_p99_ms)
    evidence: dict[str, Any] = {"p99_ms": p99, "max_p99_ms": params.max_p99_ms}
    if p99 is None:
        return GuardrailReading("latency", Reading.NO_EVIDENCE, "no finite p99 latency of the challenger", evidence)
    reason = f"p99 {p99:g} ms against a limit of {params.max_p99_ms:g} ms"
    return _request_reading("latency", exceeds(p99, params.max_p99_ms), reason, observation, params, evidence)


def error_guardrail(observation: WindowObservation, params: GuardrailParams) -> GuardrailReading:
    """Breach when the challenger's error rate over the window passes ``max_error_rate``."""
    requests, errors = observation.challenger_requests, observation.challenger_errors
    evidence: dict[str, Any] = {"errors": errors, "requests": requests, "max_error_rate": params.max_error_rate}
    if requests == 0:
        return GuardrailReading("errors", Reading.NO_EVIDENCE, "the challenger served no request", evidence)
    rate = errors / requests
    evidence["error_rate"] = rate
    reason = f"error rate {rate:.4%} against a limit of {params.max_error_rate:.4%}"
    return _request_reading("errors", exceeds(rate, params.max_error_rate), reason, observation, params, evidence)


# Readings that can roll back but never hold: the window's own CTR (the rollout's stands for it) and the skew
# check (a rollout whose requests are not re-scored is judged by the rest).
ALARMS_ONLY = ("ctr", "skew")
REQUEST_GUARDRAILS: tuple[Callable[[WindowObservation, GuardrailParams], GuardrailReading], ...] = (
    latency_guardrail,
    error_guardrail,
)


def pooled(earlier: WindowObservation | None, later: WindowObservation) -> WindowObservation:
    """``later`` read together with ``earlier`` (the windows just before it): counts add up, and the p99 is the
    larger of the two, an upper bound of the pooled requests' p99 (no more than 1% of either part lies above
    its own p99)."""
    if earlier is None:
        return later
    p99s = [p for p in (finite_or_none(earlier.challenger_p99_ms), finite_or_none(later.challenger_p99_ms)) if p]
    return WindowObservation(
        start=earlier.start,
        end=later.end,
        champion_impressions=earlier.champion_impressions + later.champion_impressions,
        champion_clicks=earlier.champion_clicks + later.champion_clicks,
        challenger_impressions=earlier.challenger_impressions + later.challenger_impressions,
        challenger_clicks=earlier.challenger_clicks + later.challenger_clicks,
        challenger_requests=earlier.challenger_requests + later.challenger_requests,
        challenger_errors=earlier.challenger_errors + later.challenger_errors,
        challenger_p99_ms=max(p99s) if p99s else None,
        challenger_rescored_requests=earlier.challenger_rescored_requests + later.challenger_rescored_requests,
        challenger_skewed_requests=earlier.challenger_skewed_requests + later.challenger_skewed_requests,
    )


@dataclass(frozen=True)
class RolloutState:
    """Where a rollout stands: its phase, step (an index of ``rollout.steps``), the end of the last window read
    (the next window starts there), the minutes of passed windows served at this step, the challenger's clicks
    against the champion's CTR over every window of the rollout, held ones included, and the windows just read
    that had too few requests for the latency and error guardrails (pooled; None when the last one had enough)."""

    phase: Phase
    step: int
    clock: datetime
    passed_minutes: int = 0
    clicks: StratifiedClicks = field(default_factory=StratifiedClicks)
    thin_windows: WindowObservation | None = None


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
    o = observation
    clicks = state.clicks.plus(o.champion_impressions, o.champion_clicks, o.challenger_impressions, o.challenger_clicks)
    requests = pooled(state.thin_windows, observation)
    readings = [
        ctr_guardrail(observation, params.guardrails),
        skew_guardrail(observation, params.guardrails),
        *(guardrail(requests, params.guardrails) for guardrail in REQUEST_GUARDRAILS),
        rollout_ctr_guardrail(clicks, params.guardrails),
    ]
    evidence: dict[str, Any] = {
        "window": observation.evidence(),
        **{r.guardrail: {"reading": str(r.reading), "reason": r.reason, **r.evidence} for r in readings},
    }
    thin = requests if requests.challenger_requests < params.guardrails.min_requests else None
    moved = replace(state, clock=observation.end, clicks=clicks, thin_windows=thin)

    def event(after: RolloutState, action: Action, reason: str) -> tuple[RolloutState, RolloutEvent]:
        return after, RolloutEvent(observation.end, after.step, params.steps[after.step], action, reason, evidence)

    breached = [r.guardrail for r in readings if r.reading == Reading.BREACH]
    if breached:
        return event(replace(moved, phase=Phase.ROLLED_BACK), Action.ROLLBACK, f"breached: {', '.join(breached)}")
    unjudged = [r.guardrail for r in readings if r.reading == Reading.NO_EVIDENCE and r.guardrail not in ALARMS_ONLY]
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
