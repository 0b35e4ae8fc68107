"""Contracts of the tables handed between stages, looked up by the name a catalog entry gives.

A catalog entry opts in with ``metadata: {contract: <name>}``; ``contract_hooks.HandoverContracts``
then checks the producer's output before it is saved and the consumer's input after it is loaded.
This module holds the feature and model tables' contracts, the registry of every contract
(``HANDOVER_CONTRACTS``) and the check itself; ``handover_serving`` the retrieval, ranking and
auction tables'.

The contracts state what consumers read, not every column: tables that carry model- or
mapping-specific columns (vocabulary indices, crosses, sequences) are not strict. They are
``TableContract``s, so an empty table passes (a disabled drift window gives an empty one).
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from adrank_pipelines.schemas.contract_model import (
    BINARY_LABEL,
    ClickLabels,
    TableContract,
    foreign_key,
    primary_key,
    probability,
)
from adrank_pipelines.schemas.failures import ContractOutcome, DataContractError
from adrank_pipelines.schemas.handover_serving import (
    AuctionAdvertiserOutcomesSchema,
    AuctionOutcomesBySeedSchema,
    AuctionOutcomesSchema,
    AuctionPacingCurvesSchema,
    CandidateTruthSchema,
    FirstRankedCandidatesSchema,
    RankedCandidatesSchema,
    RankingCandidatesSchema,
    RetrievedCandidatesSchema,
)
from adrank_pipelines.schemas.pandera_failures import contract_outcome

# features.splits.SPLITS (schemas may not import features).
SPLITS = ("train", "valid", "test", "drift")


def split_label() -> Any:
    # Any dtype: the feature tables keep `split` categorical, the prediction tables write text.
    return pa.Field(isin=SPLITS)


class PredictionsSchema(TableContract):
    """One model's scores (raw or calibrated): one row per impression per split it scored."""

    impression_id: Series[np.int64] = foreign_key()
    split: Series[Any] = split_label()
    pctr: Series[np.float64] = probability()
    # Only models with a conversion head (the transformer) write it.
    pcvr: Series[np.float64] | None = probability()

    class Config:
        unique = ("impression_id", "split")


class ClickLogModelInputSchema(ClickLabels):
    """What every model input holds, a click log's too: the row's id, its split and its labels."""

    impression_id: Series[np.int64] = primary_key()
    split: Series[Any] = split_label()


class LoggedImpressionKeys(TableContract):
    """Who saw which ad in which request, and when: the keys the simulated world's stages join on."""

    request_id: Series[np.int64] = foreign_key()
    user_id: Series[np.int64] = foreign_key()
    ad_id: Series[np.int64] = foreign_key()
    event_time: Series[pd.Timestamp]
    day: Series[np.int64] = pa.Field(ge=0)


class ModelInputSchema(ClickLogModelInputSchema, LoggedImpressionKeys):
    """The simulated world's model input: the ids and context that training, drift, indexing and
    ranking join on, beside the feature columns the feature spec lists."""

    position: Series[np.int32] = pa.Field(ge=1)
    is_cold_start_ad: Series[bool]


class ImpressionsEnrichedSchema(LoggedImpressionKeys):
    """features -> ranking: impressions with their ad's attributes, split and cold-start flag."""

    impression_id: Series[np.int64] = primary_key()
    advertiser_id: Series[np.int64] = foreign_key()
    position: Series[np.int64] = pa.Field(ge=1)
    click: Series[np.int8] = pa.Field(isin=BINARY_LABEL)
    conversion: Series[np.int8] = pa.Field(isin=BINARY_LABEL)
    category: Series[str]
    bid: Series[np.float64] = pa.Field(gt=0)
    split: Series[Any] = split_label()
    is_cold_start_ad: Series[bool]


class BehaviourSequencesSchema(TableContract):
    """One row per request: left-padded histories whose slots hold vocabulary indices (0 = padding),
    labels and ages, so none is negative."""

    request_id: Series[np.int64] = primary_key()
    seq_len: Series[np.int32] = pa.Field(ge=0)
    browse_seq_len: Series[np.int32] = pa.Field(ge=0)
    # Only with features.sequences.include_clicked_history.
    clicked_seq_len: Series[np.int32] | None = pa.Field(ge=0)
    history_slots: Series[Any] = pa.Field(alias=r"^hist_", regex=True, ge=0)


