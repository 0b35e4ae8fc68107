"""The zoo entry: name, parameters, inputs, and fit / predict / save / load."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.zoo.hybrid.blend import HybridMethod, HybridRanker, predict_hybrid, train_hybrid
from adrank_pipelines.models.zoo.interface import FittedModel, ModelScores, SideTables, TrainingData, ZooParams
from adrank_pipelines.models.zoo.lightgbm.model import LightGBMZooParams
from adrank_pipelines.models.zoo.pickled import PickledZooModel


class HybridParams(ZooParams):
    """``params:ctr_models.hybrid``: which models it combines and how."""

    # A blend is calibrated overall by construction (its intercept), not on cold-start ads (ADR 0028).
    calibration: CalibrationChoice = "platt_cold_start"
    method: HybridMethod = "blend"
    models: list[str] = Field(default_factory=lambda: ["lightgbm", "transformer"], min_length=1)
    lightgbm: LightGBMZooParams = LightGBMZooParams()  # the `feature` method's own LightGBM

    @model_validator(mode="after")
    def _models_are_distinct(self) -> HybridParams:
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"ctr_models.hybrid.models lists a model twice: {self.models}")
        return self


class HybridModel(PickledZooModel[HybridParams, HybridRanker]):
    name = "hybrid"
    params_type = HybridParams

    def upstream(self, params: HybridParams) -> tuple[str, ...]:
        return tuple(params.models)

    def reads(self, model: HybridRanker) -> tuple[str, ...]:
        return model.models

    def fit(self, data: TrainingData, params: HybridParams) -> FittedModel:
        hybrid = train_hybrid(
            data.train, data.valid, data.spec, data.upstream_train, data.upstream_valid,
            params.models, params.method, params.lightgbm,
        )  # fmt: skip
        summary: dict[str, object] = {"method": hybrid.method, "models": list(hybrid.models)}
        if hybrid.blend is not None:
            summary["blend_weights"] = dict(zip(hybrid.models, hybrid.blend.coef_[0].tolist(), strict=True))
        return FittedModel(hybrid, summary)

    def predict(
        self, model: HybridRanker, frame: pd.DataFrame, side: SideTables, upstream: Mapping[str, np.ndarray]
    ) -> ModelScores:
        return ModelScores(pctr=predict_hybrid(model, frame, upstream))


MODEL = HybridModel()
