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
from adrank_pipelines.schemas.failures import ContractFailure, failure_from_mask
from adrank_pipelines.schemas.pandera_failures import contract_failures

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
    """Each truth table's contract, and that it describes exactly the ids of its raw table."""
    failures: list[ContractFailure] = []
    for name, (schema, raw_name, key) in GROUND_TRUTH_SCHEMAS.items():
        truth_failures = contract_failures(name, truth_tables[name], schema, max_examples)
        failures += truth_failures
        raw = raw_tables[raw_name]
        key_usable = not any(failure.structural and failure.column == key for failure in truth_failures)
        if key_usable and key in raw.columns:
            failures += _id_coverage_failures(name, truth_tables[name], raw_name, raw, key, max_examples)
    return failures


def _id_coverage_failures(
    name: str, truth: pd.DataFrame, raw_name: str, raw: pd.DataFrame, key: str, max_examples: int
) -> list[ContractFailure]:
    without_truth = ~raw[key].isin(truth[key])
    failures = failure_from_mask(name, raw, key, f"has a row for every {raw_name}.{key}", without_truth, max_examples)
    unknown = ~truth[key].isin(raw[key])
    failures += failure_from_mask(name, truth, key, f"every {key} exists in {raw_name}.{key}", unknown, max_examples)
    return failures
