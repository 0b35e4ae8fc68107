"""The rollout state machine: steps, holds, completion and rollback, with the times they happen at."""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from adrank_pipelines.lifecycle.params import GuardrailParams, RolloutParams
from adrank_pipelines.lifecycle.rollout import (
    Action,
    Phase,
    Reading,
    WindowObservation,
    ctr_guardrail,
    error_guardrail,
    latency_guardrail,
    play_rollout,
    read_window,
    skew_guardrail,
    start_rollout,
)

PARAMS = RolloutParams(min_step_minutes=120)  # the step length the numbers below were worked out for
GUARDRAILS = PARAMS.guardrails
START = datetime(2026, 1, 12)
DAY_END = START + timedelta(days=1)
# Synthetic traffic: 20,000 impressions and 6,000 requests an hour, split by the challenger's share.
IMPRESSIONS_PER_HOUR, REQUESTS_PER_HOUR, CTR = 20_000, 6_000, 0.03
HALF_HOUR = timedelta(minutes=30)

Observe = Callable[[float, datetime, datetime], WindowObservation]


def _window(
    share: float,
    start: datetime,
    end: datetime,
    challenger_ctr: float = CTR,
    p99_ms: float = 80.0,
    error_rate: float = 0.0,
) -> WindowObservation:
    champion, challenger = _arms(share, start, end)
    requests = round(REQUESTS_PER_HOUR * share * _hours(start, end))
    return WindowObservation(
        start=start,
        end=end,
        champion_impressions=champion,
        champion_clicks=round(champion * CTR),
        challenger_impressions=challenger,
        challenger_clicks=round(challenger * challenger_ctr),
        challenger_requests=requests,
        challenger_errors=round(requests * error_rate),
        challenger_p99_ms=p99_ms,
    )


