"""The lifecycle scenario of conf/base over several seeds: does the loop make the right calls, and how fast?

Each seed simulates the scenario's world (``marketplace.seed`` and ``lifecycle.scenario.seed`` both set to it)
and plays it with the pipeline's own node functions; the model registry lives in a temporary folder. Writes
benchmarks/results/lifecycle.json and .md: wrong promotions and rejections by the ground truth, days from
training to the promotion of a truly better version, the rollout step a broken challenger was stopped at, the
minutes from a truly worse challenger's first traffic to its rollback, and the seconds each scenario took.

The rollback delay after a breach is measured on each seed's logged rollouts (``lifecycle.breach_replay``): an
incident (p99 past the latency limit, or errors past the error limit) starts every 10 minutes of a rollout in
turn, and the rollout's own windows are replayed through the guardrails until it is rolled back.

    .venv/bin/python benchmarks/bench_lifecycle.py [--seeds 0 1 2 3 4] [--env base]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from adrank_pipelines.lifecycle.breach_replay import (  # noqa: E402
    Incident,
    incident_starts,
    logged_rollouts,
    rollback_delay,
)
from adrank_pipelines.lifecycle.params import LifecycleParams, RolloutParams  # noqa: E402
from adrank_pipelines.monitoring.params import DriftParams  # noqa: E402
from adrank_pipelines.pipelines.lifecycle import nodes  # noqa: E402
from benchmarks.bench_drift import _project_parameters  # noqa: E402  (the same loader as the drift benchmark)
from benchmarks.bench_serving import machine_state, write_results  # noqa: E402

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
INCIDENT_EVERY_MINUTES = 10
# How far past its limit each incident goes: twice the p99 limit; one request in twenty failing (50 times the
# error-rate limit, a failing dependency rather than a flaky one).
INCIDENT_P99_FACTOR, INCIDENT_ERROR_FACTOR = 2.0, 50.0


def incident_delays(decisions: Any, params: RolloutParams) -> dict[str, dict[str, Any]]:
    """Per incident kind: minutes from its start to the rollback over every start, and starts never read."""
    guardrails = params.guardrails
    kinds: dict[str, tuple[float | None, float]] = {
        "latency": (guardrails.max_p99_ms * INCIDENT_P99_FACTOR, 0.0),
        "errors": (None, guardrails.max_error_rate * INCIDENT_ERROR_FACTOR),
    }
    figures = {}
    for kind, (p99_ms, error_rate) in kinds.items():
        delays: list[float] = []
        unread = 0
        for rollout in logged_rollouts(decisions):
            for start in incident_starts(rollout, INCIDENT_EVERY_MINUTES, margin_minutes=60):
                incident = Incident(start, p99_ms, error_rate)
                delay = rollback_delay(rollout, incident, params)
                unread += delay is None
                delays.extend([] if delay is None else [delay])
        figures[kind] = {"starts": len(delays) + unread, "max_minutes": _max(delays), "unread": unread}
    return figures


def run_seed(parameters: dict[str, Any], seed: int, registry_dir: Path) -> dict[str, Any]:
    marketplace = {**parameters["marketplace"], "seed": seed}
    lifecycle = parameters["lifecycle"]
    scenario = {
        **lifecycle["scenario"],
        "seed": seed,
        "registry": {
            **lifecycle["scenario"]["registry"],
            "uri": f"sqlite:///{registry_dir / 'mlflow.db'}",
            "artifacts_dir": str(registry_dir / "models"),
        },
    }
    params = LifecycleParams.model_validate({**lifecycle, "scenario": scenario})
    drift = DriftParams.model_validate(parameters["drift"])
    started = time.perf_counter()
    world = nodes.simulate_lifecycle_world(marketplace, parameters["lifecycle_world"])
    decisions, days = nodes.play_lifecycle(world, marketplace, parameters["lifecycle_world"], params, drift)
    summary, _ = nodes.report_lifecycle(decisions, days)
    seconds = time.perf_counter() - started
    incidents = incident_delays(decisions, params.rollout)
    return {"seed": seed, "scenario_seconds": round(seconds, 1), **summary, "incidents": incidents}


def _max(values: list[float]) -> float | None:
    return max(values) if values else None


def headline(runs: list[dict[str, Any]]) -> dict[str, Any]:
    days_to_promote = [d for run in runs for d in run["days_to_promote_better"]]
    stopped = [step for run in runs for step in run["broken_challenger_stopped_at_step"]]
    worse_delays = [m for run in runs for m in run["rollback_delay_minutes"]]
    incidents = {
        kind: {
            "starts": sum(run["incidents"][kind]["starts"] for run in runs),
            "unread": sum(run["incidents"][kind]["unread"] for run in runs),
            "max_minutes": _max([m for run in runs if (m := run["incidents"][kind]["max_minutes"]) is not None]),
        }
        for kind in runs[0]["incidents"]
    }
    return {
        "seeds": [run["seed"] for run in runs],
        "wrong_promotions": sum(run["wrong_promotions"] for run in runs),
        "wrong_rejections": sum(run["wrong_rejections"] for run in runs),
        "promotions": sum(run["promotions"] for run in runs),
        "max_days_to_promote_better": _max(days_to_promote),
        "seeds_with_a_better_version_promoted": sum(bool(run["days_to_promote_better"]) for run in runs),
        "broken_challenger_stopped_at_step": _max(stopped),
        "broken_challengers_stopped": len(stopped),
        # From an incident's start (a breach with a start one can point at) to the rollback.
        "max_rollback_delay_minutes": _max(
            [m for kind in incidents.values() if (m := kind["max_minutes"]) is not None]
        ),
        "incidents": incidents,
        # From a truly worse challenger's first request: how long its CTR drop took to show.
        "max_minutes_to_roll_back_a_worse_challenger": _max(worse_delays),
        "scenario_seconds": _max([run["scenario_seconds"] for run in runs]),
    }


def _markdown(result: dict[str, Any]) -> str:
    h, start, end = result, result["machine_start"], result["machine_end"]
    rows = "\n".join(
        f"| {r['seed']} | {r['promotions']} | {r['wrong_promotions']} | {r['wrong_rejections']} | "
        f"{r['days_to_promote_better']} | {r['broken_challenger_stopped_at_step']} | {r['rollback_delay_minutes']} | "
        f"{r['expected_clicks_vs_oracle']:.3f} | {r['welfare_vs_oracle']:.3f} | {r['scenario_seconds']} |"
        for r in result["runs"]
    )
    return f"""# Lifecycle scenario over {len(h["seeds"])} seeds (conf/{result["env"]})

