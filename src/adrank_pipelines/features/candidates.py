"""Model-input rows of (request, candidate ad) pairs that were never logged, as serving would build them.

A logged impression gets its features from the features pipeline; a candidate the retrieval stage
proposes has no impression, so its row is assembled here from the same parts: the request's context
and its user's attributes, the ad's attributes, the same vocabularies, hashed crosses and context
transforms (``assemble.py``), the browsing affinity of the request's organic views to the ad's
category (``browsing.py``), target statistics from a daily snapshot (``snapshot.py``), and a
position, which is not known before the auction: every candidate is scored for one reference slot.

Both sides are tables of a few thousand rows; a batch of pairs is two row-index arrays into them,
so assembling a million pairs is a few gathers. Text columns are categoricals on the sides, which
keeps the gathers, the vocabulary lookups and the cross hashes cheap (the hashes depend on the
values only, not on the dtype that holds them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.features.assemble import ID_COLUMNS, context_features, cross_features
from adrank_pipelines.features.browsing import with_browse_affinity
from adrank_pipelines.features.enrich import AD_ATTRIBUTES, ADVERTISER_ATTRIBUTES, USER_ATTRIBUTES
from adrank_pipelines.features.snapshot import PairStatistics
from adrank_pipelines.features.vocabulary import Vocabulary, encode_columns

REQUEST_COLUMNS = ["request_id", "user_id", "event_time", "day", "hour", "placement", "platform"]
# A candidate has no logged impression: its impression_id is its row number in the batch, which is
# what keys the model scorers' outputs. Nor has it a split: it is scored, never trained on.
CANDIDATE_ID_COLUMNS = [name for name in ID_COLUMNS if name != "split"]


def _text_as_categorical(frame: pd.DataFrame) -> pd.DataFrame:
    text = [name for name in frame.columns if pd.api.types.is_string_dtype(frame[name].dtype)]
    return frame.astype(dict.fromkeys(text, "category"))


def request_side(requests: pd.DataFrame, users: pd.DataFrame, position: int) -> pd.DataFrame:
    """One row per request: its context, its user's attributes (named as in the enriched impressions)
    and the slot (``position``) every candidate is scored for."""
    side = requests[REQUEST_COLUMNS].merge(
        users[list(USER_ATTRIBUTES)].rename(columns=USER_ATTRIBUTES), on="user_id", how="left", validate="many_to_one"
    )
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


def candidate_features(
    sides: CandidateSides,
    request_rows: np.ndarray,
    ad_rows: np.ndarray,
    recipe: FeatureRecipe,
    statistics: PairStatistics,
) -> pd.DataFrame:
    """Model-input columns of the pairs (``request_rows[i]``, ``ad_rows[i]``), labels and split excepted."""
    raw = pd.concat(
        [
            sides.requests.take(request_rows).reset_index(drop=True),
            sides.ads.take(ad_rows).reset_index(drop=True),
        ],
        axis=1,
    )
    raw["impression_id"] = np.arange(len(raw), dtype=np.int64)
    features = pd.concat(
        [
            raw[CANDIDATE_ID_COLUMNS],
            encode_columns(raw, recipe.vocabularies),
            cross_features(raw, recipe.cross_pairs, recipe.n_hash_buckets),
            context_features(raw),
            statistics.statistics(request_rows, ad_rows),
        ],
        axis=1,
    )
    return with_browse_affinity(features, sides.sequences, recipe.browse_length)


def query_features(
    sides: CandidateSides, request_rows: np.ndarray, recipe: FeatureRecipe, statistics: PairStatistics
) -> pd.DataFrame:
    """Model-input rows of requests alone, one per ``request_rows`` entry: what a two-tower model's user
    tower reads to build a retrieval query. A query has no target ad, so the ad-side columns are
    those of the first ad of ``sides.ads``; the user tower reads none of them."""
    if sides.ads.empty:
        raise ValueError("no ads to build retrieval queries against: the ads table is empty")
    return candidate_features(sides, request_rows, np.zeros(len(request_rows), dtype=np.int64), recipe, statistics)
