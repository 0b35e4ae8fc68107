"""Post-hoc calibration fitted on the validation day and applied to any model's predictions.

Platt scaling is a one-feature logistic regression on logit(pCTR): two parameters, monotone, so it
keeps AUC exactly and fixes a shifted base rate or over-confident scores. Isotonic regression is a
free-form monotone step function: it can fix any monotone distortion but ties scores inside each step,
which can cost a little AUC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from adrank_pipelines.models.metrics import PROBABILITY_EPSILON, logit

# platt: logit-space, keeps AUC; isotonic: any monotone map; none: the identity, for models that are
# calibrated by construction (a logistic regression, a blend fitted on the validation day).
CalibrationChoice = Literal["platt", "isotonic", "none"]


@dataclass(frozen=True)
class Calibrator:
    """A fitted map from raw to calibrated pCTR (picklable)."""

    method: CalibrationChoice
    model: LogisticRegression | IsotonicRegression | None = None

    @property
    def is_identity(self) -> bool:
        return self.model is None

    def transform(self, probabilities: ArrayLike) -> np.ndarray:
        p = np.asarray(probabilities, dtype=np.float64)
        if self.model is None:
            return p
        if self.method == "platt":
            return np.asarray(self.model.predict_proba(logit(p)[:, None])[:, 1])
        return np.asarray(self.model.predict(p))


def fit_calibrator(labels: ArrayLike, probabilities: ArrayLike, method: CalibrationChoice = "platt") -> Calibrator:
    """Fit on held-out labels and the model's raw predictions for the same rows."""
    if method == "none":
        return Calibrator(method)
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if method == "platt":
        # Unpenalised: two parameters on ~10^5 rows need no shrinkage, and a penalty would pull the slope to 0.
        return Calibrator(method, LogisticRegression(C=np.inf).fit(logit(p)[:, None], y))
    # Bounded away from 0 and 1 so a bin without clicks cannot produce a certain prediction.
    isotonic = IsotonicRegression(y_min=PROBABILITY_EPSILON, y_max=1 - PROBABILITY_EPSILON, out_of_bounds="clip")
    return Calibrator(method, isotonic.fit(p, y))


def fit_calibrator_on_frame(
    predictions: pd.DataFrame, labelled: pd.DataFrame, method: CalibrationChoice = "platt"
) -> Calibrator:
    """Fit from a predictions frame (impression_id, pctr) and the rows holding its labels (impression_id, click)."""
    joined = predictions.merge(labelled[["impression_id", "click"]], on="impression_id", validate="one_to_one")
    return fit_calibrator(joined["click"].to_numpy(), joined["pctr"].to_numpy(), method)


def calibrate(calibrator: Calibrator, predictions: pd.DataFrame) -> pd.DataFrame:
    """The same frame (impression_id, pctr) with calibrated pctr."""
    return predictions.assign(pctr=calibrator.transform(predictions["pctr"].to_numpy()))
