"""Offline CTR metrics: ranking (AUC, per-user group AUC), likelihood (logloss, normalized entropy)
and calibration (predicted / observed ratio, expected calibration error, reliability bins).

Every function takes plain arrays (labels in {0, 1}, probabilities in [0, 1]) and is vectorised, so
the whole test day is scored in a few numpy passes. A metric that is undefined on its input (no rows,
a single class where it compares classes) is NaN, which reports turn into a null with a reason.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score

Binning = Literal["equal_mass", "equal_width"]

# Probabilities are clipped this far from 0 and 1 so one confident miss cannot make the logloss infinite.
PROBABILITY_EPSILON = 1e-7


def _as_labels(labels: ArrayLike) -> np.ndarray:
    return np.asarray(labels, dtype=np.float64).ravel()


def _clipped(probabilities: ArrayLike) -> NDArray[np.float64]:
    return np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)


def _as_probabilities(probabilities: ArrayLike) -> np.ndarray:
    return _clipped(probabilities).ravel()


def logit(probabilities: ArrayLike) -> np.ndarray:
    """log(p / (1 - p)) of the clipped probabilities, same shape as the input."""
    p = _clipped(probabilities)
    return np.log(p) - np.log1p(-p)


def sigmoid(logits: ArrayLike) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC; NaN when the labels hold a single class (AUC is undefined there)."""
    y = _as_labels(labels)
    if y.size == 0 or y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, np.asarray(scores, dtype=np.float64).ravel()))


def _has_both_classes(y: np.ndarray) -> bool:
    return bool(y.size) and bool(y.min() != y.max())


def logloss(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean binary cross-entropy in nats; NaN on zero rows."""
    y, p = _as_labels(labels), _as_probabilities(probabilities)
    if y.size == 0:
        return float("nan")
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def base_rate_entropy(labels: ArrayLike) -> float:
    """Logloss of always predicting the observed click rate: the denominator of NE; NaN on zero rows."""
    y = _as_labels(labels)
    if y.size == 0:
        return float("nan")
    return logloss(y, np.full(y.shape, y.mean()))


def normalized_entropy(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Logloss divided by the entropy of the base rate (He et al., 2014): 1 is no better than the base rate.

    NaN on zero rows or a single class: the base rate's entropy is 0 there (only the probability
    clipping keeps it from being exactly 0), so the ratio would be a meaningless huge number.
    """
    if not _has_both_classes(_as_labels(labels)):
        return float("nan")
    return logloss(labels, probabilities) / base_rate_entropy(labels)


def calibration_ratio(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean predicted CTR / observed CTR; 1 is calibrated on average, above 1 over-predicts.

    NaN on zero rows or without a click: there is no observed rate to compare with.
    """
    y = _as_labels(labels)
    observed = float(y.mean()) if y.size else 0.0
    if observed == 0.0:
        return float("nan")
    return float(np.mean(np.asarray(probabilities, dtype=np.float64)) / observed)


def _bin_index(probabilities: np.ndarray, n_bins: int, binning: Binning) -> np.ndarray:
    if binning == "equal_width":
        return np.minimum((probabilities * n_bins).astype(np.int64), n_bins - 1)
    # Equal mass: rank the rows by prediction and cut the ranking into n_bins near-equal runs, so
    # every bin has enough rows even where predictions crowd near the base rate. Equal predictions
    # take the rank of the first of them: a run of ties split over two bins would make the bins
    # (and the ECE) depend on row order, and show one prediction as two points of the diagram.
    order = np.argsort(probabilities, kind="stable")
    ordered = probabilities[order]
    positions = np.arange(probabilities.size)
    starts_run = np.ones(probabilities.size, dtype=bool)
    starts_run[1:] = ordered[1:] != ordered[:-1]
    ranks = np.empty(probabilities.size, dtype=np.int64)
    ranks[order] = np.maximum.accumulate(np.where(starts_run, positions, 0))
    return ranks * n_bins // max(probabilities.size, 1)


def reliability_bins(
    labels: ArrayLike, probabilities: ArrayLike, n_bins: int = 20, binning: Binning = "equal_mass"
) -> pd.DataFrame:
    """Per non-empty bin: rows, mean predicted probability and observed click rate (no rows on no input).

    Equal-mass bins keep equal predictions together, so a bin can hold more than its share of rows
    and the bins after a large run of ties can be empty (and left out).
    """
    y = _as_labels(labels)
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    bins = _bin_index(p, n_bins, binning)
    counts = np.bincount(bins, minlength=n_bins)
    occupied = counts > 0
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(occupied),
            "count": counts[occupied],
            "mean_predicted": np.bincount(bins, weights=p, minlength=n_bins)[occupied] / counts[occupied],
            "observed_rate": np.bincount(bins, weights=y, minlength=n_bins)[occupied] / counts[occupied],
        }
    )


def expected_calibration_error(
    labels: ArrayLike, probabilities: ArrayLike, n_bins: int = 20, binning: Binning = "equal_mass"
) -> float:
    """Row-weighted mean over bins of |mean predicted - observed rate|; NaN on zero rows."""
    bins = reliability_bins(labels, probabilities, n_bins, binning)
    if bins.empty:
        return float("nan")
    gaps = (bins["mean_predicted"] - bins["observed_rate"]).abs()
    return float(np.average(gaps, weights=bins["count"]))


def group_auc(labels: ArrayLike, scores: ArrayLike, groups: ArrayLike) -> tuple[float, int]:
    """Per-group AUC averaged with impression weights, and the number of groups that count.

    Only groups holding both a click and a non-click have an AUC; each weighs by its impressions
    (the GAUC of Zhou et al., 2018, "Deep Interest Network"), so a user seen twice moves the mean
    less than one seen fifty times. Returns (NaN, 0) when no group has both classes.

    Vectorised with mid-ranks: sorting by (group, score) once gives every row its rank inside its
    group (ties share their mean rank), and each group's AUC is the Mann-Whitney U of its positives.
    """
    y = _as_labels(labels)
    s = np.asarray(scores, dtype=np.float64).ravel()
    group_codes = pd.factorize(np.asarray(groups).ravel())[0]
    order = np.lexsort((s, group_codes))
    sorted_groups, sorted_scores = group_codes[order], s[order]
    n = order.size
    positions = np.arange(n)

    starts_group = np.ones(n, dtype=bool)
    starts_group[1:] = sorted_groups[1:] != sorted_groups[:-1]
    starts_tie = starts_group.copy()
    starts_tie[1:] |= sorted_scores[1:] != sorted_scores[:-1]
    group_start = np.maximum.accumulate(np.where(starts_group, positions, 0))
    tie_first = np.flatnonzero(starts_tie)
    tie_last = np.append(tie_first[1:], n) - 1
    tie_of_row = np.cumsum(starts_tie) - 1
    rank_in_group = (tie_first + tie_last)[tie_of_row] / 2.0 - group_start + 1.0

    sorted_labels = y[order]
    rows = np.bincount(sorted_groups)
    positives = np.bincount(sorted_groups, weights=sorted_labels)
    negatives = rows - positives
    positive_rank_sum = np.bincount(sorted_groups, weights=rank_in_group * sorted_labels)
    both_classes = (positives > 0) & (negatives > 0)
    if not both_classes.any():
        return float("nan"), 0
    pos, neg = positives[both_classes], negatives[both_classes]
    group_aucs = (positive_rank_sum[both_classes] - pos * (pos + 1) / 2.0) / (pos * neg)
    return float(np.average(group_aucs, weights=rows[both_classes])), int(both_classes.sum())
