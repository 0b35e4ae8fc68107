"""Drift of what the model outputs and of what it is judged on: scores, labels, calibration, quality.

- prediction drift: PSI and KS of the pCTR distribution, current window vs the reference window;
- label drift: the click rate, current vs reference;
- calibration drift: mean predicted / observed CTR, current vs the validation day (the day the model
  was selected and calibrated on, so a model that starts out miscalibrated is not "drifting");
- performance decay: AUC and logloss, current vs the validation day.

Each window is a frame with ``pctr`` and ``click`` (``scored_windows`` builds them from a predictions
table and the model inputs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from adrank_pipelines.models.metrics import auc, calibration_ratio, logit
from adrank_pipelines.monitoring.feature_drift import MonitoredFeature, feature_drift, fit_reference_profile
from adrank_pipelines.monitoring.significance import (
    auc_drop_p_value,
    auc_standard_error,
    calibration_ratio_p_value,
    mean_increase_p_value,
    two_proportion_p_value,
)
from adrank_pipelines.monitoring.statistics import ComparedWindows, DriftStatistic

SCORE, LABEL = "pctr", "click"
CTR_CHANGE, CALIBRATION_CHANGE, AUC_DROP, LOGLOSS_INCREASE = (
    "ctr_change",
    "calibration_change",
    "auc_drop",
    "logloss_increase",
)


def scored_windows(
    predictions: pd.DataFrame, labelled: Mapping[str, pd.DataFrame], dataset: str = "predictions"
) -> dict[str, pd.DataFrame]:
    """``pctr`` and ``click`` per window the predictions score (their ``split`` names the window).

    A window the predictions do not cover is left out; one they cover only in part is an error: the
    predictions were made on other model inputs, and joining them would pair scores with wrong labels.
    """
    missing = sorted({"impression_id", "split", SCORE} - set(predictions.columns))
    if missing:
        raise KeyError(f"dataset '{dataset}' lacks column(s) {missing}")
    windows: dict[str, pd.DataFrame] = {}
    for window, frame in labelled.items():
        scores = predictions.loc[predictions["split"] == window, ["impression_id", SCORE]]
        if scores.empty or frame.empty:
            continue
        joined = frame[["impression_id", LABEL]].merge(scores, on="impression_id", how="inner", validate="one_to_one")
        if len(joined) != len(frame) or len(joined) != len(scores):
            raise ValueError(
                f"dataset '{dataset}' split '{window}' scores {len(scores):,} rows and matches {len(joined):,} "
                f"of the window's {len(frame):,}: the predictions are stale, re-run the model that made them"
            )
        windows[window] = joined[[SCORE, LABEL]]
    return windows


def _row_logloss(frame: pd.DataFrame) -> np.ndarray:
    # -log p for a click and -log(1 - p) otherwise, i.e. log(1 + exp(-/+ logit p)).
    sign = 2.0 * frame[LABEL].to_numpy(dtype=np.float64) - 1.0
    return np.asarray(np.logaddexp(0.0, -sign * logit(frame[SCORE].to_numpy())))


def label_drift(reference: pd.DataFrame, current: pd.DataFrame, base: ComparedWindows) -> DriftStatistic:
    """Relative change of the click rate, with a two-proportion test."""
    clicks_ref, clicks_cur = float(reference[LABEL].sum()), float(current[LABEL].sum())
    ctr_ref, ctr_cur = clicks_ref / len(reference), clicks_cur / len(current)
    return DriftStatistic(
        **base,
        group="label",
        subject=LABEL,
        statistic=CTR_CHANGE,
        value=abs(ctr_cur / ctr_ref - 1.0) if ctr_ref > 0 else float("nan"),
        reference_value=ctr_ref,
        current_value=ctr_cur,
        p_value=two_proportion_p_value(clicks_ref, len(reference), clicks_cur, len(current)),
    )


def calibration_drift(baseline: pd.DataFrame, current: pd.DataFrame, base: ComparedWindows) -> DriftStatistic:
    """Relative change of predicted / observed CTR against the validation day; NaN when the baseline
    has no ratio to compare with (no click, or predictions all 0)."""
    ratio_base = calibration_ratio(baseline[LABEL], baseline[SCORE])
    ratio_cur = calibration_ratio(current[LABEL], current[SCORE])
    return DriftStatistic(
        **base,
        group="calibration",
        subject=SCORE,
        statistic=CALIBRATION_CHANGE,
        value=abs(ratio_cur / ratio_base - 1.0) if ratio_base > 0 else float("nan"),
        reference_value=ratio_base,
        current_value=ratio_cur,
        p_value=calibration_ratio_p_value(baseline[LABEL].sum(), ratio_base, current[LABEL].sum(), ratio_cur),
    )


def performance_decay(baseline: pd.DataFrame, current: pd.DataFrame, base: ComparedWindows) -> list[DriftStatistic]:
    """AUC drop and relative logloss increase against the validation day, with one-sided tests."""
    aucs, errors = [], []
    for frame in (baseline, current):
        positives = int(frame[LABEL].sum())
        aucs.append(auc(frame[LABEL], frame[SCORE]))
        errors.append(auc_standard_error(aucs[-1], positives, len(frame) - positives))
    loss_base, loss_cur = _row_logloss(baseline), _row_logloss(current)
    return [
        DriftStatistic(
            **base,
            group="performance",
            subject=SCORE,
            statistic=AUC_DROP,
            value=aucs[0] - aucs[1],
            reference_value=aucs[0],
            current_value=aucs[1],
            p_value=auc_drop_p_value(aucs[0], errors[0], aucs[1], errors[1]),
        ),
        DriftStatistic(
            **base,
            group="performance",
            subject=SCORE,
            statistic=LOGLOSS_INCREASE,
            value=loss_cur.mean() / loss_base.mean() - 1.0,
            reference_value=float(loss_base.mean()),
            current_value=float(loss_cur.mean()),
            p_value=mean_increase_p_value(loss_base, loss_cur),
        ),
    ]


def prediction_drift(
    reference: pd.DataFrame,
    currents: Mapping[str, pd.DataFrame],
    reference_window: str,
    score_bins: int,
    share_floor: float,
) -> list[DriftStatistic]:
    """PSI and KS of the score distribution, binned on the reference window's scores."""
    score = MonitoredFeature(SCORE, "numeric", (SCORE,))
    profile = fit_reference_profile(reference, [score], 1, score_bins, share_floor, reference_window)
    return [
        replace(row, group="prediction", source="")
        for window, frame in currents.items()
        for row in feature_drift(profile, frame, window)
    ]


