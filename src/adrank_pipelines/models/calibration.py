"""Post-hoc calibration fitted on the validation day and applied to any model's predictions.

Platt scaling is a one-feature logistic regression on logit(pCTR): two parameters, monotone, so it
keeps AUC exactly and fixes a shifted base rate or over-confident scores. Isotonic regression is a
free-form monotone step function: it can fix any monotone distortion but ties scores inside each step,
which can cost a little AUC. Platt by cold start adds the ad's cold-start flag (an ad the model never
trained on) and its product with logit(pCTR): ads the model never saw get a map of their own, fitted on
the validation day's new ads, since every model under-predicts them by the same factor on the
validation and test days (docs/adr/0028).
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

# platt: logit-space, keeps AUC; platt_cold_start: platt with a map of its own for cold-start ads;
# isotonic: any monotone map; none: the identity, for models that are calibrated by construction (a
# logistic regression, a blend fitted on the validation day).
CalibrationChoice = Literal["platt", "platt_cold_start", "isotonic", "none"]

# The flag of the model inputs and candidate features that platt_cold_start reads.
COLD_START_COLUMN = "is_cold_start_ad"
# The cold-start terms' log-odds standard error is about 1 / sqrt(clicks): below 50 clicks it passes
# +-15% and the segment keeps the plain Platt map instead.
DEFAULT_MIN_COLD_START_CLICKS = 50


@dataclass(frozen=True)
class Calibrator:
    """A fitted map from raw to calibrated pCTR (picklable)."""

    method: CalibrationChoice
    model: LogisticRegression | IsotonicRegression | None = None

    @property
    def is_identity(self) -> bool:
        return self.model is None

    @property
    def reads_cold_start(self) -> bool:
        return self.method == "platt_cold_start"

    def transform(self, probabilities: ArrayLike, cold_start: ArrayLike | None = None) -> np.ndarray:
        """Calibrated pCTR; ``cold_start`` (one flag per row) is read by a ``platt_cold_start`` calibrator only."""
        p = np.asarray(probabilities, dtype=np.float64)
        if self.model is None:
            return p
        if self.method == "isotonic":
            return np.asarray(self.model.predict(p))
        if self.reads_cold_start and cold_start is None:
            raise ValueError(f"a platt_cold_start calibrator needs the '{COLD_START_COLUMN}' flag of every row")
        inputs = _platt_inputs(p, cold_start if self.reads_cold_start else None)
        return np.asarray(self.model.predict_proba(inputs)[:, 1])


def _platt_inputs(probabilities: np.ndarray, cold_start: ArrayLike | None) -> np.ndarray:
    scores = logit(probabilities)
    if cold_start is None:
        return scores[:, None]
    flags = np.asarray(cold_start, dtype=np.float64)
    if flags.shape != scores.shape:
        raise ValueError(f"'{COLD_START_COLUMN}' has {flags.size} flags for {scores.size} scores")
    return np.column_stack([scores, flags, flags * scores])


def fit_calibrator(
    labels: ArrayLike,
    probabilities: ArrayLike,
    method: CalibrationChoice = "platt",
    cold_start: ArrayLike | None = None,
    min_cold_start_clicks: int = DEFAULT_MIN_COLD_START_CLICKS,
) -> Calibrator:
    """Fit on held-out labels and the model's raw predictions for the same rows (and, for
    ``platt_cold_start``, their cold-start flags; with fewer than ``min_cold_start_clicks`` clicks on
    cold-start rows it returns a plain ``platt`` calibrator)."""
    if method == "none":
        return Calibrator(method)
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if method == "platt_cold_start":
        if cold_start is None:
            raise ValueError(f"platt_cold_start calibration needs the '{COLD_START_COLUMN}' flag of every row")
        flags = np.asarray(cold_start, dtype=bool)
        if y[flags].sum() < min_cold_start_clicks:
            method = "platt"
    if method in ("platt", "platt_cold_start"):
        inputs = _platt_inputs(p, cold_start if method == "platt_cold_start" else None)
        # Unpenalised: two to four parameters on ~10^5 rows need no shrinkage, and a penalty would pull the slope to 0.
        return Calibrator(method, LogisticRegression(C=np.inf, max_iter=1000).fit(inputs, y))
    # Bounded away from 0 and 1 so a bin without clicks cannot produce a certain prediction.
    isotonic = IsotonicRegression(y_min=PROBABILITY_EPSILON, y_max=1 - PROBABILITY_EPSILON, out_of_bounds="clip")
    return Calibrator(method, isotonic.fit(p, y))


def fit_calibrator_on_frame(
    predictions: pd.DataFrame,
    labelled: pd.DataFrame,
    method: CalibrationChoice = "platt",
    min_cold_start_clicks: int = DEFAULT_MIN_COLD_START_CLICKS,
) -> Calibrator:
    """Fit from a predictions frame (impression_id, pctr) and the rows holding its labels (impression_id,
    click, and is_cold_start_ad for ``platt_cold_start``)."""
    columns = ["impression_id", "click"] + ([COLD_START_COLUMN] if method == "platt_cold_start" else [])
    missing = [column for column in columns if column not in labelled]
    if missing:
        raise ValueError(f"calibration '{method}' reads columns {missing}, which the labelled rows lack")
    joined = predictions.merge(labelled[columns], on="impression_id", validate="one_to_one")
    flags = joined[COLD_START_COLUMN].to_numpy(dtype=bool) if method == "platt_cold_start" else None
    return fit_calibrator(joined["click"].to_numpy(), joined["pctr"].to_numpy(), method, flags, min_cold_start_clicks)


def calibrated_pctr(calibrator: Calibrator, pctr: ArrayLike, rows: pd.DataFrame, source: str) -> np.ndarray:
    """``pctr`` of ``rows`` (the rows of ``source``, a dataset or frame named in errors) through the calibrator."""
    if not calibrator.reads_cold_start:
        return calibrator.transform(pctr)
    if COLD_START_COLUMN not in rows:
        raise ValueError(f"{source} has no '{COLD_START_COLUMN}' column, which its platt_cold_start calibrator reads")
    return calibrator.transform(pctr, rows[COLD_START_COLUMN].to_numpy(dtype=bool))
