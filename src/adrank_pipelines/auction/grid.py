"""The counterfactual grid: the evaluation day replayed for every mechanism x model x click-draw seed."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from tqdm.auto import tqdm

from adrank_pipelines.auction.book import CandidateBook, ReplayDay
from adrank_pipelines.auction.config import AuctionEvalParams, MechanismSpec
from adrank_pipelines.auction.outcomes import DRAW_SEED, account_outcomes, across_draws, outcome_metrics, pacing_curve
from adrank_pipelines.auction.replay import ReplayLog, replay_day


@dataclass(frozen=True)
class GridResult:
    outcomes_by_seed: pd.DataFrame  # one row per mechanism x model x reading (expected / realised) x draw seed
    outcomes: pd.DataFrame  # one row per mechanism x model x reading: mean and spread over the draw seeds
    # The replay at the first draw seed (auction_eval.seed): per-account and per-step detail of one day.
    accounts: pd.DataFrame  # one row per mechanism x model x bidding account
    pacing: pd.DataFrame  # one row per mechanism x model x pacing step


def draw_seeds(first: int, count: int) -> list[int]:
    """``count`` consecutive click-draw seeds from ``first``, so that one seed is the single-draw replay."""
    return list(range(first, first + count))


def replay(
    day: ReplayDay, book: CandidateBook, mechanism: MechanismSpec, params: AuctionEvalParams, seed: int | None = None
) -> ReplayLog:
    return replay_day(book, mechanism, params.rules, params.pacing, day.target, params.seed if seed is None else seed)


def run_grid(day: ReplayDay, models: list[str], params: AuctionEvalParams) -> GridResult:
    """Replay every mechanism for every model, once per click-draw seed."""
    outcome_rows, account_frames, pacing_frames = [], [], []
    threshold = params.pacing_error_min_utilisation
    seeds = draw_seeds(params.seed, params.draw_seeds)
    progress = tqdm(total=len(models) * len(params.mechanisms) * len(seeds), desc="replaying the day", unit="replay")
    for model in models:
        book = day.book(model)
        for name, mechanism in params.mechanisms.items():
            keys = {"mechanism": name, "model": model}
            for seed in seeds:
                log = replay(day, book, mechanism, params, seed)
                progress.update()
                for reading, metrics in outcome_metrics(log, book, day.target, threshold).items():
                    outcome_rows.append({**keys, "reading": reading, DRAW_SEED: seed, **metrics})
                if seed == params.seed:
                    account_frames.append(account_outcomes(log, book).assign(**keys))
                    pacing_frames.append(pacing_curve(log, book, day.target, threshold).assign(**keys))
    progress.close()
    by_seed = pd.DataFrame(outcome_rows)
    return GridResult(
        outcomes_by_seed=by_seed,
        outcomes=across_draws(by_seed),
        accounts=pd.concat(account_frames, ignore_index=True),
        pacing=pd.concat(pacing_frames, ignore_index=True),
    )
