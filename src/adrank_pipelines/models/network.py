"""What every torch CTR network of the zoo is: a module over an input layout with pCTR / pCVR heads.

Training, scoring and saving work on this base class only, so a new network needs no change to them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict
from typing import Any

from torch import nn

from adrank_pipelines.models.batching import Batch
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.layers import CtrHeads, CtrOutputs
from adrank_pipelines.models.layout import InputLayout


class CtrNetwork(nn.Module, ABC):
    """A CTR network: ``layout`` says which columns it reads, ``heads`` give pCTR and pCVR."""

    model_class: str  # the zoo's name for this architecture, saved with its weights
    layout: InputLayout
    params: TorchCtrParams
    heads: CtrHeads

    @abstractmethod
    def forward(self, batch: Batch) -> CtrOutputs: ...

    def constructor_config(self) -> dict[str, Any]:
        """JSON-ready arguments that rebuild this network (weights come from the state dict): its
        architecture, never how it was trained."""
        return {"model_class": self.model_class, "layout": asdict(self.layout), "params": self.params.architecture()}
