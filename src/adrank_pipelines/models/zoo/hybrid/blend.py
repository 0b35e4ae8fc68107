"""Hybrids of other zoo models' pCTR: a logit-space blend fitted on the validation day, or LightGBM with
their logits as extra features.

``blend``: an unpenalised logistic regression on the upstream models' logits, fitted on the validation
day where every upstream score is out-of-sample: a weighted average in logit space whose intercept also
calibrates it. ``feature``: a new LightGBM whose inputs add the upstream logits; on the train days those
scores are in-sample (the upstream models were fitted there), so it tends to over-trust them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from adrank_pipelines.models.metrics import logit
from adrank_pipelines.models.zoo.lightgbm.booster import (
    LABEL_COLUMN,
    LightGBMParams,
    LightGBMRanker,
    predict_lightgbm,
    select_features,
    train_lightgbm_on_features,
)

HybridMethod = Literal["blend", "feature"]
LOGIT_SUFFIX = "_logit"


@dataclass(frozen=True)
class HybridRanker:
    """What combines the ``models``' pCTR: the blend's weights, or the LightGBM that reads their logits."""

    method: HybridMethod
    models: tuple[str, ...]
    blend: LogisticRegression | None = None
    ranker: LightGBMRanker | None = None


def _logits(models: Sequence[str], pctr: Mapping[str, np.ndarray], n_rows: int) -> np.ndarray:
    missing = [name for name in models if name not in pctr]
    if missing:
        raise ValueError(f"the hybrid needs the pCTR of {missing}; it was given {sorted(pctr)}")
    columns = [np.asarray(pctr[name], dtype=np.float64) for name in models]
    wrong = [name for name, column in zip(models, columns, strict=True) if len(column) != n_rows]
    if wrong:
        raise ValueError(f"the pCTR of {wrong} does not hold one score per row ({n_rows} rows)")
    return np.column_stack([logit(column) for column in columns]) if columns else np.zeros((n_rows, 0))


def _with_logit_features(frame: pd.DataFrame, models: Sequence[str], pctr: Mapping[str, np.ndarray]) -> pd.DataFrame:
    logits = _logits(models, pctr, len(frame))
    return frame.assign(**{f"{name}{LOGIT_SUFFIX}": logits[:, i] for i, name in enumerate(models)})


def train_hybrid(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    spec: Mapping[str, Any],
    upstream_train: Mapping[str, np.ndarray],
    upstream_valid: Mapping[str, np.ndarray],
    models: Sequence[str],
    method: HybridMethod,
    lightgbm: LightGBMParams,
) -> HybridRanker:
    """Fit the hybrid of ``method`` over ``models`` (their pCTR of each train / valid row, in row order)."""
    if method == "blend":
        blend = LogisticRegression(C=np.inf).fit(
            _logits(models, upstream_valid, len(valid)), valid[LABEL_COLUMN].to_numpy()
        )
        return HybridRanker("blend", tuple(models), blend=blend)
    features = select_features(spec, lightgbm).with_numeric(tuple(f"{name}{LOGIT_SUFFIX}" for name in models))
    ranker = train_lightgbm_on_features(
        _with_logit_features(train, models, upstream_train),
        _with_logit_features(valid, models, upstream_valid),
        features,
        lightgbm,
    )
    return HybridRanker("feature", tuple(models), ranker=ranker)


def predict_hybrid(hybrid: HybridRanker, frame: pd.DataFrame, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
    """pCTR of every row of ``frame`` from the upstream models' pCTR of the same rows."""
    if hybrid.blend is not None:
        return np.asarray(hybrid.blend.predict_proba(_logits(hybrid.models, upstream, len(frame)))[:, 1])
    if hybrid.ranker is None:
        raise ValueError(f"a '{hybrid.method}' hybrid was saved without its LightGBM")
    scored = _with_logit_features(frame, hybrid.models, upstream)
    return predict_lightgbm(hybrid.ranker, scored)["pctr"].to_numpy()
