"""The zoo entry: the network of ``network.py`` over the tabular fields, trained and saved as every torch model is."""

from __future__ import annotations

from adrank_pipelines.models.zoo.dcn_v2.network import DcnV2CtrModel, DcnV2Params
from adrank_pipelines.models.zoo.torch_network import TabularTorchModel

MODEL = TabularTorchModel("dcn_v2", DcnV2Params, DcnV2CtrModel)
