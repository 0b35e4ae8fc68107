"""pandera contracts of the simulator's ground-truth tables (layer ``ground_truth``).

Only ``truth_impressions`` has a fixed shape; the user and ad truth tables grow one column per
category or latent dimension, so their contract is just a present, unique, positive id. Each
truth table must also describe exactly the ids of the raw table it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from adrank_pipelines.schemas.contract_model import ContractModel, primary_key
from adrank_pipelines.schemas.failures import ContractFailure, ContractOutcome, failure_from_mask, skip_if_broken
from adrank_pipelines.schemas.pandera_failures import contract_outcome
from adrank_pipelines.schemas.raw_tables import RAW_TABLE_SCHEMAS

PROBABILITY = {"min_value": 0.0, "max_value": 1.0}


class TruthImpressionsSchema(ContractModel):
    impression_id: Series[np.int64] = primary_key()
    true_pctr: Series[np.float64] = pa.Field(in_range=PROBABILITY)
    true_pcvr: Series[np.float64] = pa.Field(in_range=PROBABILITY)


class TruthUsersSchema(ContractModel):
    user_id: Series[np.int64] = primary_key()


class TruthAdsSchema(ContractModel):
    ad_id: Series[np.int64] = primary_key()


# Each truth table, its contract, and the raw table (and key) whose ids it must describe exactly.
GROUND_TRUTH_SCHEMAS: dict[str, tuple[type[ContractModel], str, str]] = {
    "truth_impressions": (TruthImpressionsSchema, "impressions", "impression_id"),
    "truth_users": (TruthUsersSchema, "users", "user_id"),
    "truth_ads": (TruthAdsSchema, "ads", "ad_id"),
}


def ground_truth_failures(
    truth_tables: Mapping[str, pd.DataFrame], raw_tables: Mapping[str, pd.DataFrame], max_examples: int
) -> list[ContractFailure]:
    return list(ground_truth_outcome(truth_tables, raw_tables, max_examples).failures)


def ground_truth_outcome(
    truth_tables: Mapping[str, pd.DataFrame], raw_tables: Mapping[str, pd.DataFrame], max_examples: int
) -> ContractOutcome:
    """Each truth table's contract, and that it describes exactly the ids of its raw table.

    The id match runs only when both tables kept their own contract: against a raw table with a
    duplicated or missing id it would blame the truth table for the raw table's fault. The raw
    tables' failures are the raw contract's to report, so they are not listed here.
    """
    outcome = ContractOutcome(broken_tables=_broken_raw_tables(raw_tables))
    for name, (schema, raw_name, key) in GROUND_TRUTH_SCHEMAS.items():
        outcome += contract_outcome(name, truth_tables[name], schema, max_examples)
        match = f"{name}.{key} matches {raw_name}.{key}"
        skipped = skip_if_broken(match, (name, raw_name), outcome.broken_tables)
        if skipped is not None:
            outcome += ContractOutcome(skipped=(skipped,))
        else:
            coverage = _id_coverage_failures(
                name, truth_tables[name], raw_name, raw_tables[raw_name], key, max_examples
            )
            outcome += ContractOutcome(failures=tuple(coverage))
    return outcome


def _broken_raw_tables(raw_tables: Mapping[str, pd.DataFrame]) -> frozenset[str]:
    """The raw tables described by ground truth that fail their own (pandera) contract."""
    return frozenset(
        raw_name
        for _, raw_name, _ in GROUND_TRUTH_SCHEMAS.values()
        if contract_outcome(raw_name, raw_tables[raw_name], RAW_TABLE_SCHEMAS[raw_name], max_examples=1).failures
    )


def _id_coverage_failures(
    name: str, truth: pd.DataFrame, raw_name: str, raw: pd.DataFrame, key: str, max_examples: int
) -> list[ContractFailure]:
    without_truth = ~raw[key].isin(truth[key])
    failures = failure_from_mask(name, raw, key, f"has a row for every {raw_name}.{key}", without_truth, max_examples)
    unknown = ~truth[key].isin(raw[key])
    failures += failure_from_mask(name, truth, key, f"every {key} exists in {raw_name}.{key}", unknown, max_examples)
    return failures