Commit {start["commit"][:10]}, {start["cores"]} cores, load average {start["load_average_1min"]:.2f} at start,
{end["load_average_1min"]:.2f} at end (a shared machine).

- wrong promotions (promoted, truly worse than the champion in expected clicks): {h["wrong_promotions"]}
- wrong rejections (rejected or rolled back, truly better by the A/B margin): {h["wrong_rejections"]}
- promotions: {h["promotions"]}; seeds where a truly better version was promoted: {h["seeds_with_a_better_version_promoted"]}
- days from training to the promotion of a truly better version, at most: {h["max_days_to_promote_better"]}
- broken challengers stopped: {h["broken_challengers_stopped"]}, at rollout step (1 = the first) at most {h["broken_challenger_stopped_at_step"]}
- minutes from an incident's start to the rollback, at most: {h["max_rollback_delay_minutes"]} (latency: {h["incidents"]["latency"]}; errors: {h["incidents"]["errors"]}; an incident starts every {INCIDENT_EVERY_MINUTES} minutes of each logged rollout in turn)
- minutes from a truly worse challenger's first traffic to its rollback, at most: {h["max_minutes_to_roll_back_a_worse_challenger"]}
- seconds per scenario (simulate + play + report), at most: {h["scenario_seconds"]}

| seed | promotions | wrong promotions | wrong rejections | days to promote better | broken stopped at step | worse rolled back after (min) | clicks / oracle | welfare / oracle | seconds |
|---|---|---|---|---|---|---|---|---|---|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--env", default="base")
    parser.add_argument("--out", type=Path, default=RESULTS / "lifecycle.json")
    args = parser.parse_args()
    parameters = _project_parameters(args.env)
    start = machine_state()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_lifecycle_") as registry_dir:
        for seed in args.seeds:
            runs.append(run_seed(parameters, seed, Path(registry_dir) / f"seed{seed}"))
            print(f"seed {seed}: {runs[-1]['scenario_seconds']} s", flush=True)
    result = {
        "env": args.env,
        "machine_start": start,
        "machine_end": machine_state(),
        **headline(runs),
        "runs": runs,
    }
    write_results(args.out, result, _markdown(result))


if __name__ == "__main__":
    main()
