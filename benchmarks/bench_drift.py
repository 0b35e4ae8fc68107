"""Drift monitoring on the default world: detection and false alarms over seeds, and speed at 1M rows.

Per seed: ingest + validate + features of the default world in a throw-away copy of the project
(`kedro run --params marketplace.seed=N`), the project's baseline CTR model (models/zoo/baseline/)
fitted on the train days and scored on every window (the transformer needs ~10 minutes a seed on
2 cores), then the drift nodes with the conf/base parameters. It counts, per injected
shift, the seeds on which every statistic the shift touches is flagged (warn or alert) in the drift
window, and the flags on the clean test day (the target: no alert there, warnings at most).

Null world (the quiet day): per --null-seeds seed, the same default-size world with its drift window
drawn like the test day (no interest shift, no new-category ads, the base platform mix), the same
baseline model and drift nodes; it records the alert- and warn-level flags on the test day and the
drift window and the decision (the target: no alert-level flag, decision `none` or `watch`).

Speed (on the first seed's model inputs): a 1M-row reference and a 1M-row current window drawn with
replacement from the train days and the drift window, every monitored feature-spec column. Timed:
fitting the reference profile plus comparing one window, median of --repeats, beside a
straightforward pandas / scipy implementation (pd.qcut + value_counts PSI, scipy.stats.ks_2samp)
measured in the same run on the same frames.

    .venv/bin/python benchmarks/bench_drift.py                     # seeds 1..5, 3 speed repeats
    .venv/bin/python benchmarks/bench_drift.py --env test --seeds 1 --repeats 1 --speed-rows 100000  # smoke

Results go to benchmarks/results/drift.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
SPLITS = ("train", "valid", "test", "drift")

# What each injected shift (marketplace.drift in parameters_ingest.yml) touches: (group, subject, statistic).
_CATEGORY_CROSSES = [
    "country_x_category_hash",
    "age_bucket_x_category_hash",
    "platform_x_category_hash",
    "hour_x_category_hash",
]
TOUCHED = {
    "platform mix": [("feature", "platform_idx", "psi"), ("feature", "platform_x_category_hash", "psi")],
    "category interest": [("feature", "category_idx", "psi"), ("label", "click", "ctr_change")],
    "new category ads": [("feature", name, "unseen_share_increase") for name in ["category_idx", *_CATEGORY_CROSSES]],
}

sys.path.insert(0, str(PROJECT_ROOT / "src"))
from adrank_pipelines.models.zoo.baseline.regression import fit_baseline, predict_baseline  # noqa: E402
from adrank_pipelines.monitoring.params import DriftParams  # noqa: E402
from adrank_pipelines.pipelines.drift import nodes  # noqa: E402


def _project_parameters(env: str) -> dict:
    from kedro.config import OmegaConfigLoader

    from adrank_pipelines.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env=env,
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    return loader["parameters"]


def _parameters(env: str) -> DriftParams:
    return DriftParams.model_validate({**_project_parameters(env)["drift"], "model": "baseline"})


def null_world_overrides(env: str) -> dict[str, float]:
    """`--params` that draw the drift window like the test day: no shift, no new ads, the base platform mix."""
    platforms = _project_parameters(env)["marketplace"]["platforms"]
    return {
        "marketplace.drift.interest_multiplier": 1.0,
        "marketplace.drift.new_category_ads": 0,
        **{f"marketplace.drift.platform_shares.{name}": share for name, share in platforms.items()},
    }


def _machine_state() -> dict:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return {"commit": commit.stdout.strip(), "cores": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}


def _project_copy(workdir: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "conf", workdir / "conf", ignore=shutil.ignore_patterns("local"))
    (workdir / "conf" / "local").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, workdir)
    (workdir / "src").mkdir()  # the package is imported from this checkout (PYTHONPATH below)
    return workdir


def _simulate(project: Path, seed: int, env: str, overrides: dict[str, float] | None = None) -> float:
    params = ",".join(f"{key}={value}" for key, value in {"marketplace.seed": seed, **(overrides or {})}.items())
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kedro",
            "run",
            "--env",
            env,
            "--pipelines",
            "ingest,validate,features",
            "--params",
            params,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")},
    )
    if done.returncode != 0:
        raise RuntimeError(f"ingest + validate + features for seed {seed} failed:\n{done.stderr[-4000:]}")
    return time.perf_counter() - start


def _model_inputs(project: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    folder = project / "data" / "05_model_input"
    frames = {split: pd.read_parquet(folder / f"model_input_{split}.parquet") for split in SPLITS}
    return frames, json.loads((folder / "feature_spec.json").read_text())


def _baseline_predictions(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    model = fit_baseline(frames["train"])
    return pd.concat(
        [predict_baseline(model, frame).assign(split=split) for split, frame in frames.items()], ignore_index=True
    )


def _evaluate(frames: dict[str, pd.DataFrame], spec: dict, params: DriftParams) -> tuple[pd.DataFrame, dict]:
    """Every statistic with its severity, and the retrain recommendation per window."""
    profile = nodes.fit_reference(frames["train"], spec, params)
    features = nodes.compute_feature_drift(profile, frames["test"], frames["drift"])
    model, _ = nodes.compute_model_drift(*(frames[s] for s in SPLITS), params, baseline=_baseline_predictions(frames))
    evaluated, _, recommendation = nodes.evaluate_alert_rules(features, model, params)
    return evaluated, recommendation


def _null_world_result(seed: int, evaluated: pd.DataFrame, recommendation: dict, simulate_seconds: float) -> dict:
    flags = evaluated.loc[evaluated["alerting"]]
    windows = {}
    for window, decision in recommendation["windows"].items():
        in_window = flags.loc[flags["window"] == window]
        named = in_window["group"] + ":" + in_window["subject"] + ":" + in_window["statistic"]
        windows[window] = {
            "alerts": named[in_window["severity"] == "alert"].tolist(),
            "warnings": named[in_window["severity"] == "warn"].tolist(),
            "decision": decision["decision"],
        }
    return {"seed": seed, "simulate_seconds": simulate_seconds, "windows": windows}


def _seed_result(seed: int, evaluated: pd.DataFrame, simulate_seconds: float) -> dict:
    flags = evaluated.loc[evaluated["alerting"]].set_index(["window", "group", "subject", "statistic"])
    severity = flags["severity"]
    detection = {
        shift: {
            f"{group}:{subject}:{statistic}": severity.get(("drift", group, subject, statistic), "missing")
            for group, subject, statistic in touched
        }
        for shift, touched in TOUCHED.items()
    }
    test = flags.xs("test", level="window")
    return {
        "seed": seed,
        "simulate_seconds": simulate_seconds,
        "detected": {shift: all(s in {"warn", "alert"} for s in found.values()) for shift, found in detection.items()},
        "touched_severity": detection,
        "drift_values": {
            key: float(flags["value"].get(("drift", *key.split(":")), np.nan))
            for found in detection.values()
            for key in found
        },
        "drift_alerts": int((severity.xs("drift", level="window") == "alert").sum()),
        "test_alerts": [":".join(index) for index in test.index[test["severity"] == "alert"]],
        "test_warnings": [":".join(index) for index in test.index[test["severity"] == "warn"]],
    }


def _naive_statistics(
    reference: pd.DataFrame, current: pd.DataFrame, categorical: list[str], numeric: list[str]
) -> dict[str, float]:
    """The textbook way: pandas quantile bins and value counts per call, scipy's KS on raw arrays."""

    def psi(ref_shares: pd.Series, cur_shares: pd.Series) -> float:
        ref, cur = ref_shares.align(cur_shares, fill_value=0.0)
        ref, cur = np.maximum(ref.to_numpy(), 1e-4), np.maximum(cur.to_numpy(), 1e-4)
        return float(np.sum((cur - ref) * np.log(cur / ref)))

    out = {}
    for name in categorical:
        out[name] = psi(reference[name].value_counts(normalize=True), current[name].value_counts(normalize=True))
    for name in numeric:
        _, edges = pd.qcut(reference[name], q=10, retbins=True, duplicates="drop")
        edges[0], edges[-1] = -np.inf, np.inf
        out[name] = psi(
            pd.cut(reference[name], edges).value_counts(normalize=True),
            pd.cut(current[name], edges).value_counts(normalize=True),
        )
        out[f"{name}_ks"] = ks_2samp(reference[name], current[name], method="asymp").statistic
    return out


