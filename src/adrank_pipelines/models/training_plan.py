"""What one fit runs, from its parameters and the number of training rows: batch size, epochs, early stopping.

Pure functions, so the rules can be checked for any data size without training anything (ADR 0020).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from adrank_pipelines.models.config import BatchRule, TrainingParams

StoppingMetric = Literal["logloss", "auc"]


@dataclass(frozen=True)
class TrainingPlan:
    """The batch size, optimiser steps per epoch and most epochs of one fit."""

    batch_size: int
    steps_per_epoch: int
    max_epochs: int


def auto_batch_size(n_rows: int, rule: BatchRule) -> int:
    """The largest power of two with ``rule.steps_per_epoch`` batches in ``n_rows``, within [min_size, max_size]."""
    rows_per_step = max(n_rows // rule.steps_per_epoch, 1)
    power_of_two = 1 << (rows_per_step.bit_length() - 1)
    return min(max(power_of_two, rule.min_size), rule.max_size)


def epoch_cap(steps_per_epoch: int, max_epochs: int, min_steps: int) -> int:
    """``max_epochs``, or more where that many epochs hold fewer than ``min_steps`` optimiser steps."""
    return max(max_epochs, math.ceil(min_steps / max(steps_per_epoch, 1)))


def plan_training(training: TrainingParams, n_rows: int) -> TrainingPlan:
    """The plan of a fit on ``n_rows`` training rows."""
    batch_size = auto_batch_size(n_rows, training.batch_rule) if training.batch_size == "auto" else training.batch_size
    steps_per_epoch = max(math.ceil(n_rows / batch_size), 1)
    return TrainingPlan(
        batch_size, steps_per_epoch, epoch_cap(steps_per_epoch, training.max_epochs, training.min_steps)
    )


def is_better(metric: StoppingMetric, value: float, best: float | None) -> bool:
    """Whether ``value`` beats ``best`` (None: nothing yet): lower logloss, higher AUC; NaN never does."""
    if math.isnan(value):
        return False
    return best is None or (value < best if metric == "logloss" else value > best)


def best_epoch(history: Sequence[dict[str, float]], metric: StoppingMetric) -> int:
    """The epoch whose weights a fit keeps: the first with the best validation ``metric``, or the latest
    while no epoch has a usable value (a validation split of one class has no AUC)."""
    best, chosen = None, int(history[-1]["epoch"])
    for entry in history:
        value = entry[f"valid_{metric}"]
        if is_better(metric, value, best):
            best, chosen = value, int(entry["epoch"])
    return chosen
