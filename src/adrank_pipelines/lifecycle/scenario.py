"""The model lifecycle over simulated days: serve, monitor, retrain, gate, roll out, roll back; judged by the truth.

Each day the champion serves every request, except the share the rollout gives a challenger in each window.
At the day's end the drift check compares the day's logged impressions with the champion's training days; on
a ``retrain`` recommendation (or the schedule) a challenger trains on the preceding logged days and is judged
offline on the day itself. Passing the offline and latency gates starts its rollout at the next midnight;
passing every partial step asks the promotion gate (offline, the A/B readout of the rollout's traffic,
latency); a guardrail breach rolls it back at the end of the window. Every decision is logged with its evidence
and with what the ground truth says of it: the challenger's lift in expected clicks over the champion on the
traffic of the day the evidence came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import numpy as np
import pandas as pd

from adrank_pipelines.lifecycle.gates import (
    GateDecision,
    PromotionEvidence,
    gate_challenger,
    latency_gate,
    offline_gate,
    promotion,
)
from adrank_pipelines.lifecycle.model import Vocabularies, broken_scores, p99_latency_ms, predict
from adrank_pipelines.lifecycle.params import LifecycleParams
from adrank_pipelines.lifecycle.registry import CHALLENGER, CHAMPION, promote_challenger, remove_alias, set_alias
from adrank_pipelines.lifecycle.replay import DayJudge, DayTraffic, Served, day_traffic, logged_rows
from adrank_pipelines.lifecycle.rollout import Phase, RolloutState, WindowObservation, read_window, start_rollout
from adrank_pipelines.lifecycle.versions import (
    Version,
    drift_check,
    offline_metrics,
    reference_profile,
    register,
    train_version,
)
from adrank_pipelines.marketplace import GroundTruth, MarketplaceConfig, MarketplaceTables
from adrank_pipelines.models.metrics import auc
from adrank_pipelines.monitoring.ab_test import relative_lift
from adrank_pipelines.monitoring.params import DriftParams

# Independent click draws per day: the champion's ranking, the challenger's, the rollout's traffic split.
_CHAMPION_DRAW, _CHALLENGER_DRAW, _SPLIT_DRAW = 1, 2, 3
BETTER, WORSE, NEUTRAL = "better", "worse", "neutral"
# Every decision row has these columns (null where a decision kind has no such figure).
DECISION_COLUMNS = [
    "day",
    "time",
    "decision",
    "version",
    "passed",
    "reason",
    "step",
    "share",
    "trained_day",
    "broken_serving",
    "minutes_since_rollout_start",
    "true_click_lift",
    "true_value_lift",
    "truly",
    "right",
    "evidence",
]


@dataclass(frozen=True)
class ScenarioLog:
    decisions: pd.DataFrame
    days: pd.DataFrame


@dataclass
class _Rollout:
    version: Version
    state: RolloutState
    started: datetime
    control_clicks: list[np.ndarray] = field(default_factory=list)
    treatment_clicks: list[np.ndarray] = field(default_factory=list)


def true_verdict(lift: float, margin: float) -> str:
    """``better`` by at least the A/B gate's margin, ``worse`` than the champion, ``neutral`` in between."""
    return BETTER if lift >= margin else WORSE if lift < 0.0 else NEUTRAL


def _lift(new: Served, old: Served) -> tuple[float, float]:
    clicks = float(new.expected_clicks.sum() / old.expected_clicks.sum() - 1.0)
    value = float(new.expected_value.sum() / old.expected_value.sum() - 1.0)
    return clicks, value


