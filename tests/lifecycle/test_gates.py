"""Promotion gates: each passes exactly at its threshold, fails just short of it, and fails closed on
evidence it cannot read."""

import math

import numpy as np
import pytest

from adrank_pipelines.lifecycle.gates import (
    GateDecision,
    PromotionEvidence,
    ab_gate,
    gate_challenger,
    latency_gate,
    offline_gate,
    promotion,
)
from adrank_pipelines.lifecycle.params import AbGateParams, GateParams, LatencyGateParams, OfflineGateParams
from adrank_pipelines.monitoring.ab_test import relative_lift

OFFLINE = OfflineGateParams()
AB = AbGateParams()
LATENCY = LatencyGateParams()


def _lift(lift: float, p_value: float) -> dict:
    return {"lift": lift, "ci_low": lift - 0.02, "ci_high": lift + 0.02, "p_value": p_value}


@pytest.mark.parametrize(
    ("challenger", "champion", "passed"),
    [
        # 0.816 / 0.8 - 1 is 0.02 on paper and 0.01999999999999988 in floats: at the threshold passes.
        (0.816, 0.8, True),
        (0.8159, 0.8, False),
        (0.9, 0.8, True),
        (0.79, 0.8, False),
    ],
)
def test_the_offline_gate_needs_a_two_percent_relative_auc_gain(challenger, champion, passed):
    decision = offline_gate({"auc": challenger}, {"auc": champion}, OFFLINE)
    assert decision.gate == "offline" and decision.passed is passed
    assert decision.evidence["improvement"] == pytest.approx(challenger / champion - 1)
    assert decision.evidence["challenger"] == challenger and decision.evidence["champion"] == champion


def test_an_absolute_comparison_needs_the_gain_in_metric_points():
    absolute = OfflineGateParams(comparison="absolute")
    assert offline_gate({"auc": 0.82}, {"auc": 0.8}, absolute).passed
    assert not offline_gate({"auc": 0.8199}, {"auc": 0.8}, absolute).passed
    # 0.816 is a 2% relative gain but only 0.016 AUC points.
    assert not offline_gate({"auc": 0.816}, {"auc": 0.8}, absolute).passed


def test_a_metric_where_lower_is_better_needs_the_challenger_below_the_champion():
    logloss = OfflineGateParams(metric="logloss", greater_is_better=False)
    assert offline_gate({"logloss": 0.49}, {"logloss": 0.5}, logloss).passed
    assert not offline_gate({"logloss": 0.4901}, {"logloss": 0.5}, logloss).passed
    assert not offline_gate({"logloss": 0.51}, {"logloss": 0.5}, logloss).passed


@pytest.mark.parametrize(
    ("challenger", "champion", "named"),
    [
        ({"logloss": 0.4}, {"auc": 0.8}, "no finite 'auc' for the challenger"),
        ({"auc": 0.9}, {"auc": math.nan}, "no finite 'auc' for the champion"),
        ({"auc": None}, {}, "no finite 'auc' for the challenger and champion"),
        ({"auc": 0.9}, {"auc": 0.0}, "the champion's 'auc' is 0"),
    ],
)
def test_the_offline_gate_fails_closed_on_a_metric_it_cannot_compare(challenger, champion, named):
    decision = offline_gate(challenger, champion, OFFLINE)
    assert not decision.passed
    assert named in decision.reason


@pytest.mark.parametrize(
    ("lift", "p_value", "passed"),
    [
        (0.03, 0.049, True),
        (0.0299, 0.001, False),  # significant, but short of the lift
        (0.2, 0.05, False),  # large, but p is not below alpha
        (-0.1, 0.001, False),
    ],
)
def test_the_ab_gate_needs_a_significant_lift_of_three_percent(lift, p_value, passed):
    decision = ab_gate({"ctr": _lift(lift, p_value)}, AB)
    assert decision.gate == "ab" and decision.passed is passed
    assert decision.evidence["lift"] == lift and decision.evidence["p_value"] == p_value


def test_the_ab_gate_reads_a_lift_estimate_of_the_monitoring_statistics():
    rng = np.random.default_rng(0)
    control, treatment = rng.poisson(0.20, 20_000), rng.poisson(0.24, 20_000)
    readout = relative_lift(control, treatment).as_dict()
    decision = ab_gate({"ctr": readout}, AB)
    assert decision.passed
    assert decision.evidence["ci_low"] == readout["ci_low"] and decision.evidence["lift"] > 0.03


@pytest.mark.parametrize(
    ("readouts", "named"),
    [
        ({"clicks_per_user": _lift(0.1, 0.001)}, "no A/B readout of 'ctr'"),
        # The shape auction.experiment gives a lift it could not estimate.
        (
            {
                "ctr": {
                    "lift": None,
                    "ci_low": None,
                    "ci_high": None,
                    "p_value": None,
                    "undefined": "the control arm has no clicks",
                }
            },
            "the A/B lift of 'ctr' is undefined: the control arm has no clicks",
        ),
        ({"ctr": {"lift": 0.1, "p_value": math.nan}}, "no finite p_value"),
        ({"ctr": {"p_value": 0.01}}, "no finite lift"),
    ],
)
def test_the_ab_gate_fails_closed_on_a_readout_it_cannot_judge(readouts, named):
    decision = ab_gate(readouts, AB)
    assert not decision.passed
    assert named in decision.reason


@pytest.mark.parametrize(
    ("p99_ms", "passed"), [(100.0, True), (99.0, True), (100.001, False), (None, False), (math.inf, False)]
)
def test_the_latency_gate_needs_a_p99_of_at_most_100_ms(p99_ms, passed):
    decision = latency_gate(p99_ms, LATENCY)
    assert decision.passed is passed
    assert decision.evidence == {"p99_ms": p99_ms, "max_p99_ms": 100.0}


def test_promotion_needs_every_gate_and_at_least_one():
    passed, failed = GateDecision("a", True, "ok"), GateDecision("b", False, "no")
    assert promotion([passed, passed]).passed
    refused = promotion([passed, failed])
    assert not refused.passed and refused.reason == "failed gate(s): b"
    assert refused.evidence == {"a": True, "b": False}
    assert not promotion([]).passed


def test_a_challenger_is_promoted_only_when_offline_ab_and_latency_all_pass():
    evidence = PromotionEvidence(
        challenger_metrics={"auc": 0.82},
        champion_metrics={"auc": 0.8},
        ab_readouts={"ctr": _lift(0.05, 0.01)},
        p99_ms=80.0,
    )
    decision, gates = gate_challenger(evidence, GateParams())
    assert decision.passed and [gate.gate for gate in gates] == ["offline", "ab", "latency"]
    slow = PromotionEvidence(evidence.challenger_metrics, evidence.champion_metrics, evidence.ab_readouts, p99_ms=None)
    decision, gates = gate_challenger(slow, GateParams())
    assert not decision.passed and decision.reason == "failed gate(s): latency"
    assert decision.as_dict()["evidence"] == {"offline": True, "ab": True, "latency": False}
