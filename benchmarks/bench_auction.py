"""Auction benchmarks: kernel throughput, the default-world replay, pacing and A/B interval coverage.

    .venv/bin/python benchmarks/bench_auction.py                      # everything
    .venv/bin/python benchmarks/bench_auction.py --sections kernel    # the kernel only (seconds)
    .venv/bin/python benchmarks/bench_auction.py --env test --sections replay coverage  # after `kedro run --env test`

The replay sections need the world's raw tables (``data/01_raw``, or ``--raw``) and read
``data/07_model_output/ranked_candidates.parquet`` (or ``--ranked``) when it exists; otherwise they
stand in noisy oracles of the ground truth for the three models (``auction.synthetic``) and say so.
``--env`` picks the parameters' config environment (default base, the default world). Results go to
benchmarks/results/auction.{json,md}, or auction_<env>.{json,md} for another environment.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from adrank_pipelines.auction.config import AbTestParams, AuctionEvalParams, PacingParams
from adrank_pipelines.auction.experiment import readout, run_arms, true_lift
from adrank_pipelines.auction.grid import replay, run_grid
from adrank_pipelines.auction.mechanisms import clear, second_price
from adrank_pipelines.auction.outcomes import outcome_metrics
from adrank_pipelines.auction.prepare import pre_period_clicks, replay_inputs
from adrank_pipelines.auction.synthetic import noisy_oracle_candidates
from adrank_pipelines.auction.truth import candidate_ground_truth, position_logit_shifts
from adrank_pipelines.marketplace import GroundTruth

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
KERNEL_BIDDERS = 20
KERNEL_AUCTIONS = 1_000_000
KERNEL_BLOCK = 20_000  # 20 bidders x 20k auctions x 8 bytes = 3 MB per array: cache-sized
# Stand-in models when the ranking pipeline's output is absent: logit noise around the truth.
STAND_IN_NOISE = {"lightgbm": 0.9, "transformer": 0.8, "hybrid": 0.7}
STAND_IN_CANDIDATES = 100  # the ranking pipeline's default max_per_request


def _project_params(env: str) -> dict:
    from kedro.config import OmegaConfigLoader

    from adrank_pipelines.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env=env,
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    return loader["parameters"]


# --- kernel ----------------------------------------------------------------------------------


def _kernel_inputs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    shape = (n, KERNEL_BIDDERS)
    bid = rng.lognormal(0.0, 0.5, shape)
    pctr = rng.uniform(0.005, 0.08, shape)
    quality = rng.uniform(0.5, 2.0, shape)
    return bid, pctr, quality, np.ones(shape, dtype=bool)


def _python_second_price(bid, pctr, quality, reserve: float) -> list[tuple[int, float]]:
    """The baseline: one auction at a time in plain Python."""
    out = []
    for b, p, q in zip(bid.tolist(), pctr.tolist(), quality.tolist(), strict=True):
        scores = [bi * pi * qi for bi, pi, qi in zip(b, p, q, strict=True)]
        winner = max(range(len(scores)), key=scores.__getitem__)
        runner_up = max((s for i, s in enumerate(scores) if i != winner), default=0.0)
        out.append((winner, min(b[winner], max(reserve, runner_up / (p[winner] * q[winner])))))
    return out


def bench_kernel(repeats: int) -> dict:
    rng = np.random.default_rng(0)
    blocks = [_kernel_inputs(rng, KERNEL_BLOCK) for _ in range(KERNEL_AUCTIONS // KERNEL_BLOCK)]
    n_slots = np.full(KERNEL_BLOCK, 4)
    discounts = np.array([1.0, 0.683, 0.547, 0.466])

    def rate(run_block) -> dict:
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            for block in blocks:
                run_block(block)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        return {"median_s": median, "auctions_per_s": KERNEL_AUCTIONS / median, "repeats_s": seconds}

    results = {"second_price": rate(lambda b: second_price(*b, 0.05))}
    for kind in ("gsp", "vcg", "first_price"):
        results[f"{kind}_4_slots"] = rate(lambda b, kind=kind: clear(kind, *b, 0.05, n_slots, discounts))
    small = _kernel_inputs(np.random.default_rng(1), 5_000)
    start = time.perf_counter()
    baseline = _python_second_price(*small[:3], 0.05)
    python_rate = len(baseline) / (time.perf_counter() - start)
    vectorised = second_price(*small, 0.05)
    agree = np.array_equal(vectorised.winner[:, 0], [w for w, _ in baseline]) and np.allclose(
        vectorised.price[:, 0], [p for _, p in baseline]
    )
    results["python_loop_second_price"] = {"auctions_per_s": python_rate, "agrees_with_kernel": bool(agree)}
    return results


# --- default world ---------------------------------------------------------------------------


def _load_world(raw: Path) -> dict:
    truth_dir = raw / "ground_truth"
    world = json.loads((truth_dir / "truth_world.json").read_text())
    return {
        "requests": pd.read_parquet(raw / "requests.parquet"),
        "ads": pd.read_parquet(raw / "ads.parquet"),
        "advertisers": pd.read_parquet(raw / "advertisers.parquet"),
        "impressions": pd.read_parquet(raw / "impressions.parquet", columns=["user_id", "day", "click"]),
        "truth": GroundTruth(
            pd.read_parquet(truth_dir / "truth_users.parquet"), pd.read_parquet(truth_dir / "truth_ads.parquet"), world
        ),
        "test_day": world["days"]["test_day"],
    }


def _timed(label: str, timings: dict, fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    timings[label] = time.perf_counter() - start
    print(f"  {label}: {timings[label]:.1f} s", flush=True)
    return out


def bench_replay(world: dict, ranked_path: Path, auction: AuctionEvalParams, ab: AbTestParams) -> tuple[dict, tuple]:
    timings: dict[str, float] = {}
    if ranked_path.exists():
        ranked = pd.read_parquet(ranked_path)
        source = f"ranking pipeline output ({ranked_path.relative_to(PROJECT_ROOT) if ranked_path.is_relative_to(PROJECT_ROOT) else ranked_path})"
    else:
        ranked = _timed(
            "stand-in candidates",
            timings,
            noisy_oracle_candidates,
            world["requests"],
            world["ads"],
            world["truth"],
            world["test_day"],
            STAND_IN_CANDIDATES,
            STAND_IN_NOISE,
            0,
        )
        source = (
            f"stand-in noisy oracles {STAND_IN_NOISE} (logit noise), {STAND_IN_CANDIDATES} random live ads per request"
        )
    requests = world["requests"]
    todays = requests.loc[requests["day"] == world["test_day"]]
    start = time.perf_counter()
    truth_frame = _timed("ground truth per candidate", timings, candidate_ground_truth, ranked, todays, world["truth"])
    shifts = position_logit_shifts(truth_frame, todays, world["truth"], int(todays["n_slots"].max()))
    day, models = _timed(
        "prepare",
        timings,
        replay_inputs,
        ranked,
        truth_frame,
        shifts,
        requests,
        world["ads"],
        world["advertisers"],
        auction,
    )
    grid = _timed("grid", timings, run_grid, day, models, auction)

    def ab_node():
        totals = run_arms(day, auction, ab, ab.seed)
        covariate = pre_period_clicks(world["impressions"], world["test_day"], totals.user_id)
        return readout(totals, true_lift(day, auction, ab), ab, covariate)

    ab_result = _timed("A/B readout", timings, ab_node)
    timings["total (truth + prepare + grid + A/B)"] = time.perf_counter() - start
    summary = {
        "source": source,
        "ranked_rows": len(ranked),
        "requests": len(day.requests),
        "candidates_per_request": float(ranked.groupby(["model", "request_id"]).size().mean()),
        "replays": len(models) * len(auction.mechanisms) * auction.draw_seeds,
        # One split replay, and the true lift's two full-traffic replays per click-draw seed.
        "ab_replays": 1 + 2 * ab.truth_draw_seeds,
        "timings_s": timings,
        "outcomes": grid.outcomes.to_dict("records"),
        "ab": ab_result,
    }
    return summary, (day, models)


def bench_pacing(day, auction: AuctionEvalParams, model: str) -> list[dict]:
    """GSP with each pacing kind, a gain sweep and budget scales, on one model."""
    rows = []
    book = day.book(model)
    default = auction.pacing
    variants = [(kind, default.gain, default.budget_scale) for kind in ("none", "throttle", "bid_multiplier")]
    variants += [("bid_multiplier", gain, default.budget_scale) for gain in (1.0, 16.0)]
    variants += [(kind, default.gain, scale) for scale in (0.02, 0.05, 0.2, 1.0) for kind in ("none", "bid_multiplier")]
    for kind, gain, scale in variants:
        pacing = PacingParams(**{**auction.pacing.model_dump(), "kind": kind, "gain": gain, "budget_scale": scale})
        params = auction.model_copy(update={"pacing": pacing})
        accounts = replace(day.accounts, budget=day.accounts.budget / auction.pacing.budget_scale * scale)
        scaled_book = replace(book, accounts=accounts)
        log = replay(day, scaled_book, auction.mechanisms[auction.reference_mechanism], params)
        realised = outcome_metrics(log, scaled_book, day.target, auction.pacing_error_min_utilisation)["realised"]
        expected = outcome_metrics(log, scaled_book, day.target, auction.pacing_error_min_utilisation)["expected"]
        share = log.spend_by_step / accounts.budget
        bound = share[-1] >= auction.pacing_error_min_utilisation
        half_hour = np.argmax(share[:, bound].sum(axis=1) >= 0.5 * share[-1, bound].sum()) if bound.any() else -1
        rows.append(
            {
                "pacing": kind,
                "gain": gain,
                "budget_scale": scale,
                "budget_bound_share": float(bound.mean()),
                "budget_utilisation": realised["budget_utilisation"],
                "pacing_error": realised["pacing_error"],
                "exhausted_share": realised["budget_exhausted_share"],
                "hour_half_of_bound_spend": float((half_hour + 1) * auction.pacing.step_minutes / 60),
                "expected_revenue": expected["revenue"],
                "expected_welfare": expected["social_welfare"],
                "withdrawn_impressions": realised["withdrawn_impressions"],
            }
        )
        print(f"  pacing {kind} gain {gain} scale {scale}: error {realised['pacing_error']:.3f}", flush=True)
    return rows


def bench_coverage(day, auction: AuctionEvalParams, ab: AbTestParams, impressions, test_day: int, seeds: int) -> dict:
    """Interval coverage over A/B seeds of the true lift averaged over ab.truth_draw_seeds click-draw seeds,
    and, for comparison, of the single-draw truth (the first draw seed's lift alone)."""
    truth = true_lift(day, auction, ab)
    single_draw = {metric: float(t.per_seed[0]) for metric, t in truth.items()}
    hits = {"clicks": [], "revenue": [], "clicks_cuped": [], "revenue_cuped": []}
    single_hits = {key: [] for key in hits}
    widths = {key: [] for key in hits}
    lifts = {"clicks": [], "revenue": []}
    covariate = None
    for seed in range(seeds):
        totals = run_arms(day, auction, ab, 1000 + seed)
        if covariate is None:
            covariate = pre_period_clicks(impressions, test_day, totals.user_id)
        result = readout(totals, truth, ab, covariate)["metrics"]
        for metric in ("clicks", "revenue"):
            entry = result[f"{metric}_per_user"]
            for key, estimate in ((metric, entry), (f"{metric}_cuped", entry["cuped"])):
                hits[key].append(estimate["interval_covers_true_lift"])
                single_hits[key].append(estimate["ci_low"] <= single_draw[metric] <= estimate["ci_high"])
                widths[key].append(estimate["ci_high"] - estimate["ci_low"])
            lifts[metric].append(entry["lift"])
    return {
        "seeds": seeds,
        "nominal": 1 - ab.alpha,
        "true_lift": {metric: t.lift for metric, t in truth.items()},
        "true_lift_spread": {metric: t.spread() for metric, t in truth.items()},
        "single_draw_true_lift": single_draw,
        "coverage": {k: float(np.mean(v)) for k, v in hits.items()},
        "single_draw_coverage": {k: float(np.mean(v)) for k, v in single_hits.items()},
        "mean_interval_width": {k: float(np.mean(v)) for k, v in widths.items()},
        "mean_estimated_lift": {k: float(np.mean(v)) for k, v in lifts.items()},
        "sd_estimated_lift": {k: float(np.std(v)) for k, v in lifts.items()},
    }


# --- report ----------------------------------------------------------------------------------


def _kernel_md(kernel: dict) -> list[str]:
    python = kernel["python_loop_second_price"]
    lines = [
        f"## Kernel: {KERNEL_AUCTIONS:,} auctions x {KERNEL_BIDDERS} bidders, blocks of {KERNEL_BLOCK:,}",
        "",
        "| mechanism | median s | auctions / s | x plain-Python loop |",
        "|---|---|---|---|",
    ]
    for name, r in kernel.items():
        if name == "python_loop_second_price":
            continue
        lines.append(
            f"| {name} | {r['median_s']:.3f} | {r['auctions_per_s']:,.0f} | {r['auctions_per_s'] / python['auctions_per_s']:.0f} |"
        )
    lines += [
        f"| plain-Python loop, second price (baseline) | | {python['auctions_per_s']:,.0f} | 1 |",
        "",
        f"Target >= 1,000,000 single-slot auctions / s: "
        f"{'met' if kernel['second_price']['auctions_per_s'] >= 1e6 else 'NOT met'} "
        f"({kernel['second_price']['auctions_per_s']:,.0f}). Kernel and loop agree on winners and prices: "
        f"{python['agrees_with_kernel']}.",
        "",
    ]
    return lines


def _outcomes_md(outcomes: list[dict]) -> list[str]:
    frame = pd.DataFrame(outcomes)
    expected = frame.loc[frame["reading"] == "expected"]
    lines = [
        f"Expected outcomes (true pCTR / pCVR of the served impressions), mean +- sd over "
        f"{int(frame['draw_seeds'].max())} click-draw seeds; realised draws in the JSON.",
        "",
        "| mechanism | model | revenue | clicks | conversions | adv. value (welfare) | adv. surplus | ROI | CTR | utilisation (realised) | pacing error (realised) | exhausted (realised) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    realised = frame.loc[frame["reading"] == "realised"].set_index(["mechanism", "model"])
    for r in expected.itertuples():
        real = realised.loc[(r.mechanism, r.model)]
        lines.append(
            f"| {r.mechanism} | {r.model} | {r.revenue:,.0f} +- {r.revenue_std:,.0f} | {r.clicks:,.0f} | "
            f"{r.conversions:,.0f} | {r.social_welfare:,.0f} +- {r.social_welfare_std:,.0f} | "
            f"{r.advertiser_surplus:,.0f} | {r.advertiser_roi:.2f} | {r.ctr:.4f} | "
            f"{real['budget_utilisation']:.3f} | {real['pacing_error']:.3f} | {real['budget_exhausted_share']:.3f} |"
        )
    return [*lines, ""]


def write_results(results: dict, name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, default=float))
    lines = [f"# Auction benchmarks ({results['when']}, {results['machine']})", ""]
    if "kernel" in results:
        lines += _kernel_md(results["kernel"])
    if "replay" in results:
        r = results["replay"]
        t = r["timings_s"]
        lines += [
            f"## Replay of the evaluation day (conf/{results['env']})",
            "",
            f"Candidates: {r['source']}; {r['ranked_rows']:,} ranked rows, {r['requests']:,} requests, "
            f"{r['candidates_per_request']:.0f} candidates per request and model; {r['replays']} replays "
            f"(mechanism x model x click-draw seed, oracle included) plus the A/B test's {r['ab_replays']}.",
            "",
            "| phase | seconds |",
            "|---|---|",
            *[f"| {k} | {v:.1f} |" for k, v in t.items()],
            "",
            f"Target < 180 s for the replay (truth + prepare + grid + A/B): "
            f"{'met' if t['total (truth + prepare + grid + A/B)'] < 180 else 'NOT met'}.",
            "",
            *_outcomes_md(r["outcomes"]),
        ]
    if "pacing" in results:
        lines += [
            "## Pacing (reference mechanism, one model)",
            "",
            "| pacing | gain | budget scale | bound share | utilisation | pacing error | exhausted | hour half of bound spend | exp. revenue | exp. welfare | withdrawn |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *[
                f"| {p['pacing']} | {p['gain']} | {p['budget_scale']} | {p['budget_bound_share']:.3f} | "
                f"{p['budget_utilisation']:.3f} | {p['pacing_error']:.3f} | {p['exhausted_share']:.3f} | "
                f"{p['hour_half_of_bound_spend']:.1f} | {p['expected_revenue']:,.0f} | {p['expected_welfare']:,.0f} | "
                f"{p['withdrawn_impressions']:.0f} |"
                for p in results["pacing"]
            ],
            "",
        ]
    if "coverage" in results:
        c = results["coverage"]
        spread = c["true_lift_spread"]
        lines += [
            f"## A/B interval coverage over {c['seeds']} seeds (nominal {c['nominal']:.0%})",
            "",
            f"True lift (full-traffic replays, expected outcomes, {spread['clicks']['draw_seeds']} click-draw "
            f"seeds): clicks {c['true_lift']['clicks']:+.4f} (single draws: sd {spread['clicks']['std']:.4f}, "
            f"{spread['clicks']['min']:+.4f} to {spread['clicks']['max']:+.4f}), revenue "
            f"{c['true_lift']['revenue']:+.4f} (sd {spread['revenue']['std']:.4f}, {spread['revenue']['min']:+.4f} "
            f"to {spread['revenue']['max']:+.4f}). The first draw alone (the single-draw truth): clicks "
            f"{c['single_draw_true_lift']['clicks']:+.4f}, revenue {c['single_draw_true_lift']['revenue']:+.4f}.",
            "",
            "| metric | coverage | coverage of the single-draw truth | mean interval width | mean estimate | sd of estimate |",
            "|---|---|---|---|---|---|",
            *[
                f"| {k} | {v:.3f} | {c['single_draw_coverage'][k]:.3f} | {c['mean_interval_width'][k]:.4f} | "
                f"{c['mean_estimated_lift'].get(k.removesuffix('_cuped'), float('nan')):+.4f} | "
                f"{c['sd_estimated_lift'].get(k.removesuffix('_cuped'), float('nan')):.4f} |"
                for k, v in c["coverage"].items()
            ],
            "",
        ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["kernel", "replay", "pacing", "coverage"],
        choices=["kernel", "replay", "pacing", "coverage"],
    )
    parser.add_argument("--raw", type=Path, default=PROJECT_ROOT / "data" / "01_raw")
    parser.add_argument(
        "--ranked", type=Path, default=PROJECT_ROOT / "data" / "07_model_output" / "ranked_candidates.parquet"
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--coverage-seeds", type=int, default=200)
    parser.add_argument("--env", default="base", help="config environment of the parameters (conf/<env>)")
    parser.add_argument(
        "--truth-draw-seeds", type=int, default=None, help="click-draw seeds of the true lift (default: ab_test's)"
    )
    args = parser.parse_args()
    name = "auction" if args.env == "base" else f"auction_{args.env}"

    results: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "env": args.env,
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, Python {sys.version.split()[0]}",
    }
    if "kernel" in args.sections:
        print("kernel", flush=True)
        results["kernel"] = bench_kernel(args.repeats)
    if set(args.sections) & {"replay", "pacing", "coverage"}:
        params = _project_params(args.env)
        auction = AuctionEvalParams.model_validate(params["auction_eval"])
        truth_seeds = {} if args.truth_draw_seeds is None else {"truth_draw_seeds": args.truth_draw_seeds}
        ab = AbTestParams.model_validate({**params["ab_test"], **truth_seeds})
        world = _load_world(args.raw)
        print("replay", flush=True)
        results["replay"], (day, _) = bench_replay(world, args.ranked, auction, ab)
        if "pacing" in args.sections:
            results["pacing"] = bench_pacing(day, auction, ab.treatment_model)
        if "coverage" in args.sections:
            print("coverage", flush=True)
            results["coverage"] = bench_coverage(
                day, auction, ab, world["impressions"], world["test_day"], args.coverage_seeds
            )
    write_results(results, name)
    print((RESULTS / f"{name}.md").read_text())


if __name__ == "__main__":
    main()
