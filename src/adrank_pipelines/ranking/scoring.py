"""pCTR of candidate rows under each ranking model, and pCVR, with the ctr_training models as saved.

The transformer always runs: it is the only model with a pCVR head (its pCVR, P(conversion |
click), serves every model's objective) and the hybrid blends its pCTR. LightGBM and the
transformer get the post-hoc calibration ctr_training fits on the validation day; the hybrid's
blend is fitted on that day already, so it is calibrated by construction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.models.calibration import Calibrator, fit_calibrator_on_frame
from adrank_pipelines.models.factory import CtrModel
from adrank_pipelines.models.lightgbm_ranker import (
    HybridRanker,
    LightGBMRanker,
    blended_pctr,
    predict_hybrid,
    predict_lightgbm,
)
from adrank_pipelines.models.scoring import predict_ctr
from adrank_pipelines.ranking.params import CalibrationChoice, ModelName

CALIBRATED_MODELS: tuple[ModelName, ...] = ("lightgbm", "transformer")
VALIDATION_SPLIT = "valid"


def fit_pctr_calibrators(
    predictions: Mapping[str, pd.DataFrame], valid: pd.DataFrame, method: CalibrationChoice
) -> dict[str, Calibrator]:
    """Per model, a calibrator fitted on its validation-day predictions (split, impression_id, pctr)
    against the validation day's clicks; none when ``method`` is ``none``."""
    if method == "none":
        return {}
    calibrators = {}
    for name, frame in predictions.items():
        on_valid = frame.loc[frame["split"] == VALIDATION_SPLIT, ["impression_id", "pctr"]]
        if on_valid.empty:
            raise ValueError(f"dataset '{name}_predictions' has no '{VALIDATION_SPLIT}' rows to fit a calibrator on")
        calibrators[name] = fit_calibrator_on_frame(on_valid, valid, method)
    return calibrators


def blends_this_lightgbm(hybrid: HybridRanker, lightgbm: LightGBMRanker) -> bool:
    """Whether ``hybrid`` blends the very trees of ``lightgbm`` (ctr_training builds it so), which makes
    LightGBM's pCTR reusable for it."""
    ranker = hybrid.ranker
    return (
        hybrid.blend is not None
        and (ranker.features, ranker.best_iteration) == (lightgbm.features, lightgbm.best_iteration)
        and ranker.booster.model_to_string() == lightgbm.booster.model_to_string()
    )


@dataclass(frozen=True)
class CandidateScores:
    pctr: dict[str, np.ndarray]  # per ranking model, in the rows' order
    pcvr: np.ndarray  # the transformer's P(conversion | click), shared by every model
    seconds: dict[str, float]  # wall time of each model's own scoring step


class CandidateScorer:
    """Scores model-input frames of candidates (one ``impression_id`` per row) with the chosen models."""

    def __init__(
        self,
        models: Sequence[ModelName],
        lightgbm: LightGBMRanker,
        transformer: CtrModel,
        hybrid: HybridRanker,
        calibrators: Mapping[str, Calibrator],
        sequences: pd.DataFrame,
        ad_features: pd.DataFrame,
        text_embeddings: pd.DataFrame,
    ) -> None:
        self.models = list(models)
        self._lightgbm, self._transformer, self._hybrid = lightgbm, transformer.eval(), hybrid
        self._calibrators = dict(calibrators)
        self.hybrid_reuses_lightgbm = "hybrid" in self.models and blends_this_lightgbm(hybrid, lightgbm)
        self._sequences, self._ad_features, self._text_embeddings = sequences, ad_features, text_embeddings

    def _calibrated(self, name: str, pctr: np.ndarray) -> np.ndarray:
        calibrator = self._calibrators.get(name)
        return pctr if calibrator is None else calibrator.transform(pctr)

    def score(self, features: pd.DataFrame) -> CandidateScores:
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        transformer = predict_ctr(
            self._transformer, features, self._sequences, self._ad_features, self._text_embeddings
        )
        seconds["transformer"] = time.perf_counter() - started
        raw = {"transformer": transformer["pctr"].to_numpy()}
        if "lightgbm" in self.models or self.hybrid_reuses_lightgbm:
            started = time.perf_counter()
            raw["lightgbm"] = predict_lightgbm(self._lightgbm, features)["pctr"].to_numpy()
            seconds["lightgbm"] = time.perf_counter() - started
        if "hybrid" in self.models:
            started = time.perf_counter()
            if self.hybrid_reuses_lightgbm:
                raw["hybrid"] = blended_pctr(self._hybrid, raw["lightgbm"], raw["transformer"])
            else:
                raw["hybrid"] = predict_hybrid(self._hybrid, features, transformer)["pctr"].to_numpy()
            seconds["hybrid"] = time.perf_counter() - started
        pctr: dict[str, np.ndarray] = {name: self._calibrated(name, raw[name]) for name in self.models}
        return CandidateScores(pctr=pctr, pcvr=transformer["pcvr"].to_numpy(), seconds=seconds)
