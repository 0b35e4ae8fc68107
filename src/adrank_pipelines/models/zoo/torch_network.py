"""Fit, score, save and load for every torch network of the zoo; each network folder only builds its module.

A saved network is a directory: ``config.json`` (its architecture: layout and architecture parameters,
never the training parameters) and ``state_dict.pt`` (its weights); loading always lands on CPU.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
import torch

from adrank_pipelines.models.config import TextEncoderParams, TorchCtrParams
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.scoring import predict_ctr
from adrank_pipelines.models.text_encoder import TextEncoder
from adrank_pipelines.models.training import NetworkBuilder, fit_ctr_model
from adrank_pipelines.models.training_plan import best_epoch
from adrank_pipelines.models.zoo.interface import FittedModel, ModelScores, SideTables, TrainingData, ZooModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "state_dict.pt"
TorchParamsT = TypeVar("TorchParamsT", bound=TorchCtrParams)


class TorchZooModel(ZooModel[TorchParamsT, CtrNetwork]):
    """A zoo model whose trained form is a :class:`CtrNetwork`: two heads, so it predicts pCVR too."""

    predicts_pcvr = True

    @abstractmethod
    def build(self, layout: InputLayout, params: TorchParamsT, encoder: TextEncoder | None) -> CtrNetwork:
        """A freshly initialised network; ``encoder`` is the BERT to fine-tune inside it, when there is one."""

    def rebuild(self, config: dict[str, Any]) -> CtrNetwork:
        """The network of a saved ``constructor_config()``, freshly initialised (weights come after)."""
        return self.build(
            InputLayout.from_dict(config["layout"]), self.params_type.model_validate(config["params"]), None
        )

    def text_encoder(self, params: TorchParamsT) -> TextEncoderParams | None:
        """The text encoder whose top layers train inside the network; None when it reads no text."""
        return None

    def network_builder(self, params: TorchParamsT) -> NetworkBuilder:
        """What training calls, once the input layout is known, to build a fresh network; picklable, so
        data-parallel workers receive it."""
        return _NetworkFactory(self, params)

    def fit(self, data: TrainingData, params: TorchParamsT) -> FittedModel:
        side = data.side
        network, history = fit_ctr_model(
            data.train, data.valid, side.sequences, side.ad_features, side.text_embeddings, dict(data.spec),
            params, self.network_builder(params), self.text_encoder(params),
        )  # fmt: skip
        return FittedModel(
            network, {"epochs": history, "best_epoch": best_epoch(history, params.training.early_stopping_metric)}
        )

    def predict(
        self, model: CtrNetwork, frame: pd.DataFrame, side: SideTables, upstream: Mapping[str, np.ndarray]
    ) -> ModelScores:
        scores = predict_ctr(model, frame, side.sequences, side.ad_features, side.text_embeddings)
        return ModelScores(pctr=scores["pctr"].to_numpy(), pcvr=scores["pcvr"].to_numpy())

    def save(self, model: CtrNetwork, directory: Path) -> None:
        config = model.constructor_config()
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")
        torch.save({name: value.detach().cpu() for name, value in model.state_dict().items()}, directory / WEIGHTS_FILE)

    def load(self, directory: Path) -> CtrNetwork:
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        network = self.rebuild(config)
        network.load_state_dict(torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True))
        return network.eval()


@dataclass(frozen=True)
class _NetworkFactory(Generic[TorchParamsT]):
    zoo: TorchZooModel[TorchParamsT]
    params: TorchParamsT

    def __call__(self, layout: InputLayout, encoder: TextEncoder | None) -> CtrNetwork:
        return self.zoo.build(layout, self.params, encoder)


class TabularTorchModel(TorchZooModel[TorchParamsT]):
    """A torch network over the impression's tabular fields alone (no text, no sequences), built by its class."""

    def __init__(
        self, name: str, params_type: type[TorchParamsT], network: Callable[[InputLayout, TorchParamsT], CtrNetwork]
    ) -> None:
        self.name, self.params_type, self._network = name, params_type, network

    def build(self, layout: InputLayout, params: TorchParamsT, encoder: TextEncoder | None) -> CtrNetwork:
        return self._network(layout, params)
