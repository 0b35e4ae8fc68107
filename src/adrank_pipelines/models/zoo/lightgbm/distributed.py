"""LightGBM trained with lightgbm.dask on the run's Dask cluster (``ctr_models.lightgbm.engine: dask``).

lightgbm.dask has no early stopping, so the booster grows every ``n_estimators`` tree and the best
iteration is then chosen the way ``lgb.early_stopping`` would: the first iteration whose validation
AUC no later one beats within ``early_stopping_rounds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.dataframe as dd
import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import get_client
from lightgbm.dask import DaskLGBMClassifier
from sklearn.metrics import roc_auc_score

from adrank_pipelines.columns import column_matrix


def dask_booster(
    train: pd.DataFrame, columns: Sequence[str], categorical: Sequence[str], label: str, params: dict[str, Any]
) -> lgb.Booster:
    """A booster of ``params["n_estimators"]`` trees fitted data-parallel over the client's workers.

    Raises:
        ValueError: when no Dask client runs (``dask.enabled`` is false in this environment).
    """
    try:
        client = get_client()
    except ValueError as error:
        raise ValueError(
            "ctr_models.lightgbm.engine is 'dask' but no Dask client is running: run with --env dask "
            "(dask.enabled: true) or set ctr_models.lightgbm.engine: local"
        ) from error
    n_workers = max(len(client.scheduler_info()["workers"]), 1)
    # Persisted before features and label are split: lightgbm.dask needs their partitions to line up,
    # and two lazy selections of one unpersisted frame may be partitioned differently.
    frame = dd.from_pandas(train[[*columns, label]], npartitions=n_workers).persist()
    model = DaskLGBMClassifier(client=client, **params)
    model.fit(frame[list(columns)], frame[label], categorical_feature=list(categorical))
    booster: lgb.Booster = model.to_local().booster_
    return booster


def early_stopped_iteration(
    booster: lgb.Booster, valid: pd.DataFrame, columns: Sequence[str], label: str, patience: int
) -> tuple[int, float]:
    """The best iteration (1-based) and its validation AUC, with ``lgb.early_stopping``'s rule."""
    features = column_matrix(valid, columns, np.float64)
    labels = valid[label].to_numpy()
    raw = np.zeros(len(valid))
    best_iteration, best_auc = 0, -np.inf
    for iteration in range(booster.current_iteration()):
        raw += np.asarray(booster.predict(features, start_iteration=iteration, num_iteration=1, raw_score=True))
        auc = float(roc_auc_score(labels, raw))
        if auc > best_auc:
            best_iteration, best_auc = iteration, auc
        elif iteration - best_iteration >= patience:
            break
    return best_iteration + 1, best_auc
