"""The zoo entry: name, parameters, inputs, and fit / predict / save / load."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import PositiveFloat
from sklearn.pipeline import Pipeline

from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.zoo.baseline.regression import (
    BaselineFeatures,
    baseline_columns,
    fit_baseline,
    predict_baseline,
)
from adrank_pipelines.models.zoo.interface import FittedModel, ModelScores, SideTables, TrainingData, ZooParams
from adrank_pipelines.models.zoo.pickled import PickledZooModel


class BaselineParams(ZooParams):
    """``params:ctr_models.baseline``: what the regression reads; it is calibrated by construction."""

    calibration: CalibrationChoice = "none"
    # ad_ctr_and_slot: the ad's past CTR and the slot (the simulated world's AUC_base);
    # every_field: every categorical (one-hot) and numeric column of the feature spec (click logs).
    features: BaselineFeatures = "ad_ctr_and_slot"
    inverse_l2: PositiveFloat = 1.0  # scikit-learn's C: smaller is a stronger L2 penalty


class BaselineModel(PickledZooModel[BaselineParams, Pipeline]):
    name = "baseline"
    params_type = BaselineParams

    def fit(self, data: TrainingData, params: BaselineParams) -> FittedModel:
        columns = baseline_columns(params.features, data.spec)
        model = fit_baseline(data.train, columns, params.inverse_l2)
        return FittedModel(model, {"training_rows": len(data.train), "input_columns": len(model.feature_names_in_)})

    def predict(
        self, model: Pipeline, frame: pd.DataFrame, side: SideTables, upstream: Mapping[str, np.ndarray]
    ) -> ModelScores:
        return ModelScores(pctr=predict_baseline(model, frame)["pctr"].to_numpy())


MODEL = BaselineModel()
