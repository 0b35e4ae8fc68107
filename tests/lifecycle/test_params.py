"""The lifecycle parameters: the defaults are the seed's numbers, and bad input names its parameter."""

import pytest
from pydantic import ValidationError

from adrank_pipelines.lifecycle.params import LifecycleParams, RolloutParams


def test_the_defaults_are_the_gates_and_guardrails_the_project_promotes_by():
    params = LifecycleParams()
    gates, rollout = params.gates, params.rollout
    assert (gates.offline.metric, gates.offline.comparison, gates.offline.min_improvement) == ("auc", "relative", 0.02)
    assert (gates.ab.metric, gates.ab.min_lift, gates.ab.alpha) == ("ctr", 0.03, 0.05)
    assert gates.latency.max_p99_ms == 100.0
    assert rollout.steps == [0.05, 0.25, 0.5, 1.0]
    assert rollout.window_minutes == 30
    guardrails = rollout.guardrails
    assert (guardrails.max_ctr_drop, guardrails.max_p99_ms, guardrails.max_error_rate) == (0.01, 150.0, 0.001)
    assert (guardrails.ctr_alpha, guardrails.min_impressions, guardrails.min_requests) == (0.002, 100, 25)
    assert (guardrails.rollout_ctr_alpha, guardrails.rollout_ctr_mixture_sd) == (0.05, 0.6)
    assert rollout.min_step_minutes == 480


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([1.0], "needs at least one partial share before 1.0"),
        ([0.05, 0.5], "the last step must be 1.0"),
        ([0.0, 0.5, 1.0], "shares must rise strictly"),
        ([0.25, 0.05, 1.0], "shares must rise strictly"),
        ([0.5, 0.5, 1.0], "shares must rise strictly"),
    ],
)
def test_steps_that_do_not_rise_to_full_traffic_are_refused_by_name(steps, message):
    with pytest.raises(ValidationError, match=message) as error:
        RolloutParams(steps=steps)
    assert error.value.errors()[0]["loc"] == ("steps",)


@pytest.mark.parametrize(
    ("block", "location"),
    [
        ({"gates": {"ab": {"alpha": 1.0}}}, ("gates", "ab", "alpha")),
        ({"gates": {"offline": {"comparison": "ratio"}}}, ("gates", "offline", "comparison")),
        ({"gates": {"latency": {"max_p99_ms": "100"}}}, ("gates", "latency", "max_p99_ms")),
        ({"rollout": {"guardrails": {"max_eror_rate": 0.01}}}, ("rollout", "guardrails", "max_eror_rate")),
        ({"rollout": {"window_minutes": 0}}, ("rollout", "window_minutes")),
    ],
)
def test_a_bad_value_or_a_misspelt_key_fails_naming_it(block, location):
    with pytest.raises(ValidationError) as error:
        LifecycleParams.model_validate(block)
    assert error.value.errors()[0]["loc"] == location


def test_integers_in_yaml_are_read_as_floats():
    params = LifecycleParams.model_validate({"gates": {"latency": {"max_p99_ms": 120}}, "rollout": {"steps": [0.1, 1]}})
    assert params.gates.latency.max_p99_ms == 120.0
    assert params.rollout.steps == [0.1, 1.0]
