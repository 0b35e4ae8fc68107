"""The zoo entry: name, parameters, inputs, and fit / predict / save / load."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.zoo.interface import FittedModel, ModelScores, SideTables, TrainingData, ZooParams
from adrank_pipelines.models.zoo.lightgbm.booster import (
    LightGBMParams,
    LightGBMRanker,
    predict_lightgbm,
    train_lightgbm,
)
from adrank_pipelines.models.zoo.pickled import PickledZooModel


class LightGBMZooParams(LightGBMParams, ZooParams):
    """``params:ctr_models.lightgbm``: the boosting parameters and the calibration."""

    calibration: CalibrationChoice = "platt_cold_start"  # the default world's ads have a cold-start flag (ADR 0028)


class LightGBMModel(PickledZooModel[LightGBMZooParams, LightGBMRanker]):
    name = "lightgbm"
    params_type = LightGBMZooParams

    def fit(self, data: TrainingData, params: LightGBMZooParams) -> FittedModel:
        ranker = train_lightgbm(data.train, data.valid, data.spec, params)
        summary = {
            "best_iteration": ranker.best_iteration,
            "features": len(ranker.features.columns),
            "valid_auc": ranker.valid_auc,
            "training_seconds": ranker.training_seconds,
        }
        return FittedModel(ranker, summary)

    def limit_threads(self, model: LightGBMRanker, num_threads: int) -> None:
        # predict_lightgbm passes the booster's num_threads (the training's) to every prediction; more
        # threads than the cores a pinned service owns make its OpenMP workers wait on each other.
        # (Booster.reset_parameter would also reset the C++ config, and crashes on a loaded booster.)
        model.booster.params["num_threads"] = num_threads

    def predict(
        self, model: LightGBMRanker, frame: pd.DataFrame, side: SideTables, upstream: Mapping[str, np.ndarray]
    ) -> ModelScores:
        return ModelScores(pctr=predict_lightgbm(model, frame)["pctr"].to_numpy())


MODEL = LightGBMModel()
