"""Model-input rows of (request, candidate ad) pairs that were never logged, as serving would build them.

A logged impression gets its features from the features pipeline; a candidate the retrieval stage
proposes has no impression, so its row is assembled here from the same parts: the request's context
and its user's attributes, the ad's attributes, the same vocabularies, hashed crosses and context
transforms (``assemble.py``), the browsing affinity of the request's organic views to the ad's
category (``browsing.py``), target statistics from a daily snapshot (``snapshot.py``), and a
position, which is not known before the auction: every candidate is scored for one reference slot.

Both sides are tables of a few thousand rows; a batch of pairs is two row-index arrays into them.
Every feature but the statistics and the browsing affinity depends on one side's row alone (a cross
on the stable hashes of its two columns), so each side is encoded once, one value per side row
(:func:`side_columns`), and a batch of pairs is a gather of those arrays: the same values as encoding
the gathered raw columns, without the per-pair work. Text columns are categoricals on the sides, which
keeps the vocabulary lookups and the hashes cheap (the hashes depend on the values only, not on the
dtype that holds them).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.features.assemble import CONTEXT_SOURCES, ID_COLUMNS, context_columns
from adrank_pipelines.features.browsing import browse_affinity
from adrank_pipelines.features.crosses import cross_bucket, cross_column_name, stable_hash
from adrank_pipelines.features.enrich import AD_ATTRIBUTES, ADVERTISER_ATTRIBUTES, USER_ATTRIBUTES
from adrank_pipelines.features.snapshot import PairStatistics
from adrank_pipelines.features.vocabulary import Vocabulary, encoded_column_name

REQUEST_COLUMNS = ["request_id", "user_id", "event_time", "day", "hour", "placement", "platform"]
# A candidate has no logged impression: its impression_id is its row number in the batch, which is
# what keys the model scorers' outputs. Nor has it a split: it is scored, never trained on.
CANDIDATE_ID_COLUMNS = [name for name in ID_COLUMNS if name != "split"]


def _categorical(column: pd.Series) -> pd.Categorical:
    # Categories in order of appearance: every reader codes by value, and this costs a quarter of
    # astype("category") on the request path's few-row frames.
    codes, uniques = pd.factorize(column)
    return pd.Categorical.from_codes(codes, categories=uniques)


def _text_as_categorical(frame: pd.DataFrame) -> pd.DataFrame:
    text = [name for name in frame.columns if pd.api.types.is_string_dtype(frame[name].dtype)]
    return frame.assign(**{name: _categorical(frame[name]) for name in text})


def request_side(requests: pd.DataFrame, users: pd.DataFrame, position: int) -> pd.DataFrame:
    """One row per request: its context, its user's attributes (named as in the enriched impressions;
    missing for a user ``users`` lacks) and the slot (``position``) every candidate is scored for."""
    attributes = users[list(USER_ATTRIBUTES)].rename(columns=USER_ATTRIBUTES).set_index("user_id")
    if not attributes.index.is_unique:
        duplicated = attributes.index[attributes.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"the users table has more than one row for user_id {duplicated}")
    joined = attributes.reindex(requests["user_id"].to_numpy()).reset_index(drop=True)
    side = pd.concat([requests[REQUEST_COLUMNS].reset_index(drop=True), joined], axis=1)
    return _text_as_categorical(side.assign(position=np.int64(position)))


def ad_side(ads: pd.DataFrame, advertisers: pd.DataFrame, ad_features: pd.DataFrame) -> pd.DataFrame:
    """One row per ad: its attributes and its advertiser's (named as in the enriched impressions) and
    the cold-start flag of the features pipeline's ad table."""
    side = (
        ads[AD_ATTRIBUTES]
        .merge(
            advertisers[list(ADVERTISER_ATTRIBUTES)].rename(columns=ADVERTISER_ATTRIBUTES),
            on="advertiser_id",
            how="left",
            validate="many_to_one",
        )
        .merge(ad_features[["ad_id", "is_cold_start_ad"]], on="ad_id", how="left", validate="one_to_one")
    )
    return _text_as_categorical(side)


def _rows(index: pd.Index, ids: np.ndarray, what: str, source: str) -> np.ndarray:
    rows = index.get_indexer(pd.Index(ids))
    if (rows < 0).any():
        unknown = np.unique(ids[rows < 0])
        raise ValueError(f"{len(unknown)} {what} of the candidates are not in {source}, e.g. {unknown[:5].tolist()}")
    return rows


@dataclass(frozen=True)
class FeatureRecipe:
    """What the features pipeline built its model inputs with (target keys live in the snapshot)."""

    vocabularies: Mapping[str, Vocabulary]
    cross_pairs: Sequence[tuple[str, str]]
    n_hash_buckets: int
    browse_length: int  # organic views per request the browsing affinity counts