def _hours(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(hours=1)


def _arms(share: float, start: datetime, end: datetime) -> tuple[int, int]:
    """The champion's and the challenger's impressions in the window."""
    impressions = IMPRESSIONS_PER_HOUR * _hours(start, end)
    return round(impressions * (1 - share)), round(impressions * share)


def _observation(**counts) -> WindowObservation:
    fields = {
        "champion_impressions": 10_000,
        "champion_clicks": 300,
        "challenger_impressions": 10_000,
        "challenger_clicks": 300,
        "challenger_requests": 1_000,
        "challenger_errors": 0,
        "challenger_p99_ms": 80.0,
    }
    return WindowObservation(start=START, end=START + HALF_HOUR, **{**fields, **counts})


def _minutes(time: datetime) -> float:
    return (time - START) / timedelta(minutes=1)


def _breaking_at(breach: datetime) -> Observe:
    """Healthy until ``breach``, then the challenger's CTR falls to a fifth of the champion's; a window holding
    the breach mixes its healthy and broken minutes."""

    def observe(share: float, start: datetime, end: datetime) -> WindowObservation:
        broken = min(max((end - breach) / (end - start), 0.0), 1.0)
        return _window(share, start, end, challenger_ctr=CTR * (1 - broken) + CTR * 0.2 * broken)

    return observe


def test_a_healthy_challenger_passes_every_step_and_completes():
    state, events = play_rollout(START, DAY_END, _window, PARAMS)
    assert state.phase == Phase.COMPLETED and state.step == 3
    # Four passed half-hours make the two hours each step needs.
    expected = [(Action.START, 0.05, 0)]
    for step, share in enumerate([0.05, 0.25, 0.5]):
        expected += [(Action.PASS, share, 120 * step + minutes) for minutes in (30, 60, 90)]
        expected.append(
            (Action.ADVANCE, [0.25, 0.5][step], 120 * step + 120) if step < 2 else (Action.COMPLETE, 1.0, 360)
        )
    assert [(e.action, e.share, _minutes(e.time)) for e in events] == expected
    assert all(event.evidence["ctr"]["reading"] == "pass" for event in events[1:])


def test_a_broken_challenger_is_rolled_back_at_the_first_step_after_one_window():
    state, events = play_rollout(START, DAY_END, _breaking_at(START), PARAMS)
    assert state.phase == Phase.ROLLED_BACK and state.step == 0
    assert [(e.action, e.share, _minutes(e.time)) for e in events] == [
        (Action.START, 0.05, 0),
        (Action.ROLLBACK, 0.05, 30),
    ]
    assert events[-1].reason == "breached: ctr, ctr_rollout"
    assert events[-1].evidence["ctr"]["change"] == pytest.approx(-0.8)


@pytest.mark.parametrize("breach_minute", [125, 130, 150, 179, 200, 239, 299])
def test_rollback_lands_within_an_hour_of_the_breach_wherever_it_starts_in_a_window(breach_minute):
    breach = START + timedelta(minutes=breach_minute)
    state, events = play_rollout(START, DAY_END, _breaking_at(breach), PARAMS)
    rollback = events[-1]
    assert state.phase == Phase.ROLLED_BACK and rollback.action == Action.ROLLBACK
    assert [event.action for event in events[1:-1]] == [
        Action.ADVANCE if _minutes(event.time) in (120, 240) else Action.PASS for event in events[1:-1]
    ]
    # The end of the breach's own window, or of the next one when the breach left too few broken minutes in it.
    window_end = 30 * (breach_minute // 30 + 1)
    assert _minutes(rollback.time) in (window_end, window_end + 30)
    assert rollback.time - breach <= timedelta(hours=1)


def test_with_hour_long_windows_a_breach_late_in_a_window_is_read_only_in_the_next():
    hourly = RolloutParams(window_minutes=60)
    breach = START + timedelta(minutes=239)
    _, events = play_rollout(START, DAY_END, _breaking_at(breach), hourly)
    assert (events[-1].action, _minutes(events[-1].time)) == (Action.ROLLBACK, 300)
    assert events[-1].time - breach == timedelta(minutes=61)


def test_a_latency_or_error_breach_rolls_back_at_the_end_of_its_window():
    def slow_after_two_hours(share: float, start: datetime, end: datetime) -> WindowObservation:
        return _window(share, start, end, p99_ms=80.0 if end <= START + timedelta(hours=2) else 151.0)

    _, events = play_rollout(START, DAY_END, slow_after_two_hours, PARAMS)
    assert (events[-1].action, events[-1].share, _minutes(events[-1].time)) == (Action.ROLLBACK, 0.25, 150)
    assert events[-1].reason == "breached: latency"

    def erring(share: float, start: datetime, end: datetime) -> WindowObservation:
        return _window(share, start, end, error_rate=0.01)

    _, events = play_rollout(START, DAY_END, erring, PARAMS)
    assert (events[-1].action, _minutes(events[-1].time), events[-1].reason) == (
        Action.ROLLBACK,
        30,
        "breached: errors",
    )


def _quiet(start: datetime, end: datetime, requests: int = 300) -> WindowObservation:
    # 40 challenger impressions at 5%: below min_impressions (100) for a window, and for a rollout's first two.
    return WindowObservation(start, end, 760, 23, 40, 1, requests, 0, 80.0)


def test_too_little_traffic_holds_until_the_rollouts_windows_add_up_to_enough():
    state, events = play_rollout(START, START + timedelta(hours=5), lambda share, s, e: _quiet(s, e), PARAMS)
    assert [event.action for event in events[1:4]] == [Action.HOLD, Action.HOLD, Action.PASS]
    assert events[2].reason == "not enough evidence: ctr_rollout"
    assert "80 impressions in the rollout, below min_impressions 100" in events[2].evidence["ctr_rollout"]["reason"]
    # The window alone never has enough; its CTR reads no evidence without holding the rollout.
    assert {event.evidence["ctr"]["reading"] for event in events[1:]} == {"no_evidence"}
    assert state.phase == Phase.ROLLING_OUT and state.step == 2 and _minutes(state.clock) == 300


def test_a_held_window_does_not_count_towards_the_step():
    state, _ = start_rollout(START, PARAMS)
    actions = []
    for window in range(5):
        start = START + window * HALF_HOUR
        end = start + HALF_HOUR
        # 10 challenger requests: below min_requests (25) for the latency and error guardrails.
        observation = _quiet(start, end, requests=10) if window == 2 else _window(0.05, start, end)
        state, event = read_window(state, observation, PARAMS)
        actions.append(event.action)
    assert actions == [Action.PASS, Action.PASS, Action.HOLD, Action.PASS, Action.ADVANCE]
    assert state.step == 1 and _minutes(state.clock) == 150


@pytest.mark.parametrize(
    ("rescored", "skewed", "reading"),
    [(200, 2, Reading.PASS), (200, 3, Reading.BREACH), (0, 0, Reading.NO_EVIDENCE)],
)
def test_the_skew_guardrail_breaches_past_one_skewed_request_in_a_hundred(rescored, skewed, reading):
    observation = _observation(challenger_rescored_requests=rescored, challenger_skewed_requests=skewed)
    assert skew_guardrail(observation, GUARDRAILS).reading == reading


def test_a_skewed_serving_path_is_rolled_back_after_its_first_window_and_no_rescoring_never_holds():
    def skewed(share: float, start: datetime, end: datetime) -> WindowObservation:
        window = _window(share, start, end)
        return replace(window, challenger_rescored_requests=window.challenger_requests,
                       challenger_skewed_requests=window.challenger_requests)  # fmt: skip

    state, events = play_rollout(START, DAY_END, skewed, PARAMS)
    assert state.phase == Phase.ROLLED_BACK and (events[-1].reason, _minutes(events[-1].time)) == ("breached: skew", 30)
    state, events = play_rollout(START, DAY_END, _window, PARAMS)  # nothing re-scored
    assert state.phase == Phase.COMPLETED and {e.evidence["skew"]["reading"] for e in events[1:]} == {"no_evidence"}


def test_thin_windows_are_pooled_until_they_hold_enough_requests_to_pass_and_breach_at_once():
    state, _ = start_rollout(START, PARAMS)
    first = _quiet(START, START + HALF_HOUR, requests=15)
    state, event = read_window(state, first, PARAMS)
    assert event.action == Action.HOLD and event.reason == "not enough evidence: latency, errors, ctr_rollout"
    assert state.thin_windows is not None and state.thin_windows.challenger_requests == 15
    second = _quiet(START + HALF_HOUR, START + 2 * HALF_HOUR, requests=15)
    _, event = read_window(state, second, PARAMS)
    # 30 requests pooled: enough for latency and errors to pass (the CTR still lacks impressions).
    assert event.action == Action.HOLD and event.reason == "not enough evidence: ctr_rollout"
    assert event.evidence["errors"]["requests"] == 30 and event.evidence["latency"]["reading"] == "pass"
    _, event = read_window(state, replace(second, challenger_p99_ms=400.0), PARAMS)
    assert event.action == Action.ROLLBACK and event.reason == "breached: latency"
    _, event = read_window(start_rollout(START, PARAMS)[0], replace(first, challenger_errors=1), PARAMS)
    assert event.action == Action.ROLLBACK and event.reason == "breached: errors"


@pytest.mark.parametrize(
    ("challenger_clicks", "reading"),
    [
        (2_970_000, Reading.PASS),  # a drop of exactly 1% (significant) is not "more than 1%"
        (2_967_000, Reading.BREACH),  # 1.1%, significant
    ],
)
def test_the_ctr_guardrail_breaches_on_a_significant_drop_beyond_one_percent(challenger_clicks, reading):
    observation = _observation(
        champion_impressions=100_000_000,
        champion_clicks=3_000_000,
        challenger_impressions=100_000_000,
        challenger_clicks=challenger_clicks,
    )
    result = ctr_guardrail(observation, GUARDRAILS)
    assert result.reading == reading
    assert result.evidence["p_value"] < GUARDRAILS.ctr_alpha


def test_a_large_drop_on_thin_but_sufficient_traffic_is_not_significant_and_passes():
    observation = _observation(
        champion_impressions=100, champion_clicks=3, challenger_impressions=100, challenger_clicks=2
    )
    result = ctr_guardrail(observation, GUARDRAILS)
    assert result.reading == Reading.PASS and result.evidence["change"] == pytest.approx(-1 / 3)
    assert result.evidence["p_value"] > 0.05


def test_a_champion_without_clicks_gives_no_ctr_evidence():
    result = ctr_guardrail(_observation(champion_clicks=0), GUARDRAILS)
    assert result.reading == Reading.NO_EVIDENCE and "relative CTR change is undefined" in result.reason


@pytest.mark.parametrize(
    ("p99_ms", "requests", "reading"),
    [
        (150.0, 1_000, Reading.PASS),
        (150.01, 1_000, Reading.BREACH),
        (None, 1_000, Reading.NO_EVIDENCE),
        (500.0, 24, Reading.BREACH),  # below min_requests (25): a breach stands on any traffic
        (100.0, 24, Reading.NO_EVIDENCE),  # a pass does not
    ],
)
def test_the_latency_guardrail_breaches_past_150_ms(p99_ms, requests, reading):
    observation = _observation(challenger_p99_ms=p99_ms, challenger_requests=requests)
    assert latency_guardrail(observation, GUARDRAILS).reading == reading


@pytest.mark.parametrize(
    ("errors", "requests", "reading"),
    [
        (1, 1_000, Reading.PASS),
        (2, 1_000, Reading.BREACH),
        (0, 1_000, Reading.PASS),
        (1, 24, Reading.BREACH),  # below min_requests (25): a breach stands on any traffic
        (0, 24, Reading.NO_EVIDENCE),  # a pass does not
        (0, 0, Reading.NO_EVIDENCE),
    ],
)
def test_the_error_guardrail_breaches_past_one_in_a_thousand(errors, requests, reading):
    observation = _observation(challenger_errors=errors, challenger_requests=requests)
    assert error_guardrail(observation, GUARDRAILS).reading == reading


def test_windows_must_follow_each_other_at_the_configured_length_until_the_rollout_ends():
    state, _ = start_rollout(START, PARAMS)
    late = START + timedelta(minutes=10)
    with pytest.raises(ValueError, match="must start where the last ended"):
        read_window(state, _window(0.05, late, late + HALF_HOUR), PARAMS)
    with pytest.raises(ValueError, match=r"lasts 10 minutes, rollout.window_minutes is 30"):
        read_window(state, _window(0.05, START, late), PARAMS)
    state, _ = read_window(state, _window(0.05, START, START + HALF_HOUR, challenger_ctr=0.0), PARAMS)
    with pytest.raises(ValueError, match="the rollout has ended"):
        read_window(state, _window(0.05, state.clock, state.clock + HALF_HOUR), PARAMS)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"challenger_clicks": 10_001}, "challenger_clicks .* exceeds challenger_impressions"),
        ({"challenger_errors": 1_001}, "challenger_errors .* exceeds challenger_requests"),
        ({"champion_impressions": -1}, "must not be negative: champion_impressions"),
        (
            {"challenger_rescored_requests": 10, "challenger_skewed_requests": 11},
            "challenger_skewed_requests .* exceeds",
        ),
        ({"challenger_rescored_requests": 1_001}, "challenger_rescored_requests .* exceeds challenger_requests"),
    ],
)
def test_impossible_counts_are_refused_by_name(counts, message):
    with pytest.raises(ValueError, match=message):
        _observation(**counts)


