"""From the catalog's tables to the replay's inputs: the evaluation day's candidates of every model
(and of the oracle), their bids, quality scores and ground truth, and the advertisers' budgets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.auction.book import Accounts, ReplayDay, requests_in_time_order
from adrank_pipelines.auction.config import AuctionEvalParams, AuctionRules, PacingParams
from adrank_pipelines.auction.keys import lookup, pair_key
from adrank_pipelines.auction.mechanisms import quality_score
from adrank_pipelines.auction.pacing import cumulative_target

RANKED_COLUMNS = ("request_id", "ad_id", "model", "pctr", "pcvr", "rank")


def check_ranked_candidates(ranked: pd.DataFrame) -> None:
    """Fail with the dataset and column named when ranked_candidates breaks its contract."""
    missing = [c for c in RANKED_COLUMNS if c not in ranked.columns]
    if missing:
        raise ValueError(f"ranked_candidates lacks columns {missing}; it has {list(ranked.columns)}")
    for column in ("pctr", "pcvr"):
        values = ranked[column]
        bad = values.isna() | (values < 0) | (values > 1)
        if bad.any():
            examples = ranked.loc[bad, ["request_id", "ad_id", "model", column]].head(3).to_dict("records")
            raise ValueError(
                f"ranked_candidates.{column}: {int(bad.sum())} value(s) missing or outside [0, 1], e.g. {examples}"
            )


def evaluation_day(ranked: pd.DataFrame, requests: pd.DataFrame, day: int | None) -> int:
    """The configured day, or the single day the ranked requests fall on."""
    if day is not None:
        return day
    days = np.unique(requests.loc[requests["request_id"].isin(ranked["request_id"].unique()), "day"])
    if len(days) != 1:
        raise ValueError(
            f"ranked_candidates covers days {days.tolist()}; set auction_eval.evaluation_day to choose one"
        )
    return int(days[0])


def day_requests(requests: pd.DataFrame, day: int) -> pd.DataFrame:
    selected = requests.loc[requests["day"] == day]
    if selected.empty:
        raise ValueError(f"the requests table has no request on evaluation day {day}")
    return selected


def pacing_target(requests: pd.DataFrame, day: int, pacing: PacingParams) -> np.ndarray:
    """Cumulative spend share per step: the previous day's traffic shape, or uniform."""
    if pacing.target_profile == "uniform":
        return cumulative_target(None, pacing.step_minutes)
    previous = requests.loc[requests["day"] == day - 1, "hour"].to_numpy()
    if len(previous) == 0:
        raise ValueError(
            f"auction_eval.pacing.target_profile is previous_day but there are no requests on day {day - 1}; "
            "use target_profile: uniform"
        )
    return cumulative_target(previous, pacing.step_minutes)


def advertiser_accounts(advertisers: pd.DataFrame, budget_scale: float) -> Accounts:
    """One account per advertiser, in the advertisers table's order."""
    return Accounts(
        advertiser_id=advertisers["advertiser_id"].to_numpy(),
        budget=advertisers["daily_budget"].to_numpy(dtype=np.float64) * budget_scale,
        value_per_conversion=advertisers["value_per_conversion"].to_numpy(dtype=np.float64),
    )


def _candidate_frame(
    request_id: np.ndarray,
    ad_id: np.ndarray,
    pctr: np.ndarray,
    pcvr: np.ndarray,
    rank: np.ndarray | None,
    true_pctr: np.ndarray,
    true_pcvr: np.ndarray,
    ad_rows: np.ndarray,
    ad_accounts: np.ndarray,
    ads: pd.DataFrame,
    rules: AuctionRules,
) -> pd.DataFrame:
    reference = rules.quality_score.pcvr_reference
    quality = quality_score(pcvr, rules.quality_score, reference if reference is not None else float(np.mean(pcvr)))
    bid = ads["bid"].to_numpy(dtype=np.float64)[ad_rows]
    return pd.DataFrame(
        {
            "request_id": request_id,
            "ad_id": ad_id,
            "advertiser_id": ads["advertiser_id"].to_numpy()[ad_rows],
            "account": ad_accounts[ad_rows],
            "bid": bid,
            "pctr": pctr,
            "pcvr": pcvr,
            "quality": quality,
            "true_pctr": true_pctr,
            "true_pcvr": true_pcvr,
            # Best first within a request: the ranking's rank; the oracle's is its true eCPM.
            "order": rank if rank is not None else -(bid * pctr * quality),
        }
    )


