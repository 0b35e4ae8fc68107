"""The counterfactual grid: the evaluation day replayed for every mechanism x model."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from tqdm.auto import tqdm

from adrank_pipelines.auction.book import CandidateBook, ReplayDay
from adrank_pipelines.auction.config import AuctionEvalParams, MechanismSpec
from adrank_pipelines.auction.outcomes import account_outcomes, outcome_metrics, pacing_curve
from adrank_pipelines.auction.replay import ReplayLog, replay_day


@dataclass(frozen=True)
class GridResult:
    outcomes: pd.DataFrame  # one row per mechanism x model x reading (expected / realised)
    accounts: pd.DataFrame  # one row per mechanism x model x bidding account
    pacing: pd.DataFrame  # one row per mechanism x model x pacing step


def replay(
    day: ReplayDay, book: CandidateBook, mechanism: MechanismSpec, params: AuctionEvalParams, seed: int | None = None
) -> ReplayLog:
    return replay_day(book, mechanism, params.rules, params.pacing, day.target, params.seed if seed is None else seed)


def run_grid(day: ReplayDay, models: list[str], params: AuctionEvalParams) -> GridResult:
    """Replay every mechanism for every model."""
    outcome_rows, account_frames, pacing_frames = [], [], []
    threshold = params.pacing_error_min_utilisation
    progress = tqdm(total=len(models) * len(params.mechanisms), desc="replaying the day", unit="replay")
    for model in models:
        book = day.book(model)
        for name, mechanism in params.mechanisms.items():
            log = replay(day, book, mechanism, params)
            progress.update()
            keys = {"mechanism": name, "model": model}
            for reading, metrics in outcome_metrics(log, book, day.target, threshold).items():
                outcome_rows.append({**keys, "reading": reading, **metrics})
            account_frames.append(account_outcomes(log, book).assign(**keys))
            pacing_frames.append(pacing_curve(log, book, day.target, threshold).assign(**keys))
    progress.close()
    return GridResult(
        outcomes=pd.DataFrame(outcome_rows),
        accounts=pd.concat(account_frames, ignore_index=True),
        pacing=pd.concat(pacing_frames, ignore_index=True),
    )