def test_every_event_is_a_json_record_with_time_step_action_reason_and_evidence():
    _, events = play_rollout(START, DAY_END, _window, PARAMS)
    record = json.loads(json.dumps(events[1].as_dict()))
    assert record["time"] == "2026-01-12T00:30:00" and record["action"] == "pass"
    assert record["step"] == 0 and record["share"] == 0.05 and record["reason"] == "passed; 30 of 120 min served"
    assert record["evidence"]["window"]["challenger_impressions"] == 500
    assert set(record["evidence"]) == {"window", "ctr", "skew", "ctr_rollout", "latency", "errors"}
    assert record["evidence"]["ctr_rollout"]["challenger_impressions"] == 500


def _drawn(rng: np.random.Generator, ratio: float) -> Observe:
    """Binomial click draws on the synthetic traffic; the challenger's true CTR is ``ratio`` times the champion's."""

    def observe(share: float, start: datetime, end: datetime) -> WindowObservation:
        champion, challenger = _arms(share, start, end)
        clicks = int(rng.binomial(champion, CTR)), int(rng.binomial(challenger, CTR * ratio))
        return WindowObservation(start, end, champion, clicks[0], challenger, clicks[1], 1_000, 0, 80.0)

    return observe


def _rollouts(params: RolloutParams, ratio: float, seeds: int = 200) -> list[Phase | int]:
    """Where each of ``seeds`` rollouts ended: the step it was rolled back at, or its phase."""
    rng = np.random.default_rng(7)
    states = [play_rollout(START, DAY_END, _drawn(rng, ratio), params)[0] for _ in range(seeds)]
    return [state.step if state.phase == Phase.ROLLED_BACK else state.phase for state in states]


