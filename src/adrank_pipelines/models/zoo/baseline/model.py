"""The zoo entry: name, parameters, inputs, and fit / predict / save / load."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.zoo.baseline.regression import fit_baseline, predict_baseline
from adrank_pipelines.models.zoo.interface import FittedModel, ModelScores, SideTables, TrainingData, ZooParams
from adrank_pipelines.models.zoo.pickled import PickledZooModel


class BaselineParams(ZooParams):
    """``params:ctr_models.baseline``: nothing to tune; a logistic regression is calibrated by construction."""

    calibration: CalibrationChoice = "none"


class BaselineModel(PickledZooModel[BaselineParams, Pipeline]):
    name = "baseline"
    params_type = BaselineParams

    def fit(self, data: TrainingData, params: BaselineParams) -> FittedModel:
        return FittedModel(fit_baseline(data.train), {"training_rows": len(data.train)})

    def predict(
        self, model: Pipeline, frame: pd.DataFrame, side: SideTables, upstream: Mapping[str, np.ndarray]
    ) -> ModelScores:
        return ModelScores(pctr=predict_baseline(model, frame)["pctr"].to_numpy())


MODEL = BaselineModel()