class AdFeaturesSchema(TableContract):
    """One row per ad: ids with their vocabulary indices (0 = padding, 1 = unknown), text, log bid."""

    ad_id: Series[np.int64] = primary_key()
    advertiser_id: Series[np.int64] = foreign_key()
    category: Series[str]
    first_day: Series[np.int64] = pa.Field(ge=0)
    ad_id_idx: Series[np.int32] = pa.Field(ge=0)
    advertiser_id_idx: Series[np.int32] = pa.Field(ge=0)
    category_idx: Series[np.int32] = pa.Field(ge=0)
    log_bid: Series[np.float32]
    is_cold_start_ad: Series[bool]


class AdTextEmbeddingsSchema(TableContract):
    """ctr_training -> indexing, ranking: one text embedding per ad."""

    ad_id: Series[np.int64] = primary_key()
    text_embedding: Series[np.float32] = pa.Field(alias=r"^text_emb_\d+$", regex=True)


HANDOVER_CONTRACTS: dict[str, type[TableContract]] = {
    "predictions": PredictionsSchema,
    "model_input": ModelInputSchema,
    "clicklog_model_input": ClickLogModelInputSchema,
    "impressions_enriched": ImpressionsEnrichedSchema,
    "behaviour_sequences": BehaviourSequencesSchema,
    "ad_features": AdFeaturesSchema,
    "ad_text_embeddings": AdTextEmbeddingsSchema,
    "retrieved_candidates": RetrievedCandidatesSchema,
    "ranking_candidates": RankingCandidatesSchema,
    "ranked_candidates": RankedCandidatesSchema,
    "first_ranked_candidates": FirstRankedCandidatesSchema,
    "candidate_truth": CandidateTruthSchema,
    "auction_outcomes": AuctionOutcomesSchema,
    "auction_outcomes_by_seed": AuctionOutcomesBySeedSchema,
    "auction_advertiser_outcomes": AuctionAdvertiserOutcomesSchema,
    "auction_pacing_curves": AuctionPacingCurvesSchema,
}


class UnknownContractError(ValueError):
    """A catalog entry names a contract that ``HANDOVER_CONTRACTS`` does not hold."""


class HandoverContractError(DataContractError):
    """A table handed between stages breaks the contract its catalog entry names."""

    def __init__(self, dataset: str, contract: str, moment: str, outcome: ContractOutcome) -> None:
        super().__init__(outcome.failures, outcome.skipped)
        self.dataset = dataset
        self.contract = contract
        self.args = (f"dataset '{dataset}' breaks its contract '{contract}' {moment}. {self.args[0]}",)


def handover_contract(contract: str, dataset: str) -> type[TableContract]:
    """The contract named ``contract``; an unknown name fails naming the closest known ones."""
    if contract in HANDOVER_CONTRACTS:
        return HANDOVER_CONTRACTS[contract]
    close = difflib.get_close_matches(contract, HANDOVER_CONTRACTS, n=3)
    hint = f"did you mean {' or '.join(repr(name) for name in close)}? " if close else ""
    raise UnknownContractError(
        f"dataset '{dataset}' names the contract '{contract}' in its catalog metadata, which does not exist; "
        f"{hint}known contracts: {sorted(HANDOVER_CONTRACTS)}"
    )


def enforce_handover_contract(dataset: str, frame: pd.DataFrame, contract: str, moment: str, max_examples: int) -> None:
    """Raise ``HandoverContractError`` listing every failed check of ``contract`` on ``frame``.

    ``moment`` says when the table was checked (e.g. "before it is saved"), for the message.
    """
    outcome = contract_outcome(dataset, frame, handover_contract(contract, dataset), max_examples)
    if outcome.failures:
        raise HandoverContractError(dataset, contract, moment, outcome)
