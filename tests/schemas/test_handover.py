"""The hand-over contracts: a small valid table of each passes, so does its empty table, and every
rule fails on a table that breaks it with the dataset, contract, column and check named."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.schemas.contract_model import TableContract
from adrank_pipelines.schemas.handover import (
    HANDOVER_CONTRACTS,
    HandoverContractError,
    UnknownContractError,
    enforce_handover_contract,
    handover_contract,
)


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def int32s(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int32)


def int8s(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int8)


def float32s(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "impression_id": ints(1, 2, 1),
            "split": ["valid", "valid", "test"],
            "pctr": [0.01, 0.2, 1.0],
            "pcvr": [0.0, 0.1, 0.3],
        }
    )


def clicklog_model_input() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "impression_id": ints(2, 3, 4),
            "split": pd.Categorical(["train", "train", "train"], categories=["train", "valid", "test", "drift"]),
            "click": int8s(0, 1, 1),
            "conversion": int8s(0, 0, 1),
            "C1_idx": int32s(2, 3, 1),  # a mapping-specific feature column: the contract is not strict
        }
    )


def model_input() -> pd.DataFrame:
    return clicklog_model_input().assign(
        request_id=ints(1, 1, 2),
        user_id=ints(7, 7, 8),
        ad_id=ints(3, 4, 3),
        event_time=pd.to_datetime(["2024-01-01 08:00", "2024-01-01 08:00", "2024-01-01 09:30"]),
        day=ints(0, 0, 0),
        position=int32s(1, 2, 1),
        is_cold_start_ad=[False, True, False],
    )


def impressions_enriched() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "impression_id": ints(1, 2, 3),
            "request_id": ints(1, 1, 2),
            "user_id": ints(7, 7, 8),
            "ad_id": ints(3, 4, 3),
            "advertiser_id": ints(1, 2, 1),
            "event_time": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 08:00", "2024-01-04 09:30"]),
            "day": ints(0, 0, 3),
            "position": ints(1, 2, 1),
            "click": int8s(0, 1, 0),
            "conversion": int8s(0, 1, 0),
            "category": ["pets", "music", "pets"],
            "bid": [0.5, 1.25, 0.5],
            "split": pd.Categorical(["train", "train", "test"], categories=["train", "valid", "test", "drift"]),
            "is_cold_start_ad": [False, False, False],
        }
    )


def behaviour_sequences() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "request_id": ints(1, 2),
            "seq_len": int32s(0, 1),
            "hist_ad_id_00": int32s(0, 5),
            "hist_age_hours_00": float32s(0.0, 3.5),
            "browse_seq_len": int32s(2, 0),
            "hist_browse_category_00": int32s(4, 0),
        }
    )


def ad_features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ad_id": ints(1, 2),
            "advertiser_id": ints(1, 1),
            "category": ["pets", "music"],
            "title": ["Pawsome: treats", "Tuneful: headphones"],
            "first_day": ints(0, 2),
            "ad_id_idx": int32s(2, 1),
            "advertiser_id_idx": int32s(2, 2),
            "category_idx": int32s(3, 4),
            "log_bid": float32s(-0.7, 0.2),
            "is_cold_start_ad": [False, True],
        }
    )


def ad_text_embeddings() -> pd.DataFrame:
    return pd.DataFrame({"ad_id": ints(1, 2), "text_emb_000": float32s(0.1, -0.3), "text_emb_001": float32s(0.5, 0.0)})


def retrieved_candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "request_id": ints(1, 1, 2),
            "ad_id": ints(5, 9, 5),
            "retrieval_rank": int32s(0, 1, 0),
            "retrieval_score": float32s(1.5, -0.2, 0.7),
        }
    )


def ranked_candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "request_id": ints(1, 1, 1, 1),
            "ad_id": ints(5, 9, 5, 9),
            "model": ["lightgbm", "lightgbm", "hybrid", "hybrid"],
            "pctr": [0.03, 0.01, 0.05, 0.02],
            "pcvr": [0.1, 0.2, 0.1, 0.2],
            "score": [1.0, 0.3, 0.9, 0.0],
            "rank": int32s(0, 1, 0, 1),
        }
    )


def first_ranked_candidates() -> pd.DataFrame:
    ranked = ranked_candidates()
    return ranked.loc[ranked["rank"] == 0].reset_index(drop=True)


def candidate_truth() -> pd.DataFrame:
    return pd.DataFrame(
        {"request_id": ints(1, 1), "ad_id": ints(5, 9), "true_pctr": [0.04, 0.0], "true_pcvr": [0.2, 1.0]}
    )


def auction_outcomes_by_seed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mechanism": ["gsp", "gsp"],
            "model": ["oracle", "oracle"],
            "reading": ["expected", "realised"],
            "draw_seed": ints(0, 0),
            "impressions": [100.0, 100.0],
            "fill_rate": [0.9, 0.9],
            "clicks": [3.2, 3.0],
            "ctr": [0.032, 0.03],
            "conversions": [0.4, 1.0],
            "revenue": [2.5, 2.0],
            "advertiser_value": [4.0, 9.0],
            "advertiser_surplus": [1.5, 7.0],
            "advertiser_roi": [0.6, 3.5],
            "social_welfare": [4.0, 9.0],
            "budget_utilisation": [0.4, 0.3],
            "pacing_error": [np.nan, 0.1],
            "budget_exhausted_share": [np.nan, 0.0],
            "withdrawn_impressions": [0.0, 0.0],
        }
    )


def auction_outcomes() -> pd.DataFrame:
    """Means over two draw seeds, the headline figures' sd beside them."""
    spread = {f"{metric}_std": [0.1, 0.3] for metric in ("revenue", "clicks", "advertiser_surplus", "social_welfare")}
    return auction_outcomes_by_seed().drop(columns="draw_seed").assign(draw_seeds=ints(2, 2), **spread)


