"""Frames -> tensors once, then batches by index: no per-row Python anywhere in training or scoring.

Three tables feed a batch: the ad table (one row per ad, row 0 = an ad the table does not know), the
behaviour sequences (one row per request) and the impressions. An impression points at its ad's row
and its request's row, so a batch gathers only what it needs and each request's sequence is encoded
once even when several of its impressions share the batch.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, fields, replace
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import torch

from adrank_pipelines.columns import column_matrix
from adrank_pipelines.models.layout import InputLayout, SequenceLayout

UNKNOWN_AD_ROW = 0
LABEL_COLUMNS = ["click", "conversion"]


def _to(value: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    return None if value is None else value.to(device)


class _TensorBundle:
    """Mixin for dataclasses of tensors: move to a device, or keep some rows, field by field."""

    # Declared, not set: every subclass is a dataclass, whose decorator provides it.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def to(self, device: torch.device) -> Self:
        return replace(self, **{f.name: _to(getattr(self, f.name), device) for f in fields(self)})

    def take(self, rows: torch.Tensor) -> Self:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(self, **{name: None if value is None else value[rows] for name, value in values.items()})


@dataclass(frozen=True)
class AdTensors(_TensorBundle):
    """The ad table: vocabulary indices, standardised numerics, and text (pooled embedding or tokens)."""

    categorical: torch.Tensor  # (n_rows, n_ad_categorical) long
    numeric: torch.Tensor  # (n_rows, n_ad_numeric) float
    text_embedding: torch.Tensor | None = None  # (n_rows, text_width): frozen encoder
    token_ids: torch.Tensor | None = None  # (n_rows, n_tokens): fine-tuned encoder
    attention_mask: torch.Tensor | None = None


@dataclass(frozen=True)
class RequestTensors(_TensorBundle):
    """Behaviour sequences, segments side by side: (n_requests, n_segments * length)."""

    ad_rows: torch.Tensor  # long, ad-table rows (UNKNOWN_AD_ROW for ads it lacks and padding)
    padding: torch.Tensor  # bool, True on padding slots
    category: torch.Tensor  # (n_requests, length) long, first segment only
    click: torch.Tensor  # (n_requests, length) long
    age_hours: torch.Tensor  # (n_requests, length) float
    browse_category: torch.Tensor | None = None  # (n_requests, browse_length) long, organic views
    browse_age_hours: torch.Tensor | None = None  # (n_requests, browse_length) float
    browse_padding: torch.Tensor | None = None  # (n_requests, browse_length) bool


@dataclass(frozen=True)
class ImpressionTensors(_TensorBundle):
    """Per impression: its ad row, its request row, user and pair features (no labels)."""

    ad_rows: torch.Tensor  # long
    request_rows: torch.Tensor  # long
    user_categorical: torch.Tensor
    pair_categorical: torch.Tensor
    user_numeric: torch.Tensor
    pair_numeric: torch.Tensor

    def __len__(self) -> int:
        return len(self.ad_rows)


@dataclass(frozen=True)
class Batch:
    """What a forward pass sees: impressions, the sequences of their requests, and the whole ad table."""

    impressions: ImpressionTensors  # request_rows index into ``requests``
    requests: RequestTensors | None
    ads: AdTensors | None


class AdIndex:
    """Raw ad id -> ad-table row (ads the table lacks map to ``UNKNOWN_AD_ROW``)."""

    def __init__(self, ad_ids: np.ndarray) -> None:
        self.sorted_ids = np.sort(np.asarray(ad_ids, dtype=np.int64))

    def rows(self, ad_ids: np.ndarray) -> np.ndarray:
        ad_ids = np.asarray(ad_ids, dtype=np.int64)
        positions = np.clip(np.searchsorted(self.sorted_ids, ad_ids), 0, max(len(self.sorted_ids) - 1, 0))
        found = len(self.sorted_ids) > 0 and self.sorted_ids[positions] == ad_ids
        return np.where(found, positions + 1, UNKNOWN_AD_ROW).astype(np.int64)


def _long(frame: pd.DataFrame, columns: list[str] | dict[str, int]) -> torch.Tensor:
    return torch.from_numpy(column_matrix(frame, columns, np.int64))


def _standardised(frame: pd.DataFrame, columns: list[str], layout: InputLayout) -> torch.Tensor:
    values = column_matrix(frame, columns, np.float32)
    mean = np.array([layout.numeric_mean[name] for name in columns], dtype=np.float32)
    std = np.array([layout.numeric_std[name] for name in columns], dtype=np.float32)
    return torch.from_numpy((values - mean) / std)


def _with_unknown_row(values: torch.Tensor, fill: float) -> torch.Tensor:
    unknown = torch.full((1, *values.shape[1:]), fill, dtype=values.dtype)
    return torch.cat([unknown, values])


def ad_tensors(
    ad_features: pd.DataFrame,
    layout: InputLayout,
    out_of_vocabulary_index: int,
    text_embeddings: np.ndarray | None = None,
    tokens: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[AdTensors, AdIndex]:
    """The ad table sorted by ad id, row 0 an unknown ad (out-of-vocabulary ids, mean numerics, no text).

    ``text_embeddings`` / ``tokens`` are aligned with ``ad_features``' rows.
    """
    order = np.argsort(ad_features["ad_id"].to_numpy(), kind="stable")
    ordered = ad_features.iloc[order]
    text = None if text_embeddings is None else _with_unknown_row(torch.from_numpy(text_embeddings[order]), 0.0)
    token_ids = attention_mask = None
    if tokens is not None:
        token_ids = _with_unknown_row(tokens[0][order], 0)
        # The unknown ad's "text" is one attended padding token, so pooling never divides by zero.
        attention_mask = _with_unknown_row(tokens[1][order], 0)
        attention_mask[UNKNOWN_AD_ROW, 0] = 1
    tensors = AdTensors(
        categorical=_with_unknown_row(_long(ordered, layout.ad_categorical), out_of_vocabulary_index),
        numeric=_with_unknown_row(_standardised(ordered, layout.ad_numeric, layout), 0.0),
        text_embedding=text,
        token_ids=token_ids,
        attention_mask=attention_mask,
    )
    return tensors, AdIndex(ordered["ad_id"].to_numpy())


def _padding_mask(lengths: np.ndarray, length: int) -> np.ndarray:
    # Left-padded: the last ``lengths`` slots hold real events.
    return np.arange(length)[None, :] < (length - lengths)[:, None]


def request_tensors(sequences: pd.DataFrame, layout: SequenceLayout, ad_index: AdIndex) -> RequestTensors:
    """Sequence tensors in the row order of ``sequences``; padding comes from the length columns."""
    padding = np.concatenate(
        [_padding_mask(sequences[column].to_numpy(), layout.length) for column in layout.segment_length_columns], axis=1
    )
    raw_ids = np.concatenate(
        [column_matrix(sequences, columns, np.int64) for columns in layout.segment_ad_columns], axis=1
    )
    ad_rows = np.where(padding, UNKNOWN_AD_ROW, ad_index.rows(raw_ids.reshape(-1)).reshape(raw_ids.shape))
    browse: dict[str, torch.Tensor] = {}
    if layout.browse_length_column is not None:
        browse_length = len(layout.browse_category_columns)
        browse = {
            "browse_category": _long(sequences, layout.browse_category_columns),
            "browse_age_hours": torch.from_numpy(column_matrix(sequences, layout.browse_age_columns, np.float32)),
            "browse_padding": torch.from_numpy(
                _padding_mask(sequences[layout.browse_length_column].to_numpy(), browse_length)
            ),
        }
    return RequestTensors(
        ad_rows=torch.from_numpy(ad_rows),
        padding=torch.from_numpy(padding),
        category=_long(sequences, layout.category_columns),
        click=_long(sequences, layout.click_columns),
        age_hours=torch.from_numpy(column_matrix(sequences, layout.age_columns, np.float32)),
        **browse,
    )


def impression_tensors(
    frame: pd.DataFrame, layout: InputLayout, ad_index: AdIndex | None, request_ids: np.ndarray | None
) -> ImpressionTensors:
    """Feature tensors of ``frame``; ``request_ids`` is the request order of the sequence tensors."""
    request_rows = np.zeros(len(frame), dtype=np.int64)
    if request_ids is not None:
        positions = pd.Index(request_ids).get_indexer(frame["request_id"])
        if (positions < 0).any():
            raise ValueError("some impressions have no behaviour-sequence row for their request_id")
        request_rows = positions.astype(np.int64)
    ad_rows = ad_index.rows(frame["ad_id"].to_numpy()) if ad_index is not None else np.zeros(len(frame), np.int64)
    return ImpressionTensors(
        ad_rows=torch.from_numpy(ad_rows),
        request_rows=torch.from_numpy(request_rows),
        user_categorical=_long(frame, layout.user_categorical),
        pair_categorical=_long(frame, layout.pair_categorical),
        user_numeric=_standardised(frame, layout.user_numeric, layout),
        pair_numeric=_standardised(frame, layout.pair_numeric, layout),
    )


def label_tensor(frame: pd.DataFrame) -> torch.Tensor:
    """(n, 2) float: click, conversion. Kept apart from the features so no label reaches a model."""
    return torch.from_numpy(column_matrix(frame, LABEL_COLUMNS, np.float32))


def make_batch(
    impressions: ImpressionTensors, rows: torch.Tensor, requests: RequestTensors | None, ads: AdTensors | None
) -> Batch:
    """The impressions at ``rows`` with each distinct request's sequence gathered once."""
    selected = impressions.take(rows)
    if requests is None:
        return Batch(impressions=selected, requests=None, ads=ads)
    unique_requests, request_index = torch.unique(selected.request_rows, return_inverse=True)
    return Batch(
        impressions=replace(selected, request_rows=request_index), requests=requests.take(unique_requests), ads=ads
    )


def request_grouped_order(request_rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order of the impressions that keeps each request's impressions next to each other.

    Requests are shuffled, so batches stay random, while a request's sequence is encoded once per batch.
    """
    request_rank = rng.permutation(int(request_rows.max(initial=0)) + 1)
    return np.argsort(request_rank[request_rows], kind="stable")
