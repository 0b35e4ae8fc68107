"""Tiny inputs for the zoo's torch networks, built with the real layout and tensor helpers.

The toy problem has no main effects: a click is likely exactly when two categorical fields share
their parity, so a model that ranks it well must have learned their pairwise interaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from adrank_pipelines.models.batching import Batch, impression_tensors, label_tensor, make_batch
from adrank_pipelines.models.layers import CtrOutputs
from adrank_pipelines.models.layout import InputLayout, input_layout

N_VALUES = 6  # values per toy categorical field; vocabulary index = value + 2 (0 padding, 1 unseen)


def batch_of(frame: pd.DataFrame, layout: InputLayout) -> Batch:
    """All rows of ``frame`` as one batch, without sequences or an ad table (public click logs)."""
    return make_batch(impression_tensors(frame, layout, None, None), torch.arange(len(frame)), None, None)


def mixed_layout() -> InputLayout:
    """Fields in all four roles the models read: user / pair x categorical / numeric."""
    return InputLayout(
        user_categorical={"user_idx": 5},
        pair_categorical={"pair_idx": 7, "slot_idx": 3},
        ad_categorical={},
        user_numeric=["user_score"],
        pair_numeric=["pair_score"],
        ad_numeric=[],
        numeric_mean={"user_score": 1.0, "pair_score": -2.0},
        numeric_std={"user_score": 2.0, "pair_score": 0.5},
    )


def mixed_frame(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    clicks = (rng.random(n_rows) < 0.5).astype(np.int8)
    return pd.DataFrame(
        {
            "user_idx": rng.integers(0, 5, n_rows),
            "pair_idx": rng.integers(0, 7, n_rows),
            "slot_idx": rng.integers(0, 3, n_rows),
            "user_score": rng.normal(1.0, 2.0, n_rows),
            "pair_score": rng.normal(-2.0, 0.5, n_rows),
            # Both conversion outcomes among the clicks, so the pCVR loss has gradients too.
            "click": clicks,
            "conversion": clicks * (np.arange(n_rows) % 2).astype(np.int8),
        }
    )


@dataclass(frozen=True)
class ToyProblem:
    layout: InputLayout
    train: pd.DataFrame
    test: pd.DataFrame


def parity_problem(n_train: int = 3000, n_test: int = 1000, seed: int = 0) -> ToyProblem:
    """Click probability 0.95 when fields a and b share their parity, else 0.05; c and x are noise."""
    rng = np.random.default_rng(seed)
    n_rows = n_train + n_test
    a, b, c = (rng.integers(0, N_VALUES, n_rows) for _ in range(3))
    clicks = (rng.random(n_rows) < np.where(a % 2 == b % 2, 0.95, 0.05)).astype(np.int8)
    frame = pd.DataFrame(
        {
            "a_idx": a + 2,
            "b_idx": b + 2,
            "c_idx": c + 2,
            "x": rng.normal(size=n_rows),
            "click": clicks,
            "conversion": (clicks * (rng.random(n_rows) < 0.3)).astype(np.int8),
        }
    )
    vocabulary = {"kind": "vocabulary", "size": N_VALUES + 2}
    spec = {"categorical": {f"{name}_idx": {**vocabulary, "source": [name]} for name in "abc"}, "numeric": ["x"]}
    train = frame.iloc[:n_train].reset_index(drop=True)
    layout = input_layout(spec, train, None, ad_side_sources=[], text_width=0)
    return ToyProblem(layout=layout, train=train, test=frame.iloc[n_train:].reset_index(drop=True))


def two_task_loss(outputs: CtrOutputs, labels: torch.Tensor) -> torch.Tensor:
    """Click BCE on every row + conversion BCE on the clicked rows, as the project's training weighs them."""
    clicked = labels[:, 0] > 0
    click_loss = F.binary_cross_entropy_with_logits(outputs.ctr_logit, labels[:, 0])
    return click_loss + 0.3 * F.binary_cross_entropy_with_logits(outputs.cvr_logit[clicked], labels[clicked, 1])


def adam_optimizers(model: torch.nn.Module, learning_rate: float) -> list[torch.optim.Optimizer]:
    """SparseAdam for the sparse embedding tables (dense Adam rejects their gradients), Adam for the rest."""
    sparse = [p for m in model.modules() if isinstance(m, torch.nn.Embedding) and m.sparse for p in m.parameters()]
    dense = [p for p in model.parameters() if all(p is not q for q in sparse)]
    return [torch.optim.Adam(dense, lr=learning_rate), torch.optim.SparseAdam(sparse, lr=learning_rate)]


@contextmanager
def one_thread() -> Iterator[None]:
    """Tiny matrices gain nothing from threads, which only contend for a busy machine's cores (20x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_and_score(model: Any, problem: ToyProblem, steps: int = 300, batch_size: int = 256) -> float:
    """Held-out click AUC after ``steps`` mini-batch steps of Adam (+ SparseAdam for the embedding tables)."""
    torch.manual_seed(0)
    model.heads.start_at_base_rates(float(problem.train["click"].mean()), 0.3)
    optimizers = adam_optimizers(model, learning_rate=0.01)
    impressions = impression_tensors(problem.train, problem.layout, None, None)
    labels = label_tensor(problem.train)
    model.train()
    with one_thread():
        for _ in range(steps):
            rows = torch.randint(0, len(problem.train), (batch_size,))
            loss = two_task_loss(model(make_batch(impressions, rows, None, None)), labels[rows])
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
    model.eval()
    with torch.no_grad():
        pctr = model(batch_of(problem.test, problem.layout)).ctr_logit.sigmoid().numpy()
    return float(roc_auc_score(problem.test["click"], pctr))


def parameters_without_gradient(model: torch.nn.Module, frame: pd.DataFrame, layout: InputLayout) -> list[str]:
    """Names of the parameters that one backward pass of the pCTR + pCVR loss leaves without a gradient."""
    model.train()
    model.zero_grad(set_to_none=True)
    two_task_loss(model(batch_of(frame, layout)), label_tensor(frame)).backward()
    return [
        name
        for name, parameter in model.named_parameters()
        if parameter.grad is None or not bool(parameter.grad.to_dense().abs().sum() > 0)
    ]


def assert_rebuilds_identically(model: Any, model_class: type, params_class: Any, layout: InputLayout) -> None:
    """A model rebuilt from the JSON round trip of ``constructor_config()`` with its weights scores the same."""
    config = json.loads(json.dumps(model.constructor_config()))
    rebuilt = model_class(InputLayout.from_dict(config["layout"]), params_class.model_validate(config["params"]))
    rebuilt.load_state_dict(model.state_dict())
    batch = batch_of(mixed_frame(10, seed=1), layout)
    with torch.no_grad():
        expected, actual = model(batch), rebuilt.eval()(batch)
    assert torch.equal(expected.ctr_logit, actual.ctr_logit) and torch.equal(expected.cvr_logit, actual.cvr_logit)