def auction_advertiser_outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": ints(0, 1),
            "advertiser_id": ints(4, 5),
            "budget": [10.0, 20.0],
            "spend": [11.0, 0.0],
            "expected_spend": [9.0, 1.0],
            "impressions": [50.0, 3.0],
            "clicks": [2.0, 0.0],
            "expected_clicks": [1.7, 0.1],
            "conversions": [1.0, 0.0],
            "value": [30.0, 0.0],
            "expected_value": [12.0, 0.5],
            "exhausted_step": ints(40, -1),
            "surplus": [19.0, 0.0],
            "utilisation": [1.1, 0.0],
            "mechanism": ["gsp", "gsp"],
            "model": ["hybrid", "hybrid"],
        }
    )


def auction_pacing_curves() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": ints(0, 1),
            "target_share": [0.5, 1.0],
            "spend_share": [0.4, 1.2],
            "bound_spend_share": [np.nan, np.nan],
            "bound_accounts": ints(0, 0),
            "mechanism": ["vcg", "vcg"],
            "model": ["lightgbm", "lightgbm"],
        }
    )


VALID: dict[str, Callable[[], pd.DataFrame]] = {
    "predictions": predictions,
    "model_input": model_input,
    "clicklog_model_input": clicklog_model_input,
    "impressions_enriched": impressions_enriched,
    "behaviour_sequences": behaviour_sequences,
    "ad_features": ad_features,
    "ad_text_embeddings": ad_text_embeddings,
    "retrieved_candidates": retrieved_candidates,
    "ranking_candidates": retrieved_candidates,
    "ranked_candidates": ranked_candidates,
    "first_ranked_candidates": first_ranked_candidates,
    "candidate_truth": candidate_truth,
    "auction_outcomes": auction_outcomes,
    "auction_outcomes_by_seed": auction_outcomes_by_seed,
    "auction_advertiser_outcomes": auction_advertiser_outcomes,
    "auction_pacing_curves": auction_pacing_curves,
}


def enforce(contract: str, frame: pd.DataFrame) -> None:
    enforce_handover_contract(f"the_{contract}", frame, contract, "before it is saved", max_examples=3)


def test_every_contract_has_a_valid_table_here():
    assert set(VALID) == set(HANDOVER_CONTRACTS)


@pytest.mark.parametrize("contract", sorted(HANDOVER_CONTRACTS))
def test_a_valid_table_passes(contract):
    enforce(contract, VALID[contract]())


@pytest.mark.parametrize("contract", sorted(HANDOVER_CONTRACTS))
def test_the_empty_table_passes(contract):
    """The quiet case: no rows (a disabled drift window, a day without requests) breaks no contract."""
    enforce(contract, VALID[contract]().iloc[0:0])


