"""Which model-input column feeds which part of a CTR model, read from the feature spec (a plain dict).

The features package writes the spec; this module only reads it, so models never import features.
A layout is JSON-ready (it is part of a saved model's constructor config).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SequenceLayout:
    """Behaviour-sequence columns: one segment per raw-ad-id field, companions of the first segment."""

    length: int
    segment_ad_columns: list[list[str]]  # per segment, its ad id columns oldest first
    segment_length_columns: list[str]  # per segment, its count of real (non-padding) events
    category_columns: list[str]
    category_size: int
    click_columns: list[str]
    age_columns: list[str]
    # Organic views: a segment of their own length, categories and ages only (empty = none logged).
    browse_category_columns: list[str] = field(default_factory=list)
    browse_age_columns: list[str] = field(default_factory=list)
    browse_length_column: str | None = None


@dataclass(frozen=True)
class InputLayout:
    """Column roles: the ad tower's, the user tower's, and features of the (user, ad) pair."""

    user_categorical: dict[str, int]  # column -> embedding rows
    pair_categorical: dict[str, int]
    ad_categorical: dict[str, int]  # vocabulary index columns of the ad table
    user_numeric: list[str]
    pair_numeric: list[str]
    ad_numeric: list[str]
    numeric_mean: dict[str, float] = field(default_factory=dict)  # standardisation, fitted on train
    numeric_std: dict[str, float] = field(default_factory=dict)
    sequences: SequenceLayout | None = None
    text_width: int = 0  # width of the pooled text embedding; 0 = no text tower

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> InputLayout:
        sequences = payload.get("sequences")
        return cls(**{**payload, "sequences": SequenceLayout(**sequences) if sequences else None})

    @property
    def has_towers(self) -> bool:
        """Text and sequences are both there: the transformer model applies, else field attention."""
        return self.sequences is not None and self.text_width > 0 and bool(self.ad_categorical)


def _depends_on_ad(names: Sequence[str], ad_side_sources: Collection[str]) -> bool:
    return any(source in name for name in names for source in ad_side_sources)


def sequence_layout(sequences: Mapping[str, Any]) -> SequenceLayout:
    fields = sequences["fields"]
    raw_id_fields = [entry for entry in fields.values() if entry["kind"] == "raw_id"]
    # The impression history (its length in the sequences' own column) comes first; its companion
    # fields (category, click, age) describe its slots.
    raw_id_fields.sort(key=lambda entry: "length_column" in entry)
    by_kind = {entry["kind"]: entry for entry in fields.values() if entry["kind"] != "raw_id"}
    browse = by_kind.get("browse_vocabulary")
    return SequenceLayout(
        length=int(sequences["length"]),
        segment_ad_columns=[list(entry["columns"]) for entry in raw_id_fields],
        segment_length_columns=[entry.get("length_column", sequences["length_column"]) for entry in raw_id_fields],
        category_columns=list(by_kind["vocabulary"]["columns"]),
        category_size=int(by_kind["vocabulary"]["size"]),
        click_columns=list(by_kind["flag"]["columns"]),
        age_columns=list(by_kind["numeric"]["columns"]),
        browse_category_columns=list(browse["columns"]) if browse else [],
        browse_age_columns=list(by_kind["browse_numeric"]["columns"]) if browse else [],
        browse_length_column=browse["length_column"] if browse else None,
    )


def _numeric_statistics(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
    values = frame[list(columns)].to_numpy(dtype=np.float64)
    std = values.std(axis=0) if len(values) else np.ones(len(columns))
    mean = values.mean(axis=0) if len(values) else np.zeros(len(columns))
    # A constant column would divide by zero; it carries no signal, so leave it centred at 0.
    std = np.where(std > 1e-9, std, 1.0)
    return dict(zip(columns, mean.tolist(), strict=True)), dict(zip(columns, std.tolist(), strict=True))


def input_layout(
    spec: Mapping[str, Any],
    train: pd.DataFrame,
    ad_features: pd.DataFrame | None,
    ad_side_sources: Collection[str],
    text_width: int,
    excluded_columns: Collection[str] = (),
) -> InputLayout:
    """Split the spec's columns by role; with no ad table, text or sequences every column is a pair feature.

    ``excluded_columns`` are left out of every role.
    """
    categorical = {
        name: int(entry["size"]) for name, entry in spec["categorical"].items() if name not in excluded_columns
    }
    numeric = [name for name in spec["numeric"] if name not in excluded_columns]
    ad_columns = set(ad_features.columns) if ad_features is not None else set()
    sequences = spec.get("sequences")
    if not (sequences and ad_columns and text_width):
        layout_fields: dict[str, Any] = {
            "user_categorical": {},
            "pair_categorical": categorical,
            "ad_categorical": {},
            "user_numeric": [],
            "pair_numeric": numeric,
            "ad_numeric": [],
        }
    else:
        ad_categorical = {name: size for name, size in categorical.items() if name in ad_columns}
        ad_numeric = [name for name in numeric if name in ad_columns]
        is_pair_categorical = {
            name: _depends_on_ad(spec["categorical"][name]["source"], ad_side_sources) for name in categorical
        }
        layout_fields = {
            "user_categorical": {n: s for n, s in categorical.items() if not is_pair_categorical[n]},
            "pair_categorical": {
                n: s for n, s in categorical.items() if is_pair_categorical[n] and n not in ad_categorical
            },
            "ad_categorical": ad_categorical,
            "user_numeric": [n for n in numeric if not _depends_on_ad([n], ad_side_sources)],
            "pair_numeric": [n for n in numeric if _depends_on_ad([n], ad_side_sources) and n not in ad_numeric],
            "ad_numeric": ad_numeric,
        }
    # The ad table's numeric columns are standardised with the ad table's own statistics.
    mean, std = _numeric_statistics(train, layout_fields["user_numeric"] + layout_fields["pair_numeric"])
    if layout_fields["ad_numeric"]:
        if ad_features is None:
            raise ValueError("the layout has ad-side numeric columns but no ad table to standardise them with")
        ad_mean, ad_std = _numeric_statistics(ad_features, layout_fields["ad_numeric"])
        mean, std = mean | ad_mean, std | ad_std
    return InputLayout(
        **layout_fields,
        numeric_mean=mean,
        numeric_std=std,
        sequences=sequence_layout(sequences) if layout_fields["ad_categorical"] and sequences else None,
        text_width=text_width if layout_fields["ad_categorical"] else 0,
    )