def _median_seconds(call, repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def speed(frames: dict[str, pd.DataFrame], spec: dict, params: DriftParams, repeats: int, rows: int) -> dict:
    rng = np.random.default_rng(0)
    reference = frames["train"].sample(rows, replace=True, random_state=rng).reset_index(drop=True)
    current = frames["drift"].sample(rows, replace=True, random_state=rng).reset_index(drop=True)
    profile = nodes.fit_reference(reference, spec, params)
    categorical = [f.name for f in profile.features if f.kind == "categorical"]
    numeric = [f.name for f in profile.features if f.kind == "numeric"]
    fit = _median_seconds(lambda: nodes.fit_reference(reference, spec, params), repeats)
    compare = _median_seconds(lambda: nodes.compute_feature_drift(profile, current, current.iloc[:0]), repeats)
    naive = _median_seconds(lambda: _naive_statistics(reference, current, categorical, numeric), repeats)
    return {
        "rows_per_window": rows,
        "categorical_features": len(categorical),
        "numeric_features": len(numeric),
        "fit_reference_seconds": fit,
        "compare_window_seconds": compare,
        "total_seconds": fit + compare,
        "naive_seconds": naive,
        "speedup_vs_naive": naive / (fit + compare),
    }


def _markdown(report: dict) -> str:
    seeds = report["seeds"]
    n = len(seeds)
    lines = [
        f"# drift monitoring ({report['measured_at']}, {report['machine']})",
        "",
        f"World of env `{report['env']}`, seeds {[s['seed'] for s in seeds]}; monitored model: the baseline "
        "(logistic regression on the ad's past CTR and the position) scored on every window.",
        "",
        "## Detection on the drift window (warn or alert on every statistic the shift touches)",
        "",
        "| injected shift | touched statistics | seeds detected |",
        "|---|---|---|",
    ]
    for shift, touched in TOUCHED.items():
        detected = sum(s["detected"][shift] for s in seeds)
        names = ", ".join(f"{subject} {statistic}" for _, subject, statistic in touched)
        lines.append(f"| {shift} | {names} | {detected} / {n} |")
    lines += [
        "",
        "| seed | " + " | ".join(k.split(":", 1)[1] for k in seeds[0]["drift_values"]) + " |",
        "|---|" + "---|" * len(seeds[0]["drift_values"]),
    ]
    for s in seeds:
        cells = [
            f"{v:.3f} ({sev[0]})"
            for v, sev in zip(
                s["drift_values"].values(),
                [sev for found in s["touched_severity"].values() for sev in found.values()],
                strict=True,
            )
        ]
        lines.append(f"| {s['seed']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "(value and severity: w = warn, a = alert, o = ok)",
        "",
        "## False alarms on the clean test day",
        "",
        "| seed | alert-level flags | warn-level flags | drift-window alerts |",
        "|---|---|---|---|",
    ]
    for s in seeds:
        lines.append(
            f"| {s['seed']} | {len(s['test_alerts'])} {s['test_alerts'] or ''} | "
            f"{len(s['test_warnings'])} {s['test_warnings'] or ''} | {s['drift_alerts']} |"
        )
    lines.append(f"\nSeeds with an alert on the test day: {sum(bool(s['test_alerts']) for s in seeds)} / {n}.")
    if report["null_world"]:
        lines += [
            "",
            "## Null world: the drift window drawn like the test day",
            "",
            f"Overrides: `{report['null_world_overrides']}`.",
            "",
            "| seed | window | alert-level flags | warn-level flags | decision |",
            "|---|---|---|---|---|",
        ]
        for s in report["null_world"]:
            for window, found in s["windows"].items():
                lines.append(
                    f"| {s['seed']} | {window} | {len(found['alerts'])} {found['alerts'] or ''} | "
                    f"{len(found['warnings'])} {found['warnings'] or ''} | {found['decision']} |"
                )
        quiet = sum(all(not w["alerts"] for w in s["windows"].values()) for s in report["null_world"])
        lines.append(f"\nSeeds without an alert-level flag in any window: {quiet} / {len(report['null_world'])}.")
    if "speed" in report:
        sp = report["speed"]
        lines += [
            "",
            "## Speed",
            "",
            f"{sp['rows_per_window']:,} rows per window, {sp['categorical_features']} categorical + "
            f"{sp['numeric_features']} numeric features, median of {report['repeats']}:",
            "",
            "| step | seconds |",
            "|---|---|",
            f"| fit the reference profile | {sp['fit_reference_seconds']:.1f} |",
            f"| compare one window | {sp['compare_window_seconds']:.1f} |",
            f"| total (target <= 60) | {sp['total_seconds']:.1f} |",
            f"| pandas / scipy baseline, same statistics | {sp['naive_seconds']:.1f} |",
            "",
            f"Baseline / ours: {sp['speedup_vs_naive']:.2f}x.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--null-seeds", type=int, nargs="*", default=[1, 2, 3], help="seeds of the null world")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speed-rows", type=int, default=1_000_000)
    parser.add_argument("--env", default="base", help="config environment of the simulated world (test: a smoke run)")
    args = parser.parse_args()
    params = _parameters(args.env)
    report: dict = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "at_start": _machine_state(),
        "env": args.env,
        "repeats": args.repeats,
        "seeds": [],
        "null_world_overrides": ",".join(f"{k}={v}" for k, v in null_world_overrides(args.env).items()),
        "null_world": [],
    }
    for index, seed in enumerate(args.seeds):
        with tempfile.TemporaryDirectory(prefix="adrank-drift-bench-") as tmp:
            project = _project_copy(Path(tmp))
            seconds = _simulate(project, seed, args.env)
            frames, spec = _model_inputs(project)
        report["seeds"].append(_seed_result(seed, _evaluate(frames, spec, params)[0], seconds))
        print(
            json.dumps(report["seeds"][-1]["detected"]), "test alerts:", report["seeds"][-1]["test_alerts"], flush=True
        )
        if index == 0:
            report["speed"] = speed(frames, spec, params, args.repeats, args.speed_rows)
            print(json.dumps(report["speed"]), flush=True)
    for seed in args.null_seeds:
        with tempfile.TemporaryDirectory(prefix="adrank-drift-bench-null-") as tmp:
            project = _project_copy(Path(tmp))
            seconds = _simulate(project, seed, args.env, null_world_overrides(args.env))
            frames, spec = _model_inputs(project)
        report["null_world"].append(_null_world_result(seed, *_evaluate(frames, spec, params), seconds))
        print("null world:", json.dumps(report["null_world"][-1]["windows"]), flush=True)
    report["at_end"] = _machine_state()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "drift.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "drift.md").write_text(_markdown(report))
    print(_markdown(report))


if __name__ == "__main__":
    main()
