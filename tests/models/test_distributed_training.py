"""Data-parallel training of the transformer: two gloo processes on CPU match one process; bad settings fail early.

Each global batch is cut in two halves and each half's loss is scaled by its share of the batch's rows (and
clicked rows, for the pCVR term), so DDP's mean of the two gradients is the whole batch's gradient: two
processes follow the single-process trajectory up to float summation order. Measured: predictions within
4e-6 of one process after two epochs (one process with 1 vs 2 threads: 5e-7); the tests allow 1e-4.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

from adrank_pipelines.models.config import DistributedParams
from adrank_pipelines.models.distributed import DataParallel, run_data_parallel, threads_per_process
from adrank_pipelines.models.prepare import prepare_impressions, rank_batches
from adrank_pipelines.models.scoring import predict_ctr
from adrank_pipelines.models.text_encoder import ad_text_embeddings
from adrank_pipelines.models.training import loss_shares
from adrank_pipelines.models.zoo.interface import SideTables
from tests.models.transformer_fixtures import (
    SyntheticWorld,
    built_model,
    fit_network,
    tiny_params,
    world,  # noqa: F401 - pytest fixture
)

# Dropout draws and the in-batch retrieval softmax (its negatives are the batch's ads) differ between one
# batch and its two halves: switched off, so only float summation order differs.
EXACT = {"dropout": 0.0, "id_dropout": 0.0, "retrieval_objective": {"weight": 0.0}}
TRAINING = {"batch_size": 256, "max_epochs": 2, "learning_rate": 0.01, "num_threads": 2}


def _fit(world: SyntheticWorld, distributed: dict[str, Any]) -> tuple[Any, list[dict[str, float]], np.ndarray]:
    params = tiny_params(**EXACT, training=TRAINING | {"distributed": distributed})
    text = ad_text_embeddings(world.ad_features, params.text_encoder)
    side = SideTables(world.sequences, world.ad_features, text)
    model, history = fit_network(world.train, world.valid, world.spec, params, side)
    pctr = predict_ctr(model, world.valid, world.sequences, world.ad_features, text)["pctr"].to_numpy()
    return model, history, pctr


@pytest.fixture(scope="module")
def one_and_two_processes(world: SyntheticWorld):
    return _fit(world, {}), _fit(world, {"nproc_per_node": 2})


def test_two_gloo_processes_match_one_process(world: SyntheticWorld, one_and_two_processes) -> None:
    (_, single_history, single), (model, ddp_history, ddp) = one_and_two_processes
    assert type(model).__name__ == "TransformerCtrModel"  # rank 0's network, not the DDP wrapper
    assert not model.training and next(model.parameters()).device.type == "cpu"
    assert [e["epoch"] for e in ddp_history] == [e["epoch"] for e in single_history] == [1, 2]
    assert np.abs(ddp - single).max() < 1e-4
    clicks = world.valid["click"].to_numpy()
    assert roc_auc_score(clicks, ddp) == pytest.approx(roc_auc_score(clicks, single), abs=1e-4)
    for one, two in zip(single_history, ddp_history, strict=True):
        assert two["valid_auc"] == pytest.approx(one["valid_auc"], abs=1e-4)
        assert two["valid_logloss"] == pytest.approx(one["valid_logloss"], abs=1e-4)
        assert two["batch_size"] == one["batch_size"] == 256  # the same global batch


def test_the_returned_model_scores_with_the_history_rank_0_validated(
    world: SyntheticWorld, one_and_two_processes
) -> None:
    _, (_, history, pctr) = one_and_two_processes
    best = min(history, key=lambda entry: entry["valid_logloss"])
    assert roc_auc_score(world.valid["click"], pctr) == pytest.approx(best["valid_auc"], abs=1e-6)


@pytest.mark.parametrize(
    ("distributed", "named"),
    [
        ({"nproc_per_node": 0}, "nproc_per_node"),
        ({"nnodes": 0}, "nnodes"),
        ({"rdzv_endpoint": "localhost"}, "rdzv_endpoint"),
        ({"rdzv_endpoint": "localhost:99999"}, "rdzv_endpoint"),
        ({"rdzv_endpoint": "node1:0", "nnodes": 2}, "rdzv_endpoint"),
        ({"backend": "mpi"}, "backend"),
        ({"backend": "nccl"}, "backend"),  # on the CPU device
        ({"nproc": 2}, "nproc"),
    ],
)
def test_bad_distributed_parameters_fail_naming_the_parameter(distributed: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        tiny_params(training={"distributed": distributed})


def test_the_default_is_one_process_and_processes_share_the_threads() -> None:
    distributed = tiny_params().training.distributed
    assert distributed.world_size == 1
    assert threads_per_process(2, distributed.model_copy(update={"nproc_per_node": 2})) == 1
    assert threads_per_process(1, distributed.model_copy(update={"nproc_per_node": 2})) == 1
    assert threads_per_process(8, distributed.model_copy(update={"nproc_per_node": 2})) == 4


def test_each_rank_steps_on_its_half_of_every_batch_and_a_too_short_last_batch_is_left_out(
    world: SyntheticWorld,
) -> None:
    built = built_model(world, tiny_params())
    impressions = prepare_impressions(built.model, world.train.head(9), built.ads, built.requests)
    order = torch.tensor([8, 7, 6, 5, 4, 3, 2, 1, 0])

    def parts(rank: int, batch_size: int) -> list[list[int]]:
        batches = rank_batches(impressions, order, batch_size, built.requests, built.ads, rank, 2)
        return [rows.tolist() for _, rows, _ in batches]

    assert parts(0, 4) == [[8, 7], [4, 3]] and parts(1, 4) == [[6, 5], [2, 1]]  # row 0 alone: left out
    assert parts(0, 3) == [[8, 7], [5, 4], [2, 1]] and parts(1, 3) == [[6], [3], [0]]
    assert list(rank_batches(impressions, order[:0], 4, built.requests, built.ads, 0, 2)) == []
    single = [(rows.tolist(), part.tolist()) for rows, part, _ in rank_batches(
        impressions, order, 4, built.requests, built.ads, 0, 1
    )]  # fmt: skip
    assert single == [([8, 7, 6, 5], [8, 7, 6, 5]), ([4, 3, 2, 1], [4, 3, 2, 1]), ([0], [0])]


def test_loss_shares_make_the_ranks_mean_the_batch_mean() -> None:
    def labels(clicks: list[int]) -> torch.Tensor:
        return torch.tensor([[float(c), 0.0] for c in clicks])

    batch = labels([1, 0, 0, 1, 1])
    first, second = batch[:3], batch[3:]
    assert loss_shares(batch, batch, 1) == (1.0, 1.0)
    assert loss_shares(first, batch, 2) == pytest.approx((6 / 5, 2 / 3))
    assert loss_shares(second, batch, 2) == pytest.approx((4 / 5, 4 / 3))
    assert loss_shares(labels([0, 0]), labels([0, 0, 0]), 2) == pytest.approx((4 / 3, 1.0))  # no click anywhere


def _fail_on_rank_1(payload: str, member: DataParallel) -> str:
    if member.rank == 1:
        raise ValueError(payload)
    return payload


def test_a_failing_rank_fails_the_fit_and_leaves_no_input_file_or_launcher_log(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ChildFailedError, match="rank 1 fails"):
        run_data_parallel(_fail_on_rank_1, "rank 1 fails", DistributedParams(nproc_per_node=2), "gloo")
    # torch.multiprocessing's own pytorch-errorfile-*.pickle of the failed process is all that stays
    assert [path.name for path in tmp_path.iterdir() if not path.name.startswith("pytorch-errorfile-")] == []
