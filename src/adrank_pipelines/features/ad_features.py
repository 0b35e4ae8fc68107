"""One row per ad: the ad-side inputs of the text tower and of the FAISS index."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from adrank_pipelines.features.vocabulary import Vocabulary, encoded_column_name

AD_ENCODED_COLUMNS = ["ad_id", "advertiser_id", "category"]


def ad_features(
    ads: pd.DataFrame, vocabularies: Mapping[str, Vocabulary], train_ad_ids: Collection[int]
) -> pd.DataFrame:
    """Ids with their vocabulary indices, category, creative text, log bid, first day and cold-start flag.

    Cold-start ads are those without an impression in the train split (``train_ad_ids``).
    """
    ordered = ads.sort_values("ad_id").reset_index(drop=True)
    features = ordered[["ad_id", "advertiser_id", "category", "title", "description", "first_day"]].copy()
    for name in AD_ENCODED_COLUMNS:
        features[encoded_column_name(name)] = vocabularies[name].encode(features[name])
    features["log_bid"] = np.log(ordered["bid"].to_numpy(dtype=np.float64)).astype(np.float32)
    features["is_cold_start_ad"] = ~features["ad_id"].isin(train_ad_ids)
    return features