def auction_candidates(
    ranked: pd.DataFrame,
    candidate_truth: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    rules: AuctionRules,
    oracle_name: str,
) -> dict[str, pd.DataFrame]:
    """Per model (and for the oracle, over the same pairs): the candidates with bid, account,
    quality score (pCVR over the model's own mean pCVR unless a reference is set) and ground truth."""
    if oracle_name in set(ranked["model"].unique()):
        raise ValueError(f"ranked_candidates already has a model named {oracle_name!r} (auction_eval.oracle_name)")
    request_id, ad_id = ranked["request_id"].to_numpy(), ranked["ad_id"].to_numpy()
    truth_rows = lookup(
        pair_key(candidate_truth["request_id"], candidate_truth["ad_id"]),
        pair_key(request_id, ad_id),
        "candidate_truth lacks ground truth for ranked_candidates pairs (rerun score_candidates_with_truth)",
    )
    ad_rows = lookup(ads["ad_id"].to_numpy(), ad_id, "ranked_candidates names ad ids absent from the ads table")
    ad_accounts = lookup(
        advertisers["advertiser_id"].to_numpy(),
        ads["advertiser_id"].to_numpy(),
        "the ads table names advertiser ids absent from the advertisers table",
    )
    columns = {name: ranked[name].to_numpy() for name in ("pctr", "pcvr", "rank")}
    true_pctr = candidate_truth["true_pctr"].to_numpy(dtype=np.float64)
    true_pcvr = candidate_truth["true_pcvr"].to_numpy(dtype=np.float64)
    frames = {}
    for model, rows in ranked.groupby("model", sort=True, observed=True).indices.items():
        truth = truth_rows[rows]
        frames[str(model)] = _candidate_frame(
            request_id[rows],
            ad_id[rows],
            columns["pctr"][rows],
            columns["pcvr"][rows],
            columns["rank"][rows],
            true_pctr[truth],
            true_pcvr[truth],
            ad_rows[rows],
            ad_accounts,
            ads,
            rules,
        )
    pairs, first = np.unique(truth_rows, return_index=True)
    frames[oracle_name] = _candidate_frame(
        request_id[first],
        ad_id[first],
        true_pctr[pairs],
        true_pcvr[pairs],
        None,
        true_pctr[pairs],
        true_pcvr[pairs],
        ad_rows[first],
        ad_accounts,
        ads,
        rules,
    )
    return frames


def replay_inputs(
    ranked: pd.DataFrame,
    candidate_truth: pd.DataFrame,
    position_logit_shift: list[float],
    requests: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    params: AuctionEvalParams,
) -> tuple[ReplayDay, list[str]]:
    """The evaluation day ready to replay, and the models of the grid (the oracle last)."""
    check_ranked_candidates(ranked)
    models = params.models if params.models is not None else sorted(ranked["model"].unique())
    absent = sorted(set(models) - set(ranked["model"].unique()))
    if absent:
        raise ValueError(f"auction_eval.models names {absent}, absent from ranked_candidates")
    day = evaluation_day(ranked, requests, params.evaluation_day)
    todays = day_requests(requests, day)
    ranked = ranked.loc[ranked["model"].isin(models) & ranked["request_id"].isin(todays["request_id"])]
    candidates = auction_candidates(ranked, candidate_truth, ads, advertisers, params.rules, params.oracle_name)
    replay_day = ReplayDay(
        candidates=candidates,
        requests=requests_in_time_order(todays, params.pacing.step_minutes),
        accounts=advertiser_accounts(advertisers, params.pacing.budget_scale),
        position_logit_shift=np.asarray(position_logit_shift, dtype=np.float64),
        target=pacing_target(requests, day, params.pacing),
        per_request=params.candidates_per_request,
    )
    return replay_day, [*models, params.oracle_name]


def pre_period_clicks(impressions: pd.DataFrame, day: int, user_ids: np.ndarray) -> np.ndarray:
    """Each user's clicks on the days before ``day``: a covariate the experiment cannot have moved."""
    before = impressions.loc[impressions["day"] < day]
    clicks = before.groupby("user_id")["click"].sum()
    return clicks.reindex(user_ids, fill_value=0).to_numpy(dtype=np.float64)