@dataclass(frozen=True)
class CandidateSides:
    """The request side and the ad side of the candidate pairs, and how to find a row of each."""

    requests: pd.DataFrame
    ads: pd.DataFrame
    sequences: pd.DataFrame  # the requests' rows of behaviour_sequences (their organic views)

    def rows(self, request_ids: np.ndarray, ad_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row positions of each pair's request and ad; unknown ids are an error naming them."""
        request_rows = _rows(pd.Index(self.requests["request_id"]), request_ids, "request_id(s)", "the requests")
        return request_rows, _rows(pd.Index(self.ads["ad_id"]), ad_ids, "ad_id(s)", "the ads table")


def candidate_sides(
    request_ids: np.ndarray,
    requests: pd.DataFrame,
    users: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    ad_features: pd.DataFrame,
    sequences: pd.DataFrame,
    position: int,
) -> CandidateSides:
    """The sides of the candidates of ``request_ids``: their requests (scored in slot ``position``) and
    behaviour sequences, and every ad."""
    return CandidateSides(
        requests=request_side(requests.loc[requests["request_id"].isin(request_ids)], users, position),
        ads=ad_side(ads, advertisers, ad_features),
        sequences=sequences.loc[sequences["request_id"].isin(request_ids)],
    )


@dataclass(frozen=True)
class SideColumns:
    """One side's part of its pairs' features, one value per side row: ids, vocabulary codes and
    context features by model-input column, and the stable hash of each crossed raw column."""

    features: dict[str, Any]  # NumPy or pandas arrays; both gather with .take(rows)
    hashes: dict[str, np.ndarray]


def side_columns(side: pd.DataFrame, recipe: FeatureRecipe) -> SideColumns:
    """What the pairs of ``side`` (the request side or the ad side) read from it under ``recipe``."""
    present = set(side.columns)
    values: dict[str, Any] = {name: side[name].array for name in CANDIDATE_ID_COLUMNS if name in present}
    values |= {
        encoded_column_name(name): vocabulary.encode(side[name])
        for name, vocabulary in recipe.vocabularies.items()
        if name in present
    }
    values |= context_columns(side)
    crossed = dict.fromkeys(column for pair in recipe.cross_pairs for column in pair)
    return SideColumns(values, {name: stable_hash(side[name]) for name in crossed if name in present})


# The side columns of the last sides featurised, each with the frame and recipe it came from. Ranking
# featurises the same two sides batch after batch, and the service the same ad side request after
# request; identity (not equality) decides a hit, and the entries keep those objects alive, so an id
# is never reused while cached. Sides are never modified in place.
_SIDE_COLUMNS: list[tuple[pd.DataFrame, FeatureRecipe, SideColumns]] = []
_SIDE_COLUMNS_KEPT = 4
_SIDE_COLUMNS_LOCK = threading.Lock()


def _cached_side_columns(side: pd.DataFrame, recipe: FeatureRecipe) -> SideColumns:
    with _SIDE_COLUMNS_LOCK:
        for position, (frame, cached_recipe, columns) in enumerate(_SIDE_COLUMNS):
            if frame is side and cached_recipe is recipe:
                _SIDE_COLUMNS.insert(0, _SIDE_COLUMNS.pop(position))
                return columns
    columns = side_columns(side, recipe)
    with _SIDE_COLUMNS_LOCK:
        _SIDE_COLUMNS.insert(0, (side, recipe, columns))
        del _SIDE_COLUMNS[_SIDE_COLUMNS_KEPT:]
    return columns


class _PairGather:
    """Gathers the pairs' values from whichever side holds each column."""

    def __init__(self, sides: CandidateSides, request_rows: np.ndarray, ad_rows: np.ndarray, recipe: FeatureRecipe):
        self._sides = (
            (_cached_side_columns(sides.requests, recipe), request_rows),
            (_cached_side_columns(sides.ads, recipe), ad_rows),
        )

    def value(self, name: str) -> Any:
        for columns, rows in self._sides:
            if name in columns.features:
                return columns.features[name].take(rows)
        raise KeyError(f"candidate features: the column {name!r} is on neither the request side nor the ad side")

    def hash(self, name: str) -> np.ndarray:
        for columns, rows in self._sides:
            if name in columns.hashes:
                return columns.hashes[name].take(rows)
        raise KeyError(f"candidate features: the crossed column {name!r} is on neither side")


def candidate_features(
    sides: CandidateSides,
    request_rows: np.ndarray,
    ad_rows: np.ndarray,
    recipe: FeatureRecipe,
    statistics: PairStatistics,
) -> pd.DataFrame:
    """Model-input columns of the pairs (``request_rows[i]``, ``ad_rows[i]``), labels and split excepted."""
    pairs = _PairGather(sides, request_rows, ad_rows, recipe)
    columns: dict[str, Any] = {
        name: np.arange(len(request_rows), dtype=np.int64) if name == "impression_id" else pairs.value(name)
        for name in CANDIDATE_ID_COLUMNS
    }
    columns |= {encoded_column_name(name): pairs.value(encoded_column_name(name)) for name in recipe.vocabularies}
    columns |= {
        cross_column_name(left, right): cross_bucket(pairs.hash(left), pairs.hash(right), recipe.n_hash_buckets)
        for left, right in recipe.cross_pairs
    }
    columns |= {name: pairs.value(name) for name in CONTEXT_SOURCES}
    columns |= statistics.statistics(request_rows, ad_rows)
    columns |= browse_affinity(
        columns["request_id"], columns[encoded_column_name("category")], sides.sequences, recipe.browse_length
    )
    return pd.DataFrame(columns)


def query_features(
    sides: CandidateSides, request_rows: np.ndarray, recipe: FeatureRecipe, statistics: PairStatistics
) -> pd.DataFrame:
    """Model-input rows of requests alone, one per ``request_rows`` entry: what a two-tower model's user
    tower reads to build a retrieval query. A query has no target ad, so the ad-side columns are
    those of the first ad of ``sides.ads``; the user tower reads none of them."""
    if sides.ads.empty:
        raise ValueError("no ads to build retrieval queries against: the ads table is empty")
    return candidate_features(sides, request_rows, np.zeros(len(request_rows), dtype=np.int64), recipe, statistics)
