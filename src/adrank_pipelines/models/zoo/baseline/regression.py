"""The simple baseline: a logistic regression, by default on the ad's past CTR and the slot.

``ad_ctr_and_slot`` (the simulated world's AUC_base): [logit(ad_id_ctr), one-hot position], fitted
on the train days. ``ad_id_ctr`` is the past-only smoothed CTR of the ad, so the baseline is what a
marketplace gets from "rank by the ad's track record, discounted by slot". ``every_field`` (the click
logs' linear peer of the deep models): one-hot of every categorical column of the feature spec and
every standardised numeric one, the textbook logistic-regression CTR model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from adrank_pipelines.models.metrics import logit

AD_CTR_COLUMN = "ad_id_ctr"
POSITION_COLUMN = "position"
LABEL_COLUMN = "click"
BaselineFeatures = Literal["ad_ctr_and_slot", "every_field"]


@dataclass(frozen=True)
class BaselineColumns:
    """What the regression reads: one-hot columns, rates entered as their logit, standardised numbers."""

    one_hot: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()


AD_CTR_AND_SLOT = BaselineColumns(one_hot=(POSITION_COLUMN,), rates=(AD_CTR_COLUMN,))


def baseline_columns(features: BaselineFeatures, spec: Mapping[str, Any]) -> BaselineColumns:
    """The columns of ``features``: fixed for ``ad_ctr_and_slot``, the spec's roles for ``every_field``."""
    if features == "ad_ctr_and_slot":
        return AD_CTR_AND_SLOT
    return BaselineColumns(one_hot=tuple(spec["categorical"]), numeric=tuple(spec["numeric"]))


def _transformers(columns: BaselineColumns) -> list[tuple[str, Any, list[str]]]:
    transformers: list[tuple[str, Any, Sequence[str]]] = [
        # A value never seen in train gets all-zero dummies, i.e. the intercept's average.
        ("one_hot", OneHotEncoder(handle_unknown="ignore"), columns.one_hot),
        ("rate_logit", FunctionTransformer(logit, feature_names_out="one-to-one"), columns.rates),
        ("numeric", StandardScaler(), columns.numeric),
    ]
    return [(name, transformer, list(names)) for name, transformer, names in transformers if names]


def fit_baseline(train: pd.DataFrame, columns: BaselineColumns = AD_CTR_AND_SLOT, inverse_l2: float = 1.0) -> Pipeline:
    """Fit the regression on ``columns`` and ``click`` of ``train``; a picklable sklearn pipeline.

    ``inverse_l2`` is scikit-learn's ``C``: smaller means a stronger L2 penalty.
    """
    names = [*columns.one_hot, *columns.rates, *columns.numeric]
    pipeline = Pipeline(
        [
            ("features", ColumnTransformer(_transformers(columns))),
            ("logistic_regression", LogisticRegression(C=inverse_l2, max_iter=500)),
        ]
    )
    return pipeline.fit(train[names], train[LABEL_COLUMN].to_numpy())


def predict_baseline(baseline: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """impression_id, pctr for every row of ``frame``."""
    pctr = baseline.predict_proba(frame[list(baseline.feature_names_in_)])[:, 1]
    return pd.DataFrame({"impression_id": frame["impression_id"].to_numpy(), "pctr": pctr})
