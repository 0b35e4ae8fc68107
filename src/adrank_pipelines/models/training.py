"""Fit a CTR model: AdamW, a batch size and epochs sized to the training rows, early stopping on a validation
metric, seeded, on the device the params name; in one process, or data-parallel in several (ADR 0022)."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import log_loss, roc_auc_score
from torch.nn import functional as F
from tqdm.auto import tqdm

from adrank_pipelines.models.batching import Batch, ImpressionTensors, label_tensor, request_grouped_order
from adrank_pipelines.models.config import TextEncoderParams, TorchCtrParams, TrainingParams
from adrank_pipelines.models.distributed import (
    DataParallel,
    process_group_backend,
    run_data_parallel,
    threads_per_process,
)
from adrank_pipelines.models.layers import CtrOutputs
from adrank_pipelines.models.layout import InputLayout, input_layout
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.prepare import (
    AdInputs,
    RequestInputs,
    batches_in_order,
    prepare_ads,
    prepare_impressions,
    prepare_requests,
    rank_batches,
    text_width,
)
from adrank_pipelines.models.text_encoder import TextEncoder, ad_texts, load_text_encoder
from adrank_pipelines.models.training_plan import TrainingPlan, best_epoch, plan_training

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitTensors:
    """One split ready for the model: features, labels, and the shared sequence and ad tables."""

    impressions: ImpressionTensors
    labels: torch.Tensor
    requests: RequestInputs | None
    ads: AdInputs | None


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; asking for ``cuda`` without it is an error, not a silent CPU run."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("training.device is 'cuda' but no CUDA device is available")
    return torch.device(name)


def autocast(device: torch.device, bf16: bool) -> AbstractContextManager[None]:
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def seed_everything(seed: int) -> np.random.Generator:
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def ctr_losses(
    outputs: CtrOutputs, labels: torch.Tensor, conversion_weight: float, shares: tuple[float, float] = (1.0, 1.0)
) -> torch.Tensor:
    """Click BCE on every impression + weighted conversion BCE on clicked impressions only + the network's own term.

    ``shares`` scale the click and conversion means (see :func:`loss_shares`; 1 in a single process).
    """
    clicks, conversions = labels[:, 0], labels[:, 1]
    loss = shares[0] * F.binary_cross_entropy_with_logits(outputs.ctr_logit.float(), clicks)
    clicked = clicks > 0
    if conversion_weight > 0 and bool(clicked.any()):
        cvr_loss = F.binary_cross_entropy_with_logits(outputs.cvr_logit.float()[clicked], conversions[clicked])
        loss = loss + conversion_weight * shares[1] * cvr_loss
    if outputs.auxiliary_loss is not None:
        loss = loss + outputs.auxiliary_loss(labels)
    return loss


@torch.inference_mode()
def predict_tensors(
    model: CtrNetwork, split: SplitTensors, batch_size: int, device: torch.device, bf16: bool
) -> np.ndarray:
    """(n, 2) float64 pCTR, pCVR in row order (rows of one request stay together, as in the frames)."""
    model.eval()
    order = torch.arange(len(split.impressions), device=device)
    predictions = []
    for _, batch in batches_in_order(split.impressions, order, batch_size, split.requests, split.ads):
        with autocast(device, bf16):
            outputs = model(batch)
        predictions.append(torch.stack([outputs.ctr_logit, outputs.cvr_logit], dim=1).float().sigmoid().cpu())
    return torch.cat(predictions).double().numpy() if predictions else np.zeros((0, 2))


def click_metrics(clicks: np.ndarray, pctr: np.ndarray) -> dict[str, float]:
    both_classes = 0 < clicks.sum() < len(clicks)
    return {
        "logloss": float(log_loss(clicks, np.clip(pctr, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "auc": float(roc_auc_score(clicks, pctr)) if both_classes else float("nan"),
    }


def make_optimizers(model: CtrNetwork, training: TrainingParams) -> list[torch.optim.Optimizer]:
    """SparseAdam for the sparse-gradient embedding tables, AdamW (with weight decay) for the rest."""
    sparse = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding) and m.sparse for p in m.parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    dense_parameters = [p for p in trainable if id(p) not in sparse]
    sparse_parameters = [p for p in trainable if id(p) in sparse]
    optimizers: list[torch.optim.Optimizer] = [
        torch.optim.AdamW(dense_parameters, lr=training.learning_rate, weight_decay=training.weight_decay)
    ]
    if sparse_parameters:
        optimizers.append(torch.optim.SparseAdam(sparse_parameters, lr=training.learning_rate))
    return optimizers


class TrainingLoss(torch.nn.Module):
    """The network's forward and its loss as one module, so DDP sees the graph from the loss: a head the loss
    leaves out on one rank (no click in its rows) counts as unused there instead of stalling the all-reduce."""

    def __init__(self, network: CtrNetwork, training: TrainingParams) -> None:
        super().__init__()
        self.network, self.params = network, training

    def forward(self, batch: Batch, labels: torch.Tensor, shares: tuple[float, float]) -> torch.Tensor:
        with autocast(labels.device, self.params.bf16):
            outputs = self.network(batch)
        return ctr_losses(outputs, labels, self.params.conversion_loss_weight, shares)


def loss_shares(part_labels: torch.Tensor, slice_labels: torch.Tensor, world_size: int) -> tuple[float, float]:
    """Scales of a rank's click and conversion means such that DDP's average of the ranks' gradients is the
    gradient of the whole slice's means: the rank's share of the slice's rows, and of its clicked rows, times
    the number of ranks. Exactly 1 for a single process."""
    clicked_part, clicked_slice = int((part_labels[:, 0] > 0).sum()), int((slice_labels[:, 0] > 0).sum())
    return (
        world_size * len(part_labels) / len(slice_labels),
        world_size * clicked_part / clicked_slice if clicked_slice else 1.0,
    )


def _train_epoch(
    step_loss: torch.nn.Module,
    optimizers: list[torch.optim.Optimizer],
    train: SplitTensors,
    training: TrainingParams,
    batch_size: int,
    device: torch.device,
    rng: np.random.Generator,
    description: str,
    parallel: DataParallel,
) -> tuple[float, float]:
    """Mean training loss (of this process's rows) and seconds of one pass over a request-grouped random order.

    Every process draws the same order from the same seed and steps on its own part of each batch.
    """
    step_loss.train()
    order = torch.from_numpy(request_grouped_order(train.impressions.request_rows.cpu().numpy(), rng)).to(device)
    started, total_loss, n_batches = time.perf_counter(), 0.0, 0
    batches = rank_batches(
        train.impressions, order, batch_size, train.requests, train.ads, parallel.rank, parallel.world_size
    )
    n_total, quiet = -(-len(order) // batch_size), not training.show_progress or parallel.rank > 0  # one bar
    for slice_rows, rows, batch in tqdm(batches, total=n_total, desc=description, disable=quiet):
        labels = train.labels[rows]
        shares = loss_shares(labels, train.labels[slice_rows], parallel.world_size)
        loss: torch.Tensor = step_loss(batch, labels, shares)
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves Tensor.backward unannotated
        for optimizer in optimizers:
            optimizer.step()
        total_loss, n_batches = total_loss + float(loss.detach()), n_batches + 1
    return total_loss / max(n_batches, 1), time.perf_counter() - started


def scale_learning_rate(optimizers: list[torch.optim.Optimizer], factor: float) -> None:
    """Every parameter group of every optimiser at ``factor`` times its learning rate (the plateau schedule)."""
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] *= factor


def _split_tensors(
    model: CtrNetwork, frame: pd.DataFrame, requests: RequestInputs | None, ads: AdInputs | None, device: torch.device
) -> SplitTensors:
    return SplitTensors(
        impressions=prepare_impressions(model, frame, ads, requests).to(device),
        labels=label_tensor(frame).to(device),
        requests=requests,
        ads=ads,
    )


NetworkBuilder = Callable[[InputLayout, TextEncoder | None], CtrNetwork]
"""Builds a freshly initialised network for a layout; the text encoder is there when its text is fine-tuned."""


def build_model(
    spec: dict[str, Any],
    train: pd.DataFrame,
    ad_features: pd.DataFrame | None,
    text_embeddings: pd.DataFrame | None,
    params: TorchCtrParams,
    build_network: NetworkBuilder,
    text_encoder: TextEncoderParams | None = None,
) -> CtrNetwork:
    """A freshly initialised network for ``spec``; a fine-tuned text tower starts from the encoder's weights."""
    encoder = None
    if text_encoder is not None and text_encoder.finetune_layers > 0 and ad_features is not None:
        encoder = load_text_encoder(text_encoder, ad_texts(ad_features))
    width = encoder.bert.config.hidden_size if encoder is not None else text_width(text_embeddings)
    layout = input_layout(spec, train, ad_features, params.ad_side_sources, width, params.excluded_columns)
    return build_network(layout, encoder)


@dataclass(frozen=True)
class FitInputs:
    """Everything one fit reads; picklable, so data-parallel workers receive it as one file."""

    train: pd.DataFrame
    valid: pd.DataFrame
    sequences: pd.DataFrame | None
    ad_features: pd.DataFrame | None
    text_embeddings: pd.DataFrame | None
    spec: dict[str, Any]
    params: TorchCtrParams
    build_network: NetworkBuilder
    text_encoder: TextEncoderParams | None


def fit_ctr_model(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    sequences: pd.DataFrame | None,
    ad_features: pd.DataFrame | None,
    text_embeddings: pd.DataFrame | None,
    spec: dict[str, Any],
    params: TorchCtrParams,
    build_network: NetworkBuilder,
    text_encoder: TextEncoderParams | None = None,
) -> tuple[CtrNetwork, list[dict[str, float]]]:
    """Train on ``train``, stop early on a ``valid`` metric; the model comes back on CPU with its best weights.

    The history has one entry per epoch: train loss, valid logloss / AUC, seconds, samples per second (of
    all processes together), batch size and the epoch's learning rate. With ``training.distributed`` asking
    for more than one process, they train with DistributedDataParallel and rank 0's model comes back.
    """
    inputs = FitInputs(
        train, valid, sequences, ad_features, text_embeddings, spec, params, build_network, text_encoder
    )  # fmt: skip
    distributed = params.training.distributed
    if distributed.world_size == 1:
        return _fit(inputs, DataParallel())
    backend = process_group_backend(distributed, resolve_device(params.training.device))
    logger.info(
        "training with DistributedDataParallel: %d process(es) on each of %d node(s), %s, rendezvous at %s",
        distributed.nproc_per_node, distributed.nnodes, backend, distributed.rdzv_endpoint,
    )  # fmt: skip
    return run_data_parallel(_fit_in_process_group, inputs, distributed, backend)


def _fit_in_process_group(inputs: FitInputs, parallel: DataParallel) -> tuple[CtrNetwork, list[dict[str, float]]]:
    """One data-parallel worker's fit, with its share of the node's threads."""
    training = inputs.params.training
    threads = threads_per_process(training.num_threads, training.distributed)
    params = inputs.params.model_copy(update={"training": training.model_copy(update={"num_threads": threads})})
    return _fit(replace(inputs, params=params), parallel)


def _fit(inputs: FitInputs, parallel: DataParallel) -> tuple[CtrNetwork, list[dict[str, float]]]:
    params, train, valid = inputs.params, inputs.train, inputs.valid
    ad_features, text_embeddings = inputs.ad_features, inputs.text_embeddings
    training = params.training
    torch.set_num_threads(training.num_threads)
    rng = seed_everything(training.seed)
    device = resolve_device(training.device)
    model = build_model(
        inputs.spec, train, ad_features, text_embeddings, params, inputs.build_network, inputs.text_encoder
    )
    clicked = train["click"] > 0
    model.heads.start_at_base_rates(
        float(clicked.mean()), float(train.loc[clicked, "conversion"].mean()) if clicked.any() else 0.1
    )
    model = model.to(device)

    ads = prepare_ads(model, ad_features, text_embeddings)
    ads = None if ads is None else ads.to(device)
    requests = prepare_requests(model, inputs.sequences, ads)
    requests = None if requests is None else requests.to(device)
    if training.max_valid_rows and len(valid) > training.max_valid_rows:
        valid = valid.sample(n=training.max_valid_rows, random_state=training.seed).sort_index()
    train_split = _split_tensors(model, train, requests, ads, device)
    valid_split = _split_tensors(model, valid, requests, ads, device)

    plan = plan_training(training, len(train))
    logger.info(
        "%d training rows: batch size %d (%d steps per epoch), at most %d epochs, early stopping on validation %s",
        len(train), plan.batch_size, plan.steps_per_epoch, plan.max_epochs, training.early_stopping_metric,
    )  # fmt: skip
    optimizers = make_optimizers(model, training)
    valid_clicks = valid["click"].to_numpy()
    history = _fit_epochs(model, optimizers, train_split, valid_split, valid_clicks, training, plan, rng, parallel)
    return model.cpu().eval(), history


def _fit_epochs(
    model: CtrNetwork,
    optimizers: list[torch.optim.Optimizer],
    train_split: SplitTensors,
    valid_split: SplitTensors,
    valid_clicks: np.ndarray,
    training: TrainingParams,
    plan: TrainingPlan,
    rng: np.random.Generator,
    parallel: DataParallel,
) -> list[dict[str, float]]:
    """Epochs until early stopping; ``model`` ends with the weights of the best epoch by the stopping metric.

    The validation metrics come from ``parallel.agree``, so every process takes the same stopping and
    learning-rate decisions.
    """
    device = next(model.parameters()).device
    step_loss = parallel.wrap(TrainingLoss(model, training))
    history: list[dict[str, float]] = []
    best_state: dict[str, Any] | None = None
    for epoch in range(1, plan.max_epochs + 1):
        learning_rate = float(optimizers[0].param_groups[0]["lr"])
        train_loss, seconds = _train_epoch(
            step_loss, optimizers, train_split, training, plan.batch_size, device, rng, f"epoch {epoch}", parallel
        )
        valid_metrics = parallel.agree(
            lambda: click_metrics(
                valid_clicks, predict_tensors(model, valid_split, 4 * plan.batch_size, device, training.bf16)[:, 0]
            )
        )
        rows = len(train_split.labels)
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "valid_logloss": valid_metrics["logloss"],
                "valid_auc": valid_metrics["auc"],
                "seconds": seconds,
                "samples_per_second": rows / seconds,
                "batch_size": plan.batch_size,
                "learning_rate": learning_rate,
            }
        )
        logger.info(
            "epoch %d: train loss %.5f, valid logloss %.5f, valid AUC %.4f, %.0f samples/s",
            epoch, train_loss, valid_metrics["logloss"], valid_metrics["auc"], rows / seconds,
        )  # fmt: skip
        best = best_epoch(history, training.early_stopping_metric)
        if best == epoch:
            best_state = copy.deepcopy(model.state_dict())
        else:
            scale_learning_rate(optimizers, training.plateau_factor)
        if epoch - best > training.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