@pytest.mark.parametrize("contract", sorted(HANDOVER_CONTRACTS))
def test_contracts_keep_extra_columns_and_never_coerce(contract):
    schema = handover_contract(contract, "any").to_schema()
    assert issubclass(HANDOVER_CONTRACTS[contract], TableContract)
    assert (schema.strict, schema.coerce) == (False, False)


def test_a_model_without_a_conversion_head_writes_no_pcvr_and_text_splits_pass_as_categorical_ones():
    enforce("predictions", predictions().drop(columns="pcvr").astype({"split": "category"}))


def test_the_pacing_figures_of_the_expected_reading_may_be_missing_but_not_the_counts():
    enforce("auction_outcomes", auction_outcomes().assign(fill_rate=np.nan, ctr=np.nan, advertiser_roi=np.nan))
    with pytest.raises(HandoverContractError, match="column 'clicks', check 'not_nullable'"):
        enforce("auction_outcomes", auction_outcomes().assign(clicks=[np.nan, 3.0]))


def test_the_spread_over_draw_seeds_is_missing_with_a_single_seed():
    enforce("auction_outcomes", auction_outcomes().assign(draw_seeds=ints(1, 1), revenue_std=np.nan))


def setting(column: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        changed = frame.copy()
        changed.loc[row, column] = value
        return changed

    return change


def casting(column: str, dtype: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.astype({column: dtype})


def dropping(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.drop(columns=column)


def repeating_row(row: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: pd.concat([frame, frame.iloc[[row]]], ignore_index=True)


def reversing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[::-1].reset_index(drop=True)


# (contract, how the valid table is broken, the column named, a fragment of the check's name)
BROKEN = [
    ("predictions", dropping("pctr"), "pctr", "column_in_dataframe"),
    ("predictions", setting("pctr", 0, 1.5), "pctr", "in_range"),
    ("predictions", setting("pcvr", 1, -0.1), "pcvr", "in_range"),
    ("predictions", casting("pctr", "float32"), "pctr", "dtype"),
    ("predictions", setting("split", 2, "holdout"), "split", "isin"),
    ("predictions", setting("impression_id", 1, 0), "impression_id", "greater_than_or_equal_to(1)"),
    ("predictions", repeating_row(0), "impression_id, split", "multiple_fields_uniqueness"),
    ("model_input", setting("click", 0, 2), "click", "isin"),
    ("model_input", setting("conversion", 0, 1), "conversion", "conversion_at_most_click"),
    ("model_input", setting("position", 1, 0), "position", "greater_than_or_equal_to(1)"),
    ("model_input", repeating_row(1), "impression_id", "field_uniqueness"),
    ("model_input", dropping("is_cold_start_ad"), "is_cold_start_ad", "column_in_dataframe"),
    ("model_input", casting("request_id", "float64"), "request_id", "dtype"),
    ("clicklog_model_input", casting("click", "int64"), "click", "dtype"),
    ("impressions_enriched", setting("bid", 2, 0.0), "bid", "greater_than(0)"),
    ("impressions_enriched", setting("day", 0, -1), "day", "greater_than_or_equal_to(0)"),
    ("behaviour_sequences", setting("hist_ad_id_00", 0, -1), "hist_ad_id_00", "greater_than_or_equal_to(0)"),
    ("behaviour_sequences", setting("seq_len", 1, -2), "seq_len", "greater_than_or_equal_to(0)"),
    ("behaviour_sequences", repeating_row(0), "request_id", "field_uniqueness"),
    ("ad_features", setting("category_idx", 0, -1), "category_idx", "greater_than_or_equal_to(0)"),
    ("ad_features", repeating_row(1), "ad_id", "field_uniqueness"),
    ("ad_text_embeddings", casting("text_emb_001", "float64"), "text_emb_001", "dtype"),
    ("retrieved_candidates", setting("retrieval_rank", 1, -1), "retrieval_rank", "greater_than_or_equal_to(0)"),
    ("retrieved_candidates", casting("retrieval_rank", "int64"), "retrieval_rank", "dtype"),
    ("retrieved_candidates", setting("ad_id", 1, 5), "request_id, ad_id", "multiple_fields_uniqueness"),
    (
        "retrieved_candidates",
        setting("retrieval_rank", 1, 0),
        "request_id, retrieval_rank",
        "multiple_fields_uniqueness",
    ),
    ("ranking_candidates", reversing, "request_id", "request_id_sorted"),
    ("ranked_candidates", setting("pctr", 2, 1.01), "pctr", "in_range"),
    ("ranked_candidates", setting("score", 3, np.nan), "score", "not_nullable"),
    ("ranked_candidates", setting("rank", 0, -1), "rank", "greater_than_or_equal_to(0)"),
    ("ranked_candidates", setting("model", 2, "lightgbm"), "model, request_id, ad_id", "multiple_fields_uniqueness"),
    ("first_ranked_candidates", setting("rank", 1, 1), "rank", "equal_to(0)"),
    ("first_ranked_candidates", setting("model", 1, "lightgbm"), "model, request_id", "multiple_fields_uniqueness"),
    ("candidate_truth", setting("true_pcvr", 0, 1.2), "true_pcvr", "in_range"),
    ("candidate_truth", setting("ad_id", 1, 5), "request_id, ad_id", "multiple_fields_uniqueness"),
    ("auction_outcomes", setting("reading", 1, "observed"), "reading", "isin"),
    ("auction_outcomes", setting("fill_rate", 0, 1.2), "fill_rate", "in_range"),
    ("auction_outcomes", setting("revenue", 1, -1.0), "revenue", "greater_than_or_equal_to(0)"),
    ("auction_outcomes", setting("reading", 1, "expected"), "mechanism, model, reading", "multiple_fields_uniqueness"),
    ("auction_outcomes", setting("revenue_std", 0, -0.1), "revenue_std", "greater_than_or_equal_to(0)"),
    ("auction_outcomes", setting("draw_seeds", 0, 0), "draw_seeds", "greater_than_or_equal_to(1)"),
    (
        "auction_outcomes_by_seed",
        setting("reading", 1, "expected"),
        "mechanism, model, reading, draw_seed",
        "multiple_fields_uniqueness",
    ),
    ("auction_advertiser_outcomes", setting("exhausted_step", 1, -2), "exhausted_step", "greater_than_or_equal_to(-1)"),
    (
        "auction_advertiser_outcomes",
        setting("account", 1, 0),
        "mechanism, model, account",
        "multiple_fields_uniqueness",
    ),
    ("auction_pacing_curves", setting("target_share", 1, 1.5), "target_share", "in_range"),
    ("auction_pacing_curves", setting("step", 1, 0), "mechanism, model, step", "multiple_fields_uniqueness"),
]


@pytest.mark.parametrize(("contract", "breaking", "column", "check"), BROKEN)
def test_each_rule_fails_on_a_table_that_breaks_it_naming_dataset_contract_column_and_check(
    contract, breaking, column, check
):
    with pytest.raises(HandoverContractError) as raised:
        enforce(contract, breaking(VALID[contract]()))
    error = raised.value
    assert (error.dataset, error.contract) == (f"the_{contract}", contract)
    message = str(error)
    assert f"dataset 'the_{contract}' breaks its contract '{contract}' before it is saved" in message
    assert [(failure.column, check in failure.check) for failure in error.failures] == [(column, True)], message
    assert f"dataset 'the_{contract}', column '{column}', check '" in message


def test_a_duplicated_key_is_one_failure_whose_rows_show_every_key_column():
    with pytest.raises(HandoverContractError) as raised:
        enforce("ranked_candidates", setting("model", 2, "lightgbm")(ranked_candidates()))
    message = str(raised.value)
    assert "2 failure case(s)" in message
    assert "row 0: {'request_id': 1, 'ad_id': 5, 'model': 'lightgbm'}" in message
    assert "row 2: {'request_id': 1, 'ad_id': 5, 'model': 'lightgbm'}" in message


def test_an_unknown_contract_name_fails_naming_the_closest_ones():
    with pytest.raises(UnknownContractError) as raised:
        handover_contract("ranked_candidate", "ranked_candidates")
    message = str(raised.value)
    assert "dataset 'ranked_candidates' names the contract 'ranked_candidate'" in message
    assert "did you mean 'ranked_candidates'" in message