# (ctr_alpha of one window, rollout_ctr_alpha; 1e-300 turns the rollout's test off) on the production step length:
# the least of 200 challengers with 0.7 of the champion's CTR stopped at the first step, and the most of 200
# challengers 3% better rolled back, on the synthetic traffic with drawn clicks (measured).
@pytest.mark.parametrize(
    ("ctr_alpha", "rollout_ctr_alpha", "worse_stopped_first", "better_rolled_back"),
    [(0.05, 1e-300, 195, 95), (0.002, 1e-300, 16, 5), (0.002, 0.05, 195, 8)],
)
def test_with_drawn_clicks_the_rollouts_sequential_test_stops_a_worse_challenger_early_without_false_alarms(
    ctr_alpha, rollout_ctr_alpha, worse_stopped_first, better_rolled_back
):
    guardrails = GuardrailParams(ctr_alpha=ctr_alpha, rollout_ctr_alpha=rollout_ctr_alpha)
    params = RolloutParams(min_step_minutes=480, guardrails=guardrails)
    worse = _rollouts(params, 0.7)
    assert all(isinstance(end, int) for end in worse)  # every one rolled back
    assert worse.count(0) >= worse_stopped_first
    better = _rollouts(params, 1.03)
    assert sum(isinstance(end, int) for end in better) <= better_rolled_back
    assert better.count(Phase.COMPLETED) >= 200 - better_rolled_back
