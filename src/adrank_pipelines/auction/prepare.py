"""From the catalog's tables to the replay's inputs: the evaluation day's candidates of every model
(and of the oracle), their bids, quality scores and ground truth, and the advertisers' budgets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.auction.book import Accounts, ReplayDay, requests_in_time_order
from adrank_pipelines.auction.config import AuctionEvalParams, AuctionRules, PacingParams
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
            raise ValueError(f"ranked_candidates.{column}: {int(bad.sum())} value(s) missing or outside [0, 1], e.g. {examples}")


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


def _with_oracle(ranked: pd.DataFrame, oracle_name: str) -> pd.DataFrame:
    """The oracle ranks the same (request, ad) pairs by the true pCTR and pCVR."""
    if oracle_name in set(ranked["model"]):
        raise ValueError(f"ranked_candidates already has a model named {oracle_name!r} (auction_eval.oracle_name)")
    pairs = ranked.drop_duplicates(["request_id", "ad_id"])
    oracle = pairs.assign(model=oracle_name, pctr=pairs["true_pctr"], pcvr=pairs["true_pcvr"])
    return pd.concat([ranked, oracle], ignore_index=True)


def _quality(frame: pd.DataFrame, rules: AuctionRules) -> np.ndarray:
    reference = rules.quality_score.pcvr_reference
    if reference is None:
        reference = frame.groupby("model")["pcvr"].transform("mean").to_numpy()
    return quality_score(frame["pcvr"].to_numpy(), rules.quality_score, reference)


def auction_candidates(
    ranked: pd.DataFrame,
    candidate_truth: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    rules: AuctionRules,
    oracle_name: str,
    per_request: int | None,
) -> pd.DataFrame:
    """Every model's candidates (and the oracle's) with bid, account, quality score and ground truth,
    best first within each (model, request); at most ``per_request`` per (model, request)."""
    frame = ranked[list(RANKED_COLUMNS)].merge(candidate_truth, on=["request_id", "ad_id"], how="left")
    if frame["true_pctr"].isna().any():
        raise ValueError("candidate_truth lacks ground truth for some ranked_candidates rows; rerun its node")
    frame = _with_oracle(frame, oracle_name).merge(ads[["ad_id", "advertiser_id", "bid"]], on="ad_id", how="left")
    if frame["bid"].isna().any():
        unknown = frame.loc[frame["bid"].isna(), "ad_id"].unique()[:3].tolist()
        raise ValueError(f"ranked_candidates names ad ids absent from the ads table, e.g. {unknown}")
    account_of = pd.Series(np.arange(len(advertisers)), index=advertisers["advertiser_id"].to_numpy())
    frame["account"] = account_of.loc[frame["advertiser_id"].to_numpy()].to_numpy()
    frame["quality"] = _quality(frame, rules)
    is_oracle = frame["model"] == oracle_name
    # The oracle's rank: true eCPM (models come with the ranking's multi-objective rank).
    oracle_score = -(frame["bid"] * frame["pctr"] * frame["quality"])
    frame["order"] = np.where(is_oracle, oracle_score, frame["rank"].astype(np.float64))
    frame = frame.sort_values(["model", "request_id", "order"], kind="stable").drop(columns="order")
    if per_request is not None:
        frame = frame.loc[frame.groupby(["model", "request_id"]).cumcount() < per_request]
    return frame.reset_index(drop=True)


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
    candidates = auction_candidates(
        ranked, candidate_truth, ads, advertisers, params.rules, params.oracle_name, params.candidates_per_request
    )
    replay_day = ReplayDay(
        candidates=candidates,
        requests=requests_in_time_order(todays, params.pacing.step_minutes),
        accounts=advertiser_accounts(advertisers, params.pacing.budget_scale),
        position_logit_shift=np.asarray(position_logit_shift, dtype=np.float64),
        target=pacing_target(requests, day, params.pacing),
    )
    return replay_day, [*models, params.oracle_name]


def pre_period_clicks(impressions: pd.DataFrame, day: int, user_ids: np.ndarray) -> np.ndarray:
    """Each user's clicks on the days before ``day``: a covariate the experiment cannot have moved."""
    before = impressions.loc[impressions["day"] < day]
    clicks = before.groupby("user_id")["click"].sum()
    return clicks.reindex(user_ids, fill_value=0).to_numpy(dtype=np.float64)