def model_drift(
    scored: Mapping[str, pd.DataFrame],
    labels: Mapping[str, pd.DataFrame],
    reference_window: str,
    baseline_window: str,
    current_windows: Sequence[str],
    score_bins: int,
    share_floor: float,
) -> list[DriftStatistic]:
    """Prediction, label, calibration and performance statistics of every current window that has rows.

    ``labels`` holds ``click`` per window (label drift needs no scores); ``scored`` the windows the
    predictions cover. Statistics whose windows are not scored are left out.
    """
    rows: list[DriftStatistic] = []
    reference = labels[reference_window]
    for window in current_windows:
        current = labels[window]
        if current.empty:
            continue
        rows.append(label_drift(reference, current, _base(window, reference_window, reference, current)))
        if baseline_window in scored and window in scored:
            base_frame, current_scored = scored[baseline_window], scored[window]
            base = _base(window, baseline_window, base_frame, current_scored)
            rows.append(calibration_drift(base_frame, current_scored, base))
            rows.extend(performance_decay(base_frame, current_scored, base))
    if reference_window in scored:
        currents = {window: scored[window] for window in current_windows if window in scored}
        rows.extend(prediction_drift(scored[reference_window], currents, reference_window, score_bins, share_floor))
    return rows


def _base(window: str, reference_window: str, reference: pd.DataFrame, current: pd.DataFrame) -> ComparedWindows:
    return {
        "window": window,
        "reference_window": reference_window,
        "n_reference": len(reference),
        "n_current": len(current),
    }
