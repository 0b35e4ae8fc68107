"""A registered release of a trained CTR model: the model, the calibrator fitted with it, its metrics and lineage.

The model and its calibrator travel together, so the champion's pCTR always goes through the calibrator that
was fitted on that model's own validation scores. Which aliases a new version takes is a policy:
``always`` serves every new training at once (the latest run is the champion); ``if_no_champion`` serves a
first version and makes every later one the ``challenger``, for the lifecycle gates to promote.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from adrank_pipelines.lifecycle.registry import CHALLENGER, CHAMPION
from adrank_pipelines.models.calibration import Calibrator
from adrank_pipelines.models.metrics import auc, logloss
from adrank_pipelines.models.zoo.interface import TrainedModel

PromotionPolicy = Literal["always", "if_no_champion"]
PROMOTION_POLICIES: tuple[PromotionPolicy, ...] = ("always", "if_no_champion")


@dataclass(frozen=True)
class ModelRelease:
    """What a registry version holds; ``version`` is the registry's number once registered (None before)."""

    trained: TrainedModel
    calibrator: Calibrator
    metrics: Mapping[str, float] = field(default_factory=dict)
    lineage: Mapping[str, str] = field(default_factory=dict)
    version: int | None = None


def aliases_for_new_version(policy: PromotionPolicy, held: Collection[str]) -> tuple[str, ...]:
    """The aliases a newly registered version takes, given the aliases its registered model ``held`` before."""
    if policy == "always":
        return (CHAMPION,)
    if policy == "if_no_champion":
        return (CHALLENGER,) if CHAMPION in held else (CHAMPION,)
    raise ValueError(f"promote is '{policy}', not one of {list(PROMOTION_POLICIES)}")


def validation_metrics(calibrated_valid: pd.DataFrame, valid: pd.DataFrame) -> dict[str, float]:
    """``valid_auc`` / ``valid_logloss`` of the calibrated pCTR on the validation day: the same two for every
    model, so a gate compares like with like."""
    joined = calibrated_valid.merge(valid[["impression_id", "click"]], on="impression_id", validate="one_to_one")
    if len(joined) != len(valid):
        raise ValueError(f"the validation predictions cover {len(joined)} of {len(valid)} validation rows")
    labels, scores = joined["click"].to_numpy(), joined["pctr"].to_numpy(dtype=np.float64)
    return {"valid_auc": auc(labels, scores), "valid_logloss": logloss(labels, scores)}


def training_window(train: pd.DataFrame, valid: pd.DataFrame) -> dict[str, str]:
    """The days the model was fitted and calibrated on (ISO dates), read from the splits' ``event_time``; a
    click log mapped without a time column has no days to record."""
    window = {}
    for split, frame in (("train", train), ("valid", valid)):
        if frame.empty:
            raise ValueError(f"the {split} split is empty: no model can have been fitted on it")
        if "event_time" not in frame.columns:
            continue
        days = pd.to_datetime(frame["event_time"]).dt.normalize()
        window[f"{split}_first_day"] = days.min().date().isoformat()
        window[f"{split}_last_day"] = days.max().date().isoformat()
    return window