class LifecycleRun:
    """The loop's state: champion, rollout in flight, the decision log and the daily figures."""

    def __init__(
        self, world: MarketplaceTables, config: MarketplaceConfig, params: LifecycleParams, drift: DriftParams
    ) -> None:
        scenario = params.scenario
        if scenario.warmup_days >= config.total_days:
            raise ValueError(
                f"lifecycle.scenario.warmup_days ({scenario.warmup_days}) leaves no day of the "
                f"{config.total_days}-day lifecycle world to play"
            )
        self.world, self.config, self.params, self.drift = world, config, params, drift
        self.vocabularies = Vocabularies.of_world(config)
        self.truth = GroundTruth(world.truth_users, world.truth_ads, world.truth_world)
        self.run_id = f"seed{scenario.seed}-{uuid4().hex[:8]}"
        self.decisions: list[dict[str, Any]] = []
        self.days: list[dict[str, Any]] = []
        self.rollout: _Rollout | None = None
        self.broken_left = scenario.broken_deploys
        self.last_trained_day = scenario.warmup_days - 1
        self.champion = self._bootstrap()
        self.profile = reference_profile(world, self.champion.train_days, drift)

    # -- time ------------------------------------------------------------------------------------------------
    def _midnight(self, day: int) -> datetime:
        return datetime.combine(self.config.start_date, datetime.min.time()) + timedelta(days=day)

    def _log(self, day: int, time: datetime, decision: str, version: int, passed: bool | None, **fields: Any) -> None:
        evidence = fields.pop("evidence", {})
        row = {"day": day, "time": time, "decision": decision, "version": version, "passed": passed}
        self.decisions.append({**row, **fields, "evidence": json.dumps(evidence, default=str)})

    def _judged(self, passed: bool, lift: tuple[float, float]) -> dict[str, Any]:
        verdict = true_verdict(lift[0], self.params.gates.ab.min_lift)
        right = verdict != WORSE if passed else verdict != BETTER
        return {"true_click_lift": lift[0], "true_value_lift": lift[1], "truly": verdict, "right": right}

    # -- versions --------------------------------------------------------------------------------------------
    def _version(self, day: int, reason: str, traffic: DayTraffic | None) -> Version:
        scenario = self.params.scenario
        first = max(0, day - scenario.retrain.window_days)
        train_days = tuple(range(first, day))
        model = train_version(self.world, self.vocabularies, list(train_days), scenario)
        holdout = logged_rows(self.world, [day])
        metrics = offline_metrics(model, holdout, self.vocabularies)
        traffic = traffic or day_traffic(self.world, self.vocabularies, day, scenario.serving.candidates, scenario.seed)
        k = traffic.candidates
        sample = np.linspace(
            0, len(traffic.requests) - 1, min(scenario.serving.latency_requests, len(traffic.requests))
        )
        p99 = p99_latency_ms(model, [traffic.features.iloc[i * k : (i + 1) * k] for i in sample.astype(int)])
        lineage = {
            "trained_day": day,
            "train_days": ",".join(map(str, train_days)),
            "holdout_day": day,
            "reason": reason,
            "world_seed": self.config.seed,
            "scenario_seed": scenario.seed,
            "run": self.run_id,
        }
        number = register(model, scenario, self.run_id, {**metrics, "p99_ms": p99}, lineage)
        self.last_trained_day = day
        return Version(number, model, day, train_days, metrics, p99, broken_serving=False)

    def _bootstrap(self) -> Version:
        day = self.params.scenario.warmup_days - 1
        champion = self._version(day, "bootstrap", None)
        set_alias(
            self.params.scenario.registry.uri, self.params.scenario.registry.model_name, CHAMPION, champion.number
        )
        evidence = {"train_days": champion.train_days, "metrics": champion.metrics}
        self._log(
            day,
            self._midnight(day + 1),
            "bootstrap",
            champion.number,
            True,
            reason="the first champion",
            evidence=evidence,
        )
        return champion

    @staticmethod
    def _served(version: Version, registered: np.ndarray) -> np.ndarray:
        """What ``version`` serves, given its registered model's scores of the same rows."""
        return broken_scores(registered) if version.broken_serving else registered

    # -- the day ---------------------------------------------------------------------------------------------
    def play_day(self, day: int) -> None:
        scenario = self.params.scenario
        traffic = day_traffic(self.world, self.vocabularies, day, scenario.serving.candidates, scenario.seed)
        judge = DayJudge(self.world, self.truth, traffic, scenario.seed)
        champion = self.champion
        champion_served = judge.serve(self._served(champion, predict(champion.model, traffic.features)), _CHAMPION_DRAW)
        on_challenger = np.zeros(len(traffic.requests), dtype=bool)
        challenger_served = champion_served
        if self.rollout is not None:
            on_challenger, challenger_served = self._roll(day, traffic, judge, champion_served)
        self._record_day(day, traffic, judge, champion, champion_served, challenger_served, on_challenger)
        self._monitor_and_retrain(day, traffic, judge, champion_served)

    def _roll(
        self, day: int, traffic: DayTraffic, judge: DayJudge, champion_served: Served
    ) -> tuple[np.ndarray, Served]:
        assert self.rollout is not None
        rollout, params = self.rollout, self.params.rollout
        registered = predict(rollout.version.model, traffic.features)
        scores = self._served(rollout.version, registered)
        served = judge.serve(scores, _CHALLENGER_DRAW)
        # Every challenger request re-scored from its logged features by the registered model.
        skew = np.abs(scores - registered) > params.guardrails.score_tolerance
        skewed = skew.reshape(len(traffic.requests), traffic.candidates).any(axis=1)
        split = np.random.default_rng([self.params.scenario.seed, day, _SPLIT_DRAW]).random(len(traffic.requests))
        minutes, midnight = traffic.minutes, self._midnight(day)
        window = timedelta(minutes=params.window_minutes)
        on_challenger = np.zeros(len(split), dtype=bool)
        while rollout.state.phase == Phase.ROLLING_OUT and rollout.state.clock + window <= midnight + timedelta(days=1):
            start = (rollout.state.clock - midnight) / timedelta(minutes=1)
            in_window = (minutes >= start) & (minutes < start + params.window_minutes)
            arm = in_window & (split < params.steps[rollout.state.step])
            control = in_window & ~arm
            on_challenger |= arm
            rollout.control_clicks.append(champion_served.clicks[control])
            rollout.treatment_clicks.append(served.clicks[arm])
            observation = WindowObservation(
                start=rollout.state.clock,
                end=rollout.state.clock + window,
                champion_impressions=int(champion_served.impressions[control].sum()),
                champion_clicks=int(champion_served.clicks[control].sum()),
                challenger_impressions=int(served.impressions[arm].sum()),
                challenger_clicks=int(served.clicks[arm].sum()),
                challenger_requests=int(arm.sum()),
                challenger_errors=0,
                challenger_p99_ms=rollout.version.p99_ms,
                challenger_rescored_requests=int(arm.sum()),
                challenger_skewed_requests=int(skewed[arm].sum()),
            )
            rollout.state, event = read_window(rollout.state, observation, params)
            self._log(
                day, event.time, f"rollout_{event.action}", rollout.version.number, None,
                step=event.step, share=event.share, reason=event.reason, evidence=event.evidence,
            )  # fmt: skip
        ended = (rollout.state.clock - midnight) / timedelta(minutes=1)
        lift = _lift(served, champion_served)
        if rollout.state.phase == Phase.ROLLED_BACK:
            self._rolled_back(day, lift)
        elif rollout.state.phase == Phase.COMPLETED and self._promotion(day, lift):
            on_challenger |= minutes >= ended
        return on_challenger, served

    def _rolled_back(self, day: int, lift: tuple[float, float]) -> None:
        assert self.rollout is not None
        rollout, registry = self.rollout, self.params.scenario.registry
        remove_alias(registry.uri, registry.model_name, CHALLENGER)
        delay = (rollout.state.clock - rollout.started) / timedelta(minutes=1)
        self._log(
            day, rollout.state.clock, "rollback", rollout.version.number, False,
            step=rollout.state.step, share=self.params.rollout.steps[rollout.state.step],
            reason="a guardrail breached", minutes_since_rollout_start=delay,
            broken_serving=rollout.version.broken_serving, trained_day=rollout.version.trained_day,
            **self._judged(False, lift),
        )  # fmt: skip
        self.rollout = None

    def _promotion(self, day: int, lift: tuple[float, float]) -> bool:
        """The promotion gate once every partial step passed; True when the challenger became the champion."""
        assert self.rollout is not None
        rollout, gates, registry = self.rollout, self.params.gates, self.params.scenario.registry
        holdout = logged_rows(self.world, [rollout.version.trained_day])
        champion_metrics = offline_metrics(self.champion.model, holdout, self.vocabularies)
        control, treatment = np.concatenate(rollout.control_clicks), np.concatenate(rollout.treatment_clicks)
        readout: dict[str, Any] = {"undefined": "an arm served fewer than 2 requests or the control had no click"}
        if min(len(control), len(treatment)) >= 2 and control.sum() > 0:
            readout = relative_lift(control, treatment, gates.ab.alpha).as_dict()
        evidence = PromotionEvidence(
            rollout.version.metrics, champion_metrics, {gates.ab.metric: readout}, rollout.version.p99_ms
        )
        verdict, decisions = gate_challenger(evidence, gates)
        if verdict.passed:
            promote_challenger(registry.uri, registry.model_name)
            self.champion = rollout.version
            self.profile = reference_profile(self.world, rollout.version.train_days, self.drift)
        else:
            remove_alias(registry.uri, registry.model_name, CHALLENGER)
        self._log(
            day, rollout.state.clock, "promotion", rollout.version.number, verdict.passed, reason=verdict.reason,
            trained_day=rollout.version.trained_day, broken_serving=rollout.version.broken_serving,
            evidence={"gates": [d.as_dict() for d in decisions]}, **self._judged(verdict.passed, lift),
        )  # fmt: skip
        self.rollout = None
        return verdict.passed

    def _monitor_and_retrain(self, day: int, traffic: DayTraffic, judge: DayJudge, champion_served: Served) -> None:
        retrain = self.params.scenario.retrain
        check = drift_check(self.profile, logged_rows(self.world, [day]), day, self.drift)
        self.days[-1].update(
            drift_recommendation=check["recommendation"], drift_alerts=check["windows"][f"day_{day}"]["alerts"]
        )
        scheduled = retrain.every_days > 0 and day - self.last_trained_day >= retrain.every_days
        drifted = retrain.on_drift and check["recommendation"] == "retrain"
        if self.rollout is not None or not (scheduled or drifted):
            return
        reason = "drift" if drifted else "schedule"
        challenger = self._version(day, reason, traffic)
        self.days[-1]["retrained"] = challenger.number
        self._pre_traffic_gates(day, challenger, judge, champion_served, traffic, {"drift_check": check})

    def _pre_traffic_gates(
        self,
        day: int,
        challenger: Version,
        judge: DayJudge,
        champion_served: Served,
        traffic: DayTraffic,
        context: dict[str, Any],
    ) -> None:
        gates, registry = self.params.gates, self.params.scenario.registry
        champion_metrics = offline_metrics(self.champion.model, logged_rows(self.world, [day]), self.vocabularies)
        decisions: list[GateDecision] = [
            offline_gate(challenger.metrics, champion_metrics, gates.offline),
            latency_gate(challenger.p99_ms, gates.latency),
        ]
        verdict = promotion(decisions)
        lift = _lift(judge.serve(predict(challenger.model, traffic.features), _CHALLENGER_DRAW), champion_served)
        start = self._midnight(day + 1)
        has_day_left = day + 1 < self.config.total_days
        broken = verdict.passed and self.broken_left > 0
        self._log(
            day, start, "pre_traffic_gates", challenger.number, verdict.passed, reason=verdict.reason,
            trained_day=day, broken_serving=broken,
            evidence={"gates": [d.as_dict() for d in decisions], **context}, **self._judged(verdict.passed, lift),
        )  # fmt: skip
        if not (verdict.passed and has_day_left):
            return
        set_alias(registry.uri, registry.model_name, CHALLENGER, challenger.number)
        self.broken_left -= int(broken)
        state, event = start_rollout(start, self.params.rollout)
        self.rollout = _Rollout(replace(challenger, broken_serving=broken), state, start)
        self._log(
            day + 1, start, f"rollout_{event.action}", challenger.number, None, step=event.step, share=event.share,
            reason=event.reason, broken_serving=broken,
        )  # fmt: skip

    def _record_day(
        self,
        day: int,
        traffic: DayTraffic,
        judge: DayJudge,
        champion: Version,
        champion_served: Served,
        challenger_served: Served,
        on_challenger: np.ndarray,
    ) -> None:
        oracle = judge.oracle()
        logged = logged_rows(self.world, [day]).merge(self.world.truth_impressions, on="impression_id", how="left")
        expected_clicks = np.where(on_challenger, challenger_served.expected_clicks, champion_served.expected_clicks)
        expected_value = np.where(on_challenger, challenger_served.expected_value, champion_served.expected_value)
        self.days.append(
            {
                "day": day,
                "requests": len(traffic.requests),
                "champion_version": champion.number,
                "challenger_share_of_requests": float(on_challenger.mean()),
                "champion_auc": auc(logged["click"], predict(champion.model, self.vocabularies.encode(logged))),
                "oracle_auc": auc(logged["click"], logged["true_pctr"]),
                "expected_clicks": float(expected_clicks.sum()),
                "oracle_expected_clicks": float(oracle.expected_clicks.sum()),
                "welfare": float(expected_value.sum()),
                "oracle_welfare": float(oracle.expected_value.sum()),
                "drift_recommendation": None,
                "drift_alerts": 0,
                "retrained": None,
            }
        )


def play_scenario(
    world: MarketplaceTables, config: MarketplaceConfig, params: LifecycleParams, drift: DriftParams
) -> ScenarioLog:
    """Play every day after the warm-up; the decision log and one row of figures per day."""
    run = LifecycleRun(world, config, params, drift)
    for day in range(params.scenario.warmup_days, config.total_days):
        run.play_day(day)
    return ScenarioLog(decisions=pd.DataFrame(run.decisions, columns=DECISION_COLUMNS), days=pd.DataFrame(run.days))
