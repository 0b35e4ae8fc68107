"""The simple baseline: historical ad CTR and position only.

A logistic regression on [logit(ad_id_ctr), one-hot position], fitted on the train days. ``ad_id_ctr``
is the past-only smoothed CTR of the ad, so the baseline is what a marketplace gets from "rank by the
ad's track record, discounted by slot". Its test-day AUC is AUC_base of the headroom formula.
"""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from adrank_pipelines.models.metrics import logit

AD_CTR_COLUMN = "ad_id_ctr"
POSITION_COLUMN = "position"
LABEL_COLUMN = "click"


def _baseline_pipeline() -> Pipeline:
    features = ColumnTransformer(
        [
            ("ad_ctr_logit", FunctionTransformer(logit, feature_names_out="one-to-one"), [AD_CTR_COLUMN]),
            # A position never seen in train gets all-zero dummies, i.e. the intercept's average slot.
            ("position", OneHotEncoder(handle_unknown="ignore"), [POSITION_COLUMN]),
        ]
    )
    return Pipeline([("features", features), ("logistic_regression", LogisticRegression(max_iter=500))])


def fit_baseline(train: pd.DataFrame) -> Pipeline:
    """Fit the baseline on rows with ``ad_id_ctr``, ``position`` and ``click``; a picklable sklearn pipeline."""
    return _baseline_pipeline().fit(train[[AD_CTR_COLUMN, POSITION_COLUMN]], train[LABEL_COLUMN].to_numpy())


def predict_baseline(baseline: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """impression_id, pctr for every row of ``frame``."""
    pctr = baseline.predict_proba(frame[[AD_CTR_COLUMN, POSITION_COLUMN]])[:, 1]
    return pd.DataFrame({"impression_id": frame["impression_id"].to_numpy(), "pctr": pctr})
