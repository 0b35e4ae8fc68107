"""The CTR model every lifecycle version is: LightGBM on public request, user and ad columns.

Features are integer codes over vocabularies fixed by the world's configuration (and the full category list),
so a category first seen after training keeps its own code and every version reads the same columns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from adrank_pipelines.lifecycle.registry import CHAMPION, ModelVersion, resolve_alias
from adrank_pipelines.lifecycle.scenario_params import ModelParams
from adrank_pipelines.marketplace import MarketplaceConfig
from adrank_pipelines.marketplace.vocabulary import ALL_CATEGORIES

FEATURES = ("country", "age_bucket", "user_platform", "platform", "placement", "category", "ad_id", "hour", "position")
# One thread: on a busy 2-core machine OpenMP threads made a 10-row call about 12x and a fit about 10x slower.
_PREDICT_THREADS = 1


@dataclass(frozen=True)
class Vocabularies:
    """The values of each coded column, in code order."""

    values: dict[str, tuple[str, ...]]

    @classmethod
    def of_world(cls, config: MarketplaceConfig) -> Vocabularies:
        platforms = tuple(config.platforms)
        return cls(
            {
                "country": tuple(config.countries),
                "age_bucket": tuple(config.age_buckets),
                "user_platform": platforms,
                "platform": platforms,
                "placement": tuple(config.placements),
                "category": tuple(ALL_CATEGORIES),
            }
        )

    def encode(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The model's feature frame; a column's value outside its vocabulary is an error naming both."""
        missing = sorted(set(FEATURES) - set(rows.columns))
        if missing:
            raise KeyError(f"the rows lack the model's feature column(s) {missing}")
        coded = {}
        for name in FEATURES:
            if name not in self.values:
                coded[name] = rows[name].to_numpy(dtype=np.int32)
                continue
            codes = pd.Categorical(rows[name], categories=list(self.values[name])).codes
            if (codes < 0).any():
                unknown = sorted(set(rows[name]) - set(self.values[name]))
                raise ValueError(f"column '{name}' holds values outside the world's vocabulary: {unknown}")
            coded[name] = codes.astype(np.int32)
        return pd.DataFrame(coded)


def train_model(features: pd.DataFrame, clicks: np.ndarray, params: ModelParams, seed: int) -> lgb.Booster:
    if features.empty or len(np.unique(clicks)) < 2:
        raise ValueError("a lifecycle model needs training rows with both clicks and non-clicks")
    data = lgb.Dataset(features, label=clicks, categorical_feature=list(FEATURES), free_raw_data=True)
    booster_params = {
        "objective": "binary",
        "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves,
        "min_child_samples": params.min_child_samples,
        "num_threads": params.num_threads,
        "seed": seed,
        "deterministic": True,
        "verbose": -1,
    }
    return lgb.train(booster_params, data, num_boost_round=params.n_estimators)


def predict(model: lgb.Booster, features: pd.DataFrame) -> np.ndarray:
    scores: np.ndarray = np.asarray(model.predict(features, num_threads=_PREDICT_THREADS), dtype=np.float64)
    return scores


def broken_scores(scores: np.ndarray) -> np.ndarray:
    """What a broken deploy serves: the probability of no click (the wrong class's column read in serving), a
    bug that offline evaluation, which reads the right column, cannot see."""
    return 1.0 - scores


def save_model(model: lgb.Booster, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    model.save_model(str(partial))
    partial.replace(path)  # a file that exists is a whole model
    return path


def load_model(path: Path) -> lgb.Booster:
    if not path.is_file():
        raise FileNotFoundError(f"no lifecycle model file at {path}")
    return lgb.Booster(model_file=str(path))


def load_by_alias(uri: str, name: str, alias: str = CHAMPION) -> tuple[ModelVersion, lgb.Booster]:
    """The registered version ``alias`` points at (the ``champion`` by default) and its model, loaded from the
    artifact the version was registered with."""
    version = resolve_alias(uri, name, alias)
    return version, load_model(Path(version.source))


def p99_latency_ms(model: lgb.Booster, requests: list[pd.DataFrame]) -> float:
    """The 99th percentile of scoring one request's candidates at a time, in milliseconds of this thread's CPU.

    CPU time, not wall time: on a shared machine a wall-clock p99 measures whatever else runs (a 10-row call
    measured 100+ ms of wall time at load average 9 on 2 cores), not what the model costs a serving core."""
    if not requests:
        raise ValueError("no request to time")
    elapsed = []
    for candidates in requests:
        start = time.thread_time()
        model.predict(candidates, num_threads=_PREDICT_THREADS)
        elapsed.append((time.thread_time() - start) * 1000.0)
    return float(np.percentile(elapsed, 99))
