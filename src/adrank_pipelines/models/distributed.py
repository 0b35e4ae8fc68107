"""Data-parallel training: processes started by torch's elastic launcher, each a DistributedDataParallel member.

The fit that asks for more than one process hands its inputs to the workers through one pickled file (never
through Kedro: a worker only unpickles tables and parameters and runs the training loop), waits for them, and
takes the first process's return value: rank 0 on the node that holds it (ADR 0022).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
from torch.distributed.launcher.api import LaunchConfig, elastic_launch
from torch.nn.parallel import DistributedDataParallel

from adrank_pipelines.models.config import DistributedParams

PayloadT = TypeVar("PayloadT")
ResultT = TypeVar("ResultT")
ValueT = TypeVar("ValueT")
Backend = Literal["gloo", "nccl"]
PAYLOAD_FILE = "fit_inputs.pkl"


@dataclass(frozen=True)
class DataParallel:
    """How one process takes part in training; this default is a lone process that needs nobody's agreement."""

    rank: int = 0
    world_size: int = 1

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module whose forward and backward a training step calls."""
        return model

    def agree(self, compute: Callable[[], ValueT]) -> ValueT:
        """``compute()``, the same value in every process (decisions such as early stopping hang on it)."""
        return compute()


class ProcessGroupMember(DataParallel):
    """One rank of an initialised process group: gradients all-reduced by DDP, decisions taken by rank 0."""

    def wrap(self, model: nn.Module) -> nn.Module:
        # A batch slice without a click leaves the pCVR head without a gradient on that rank only.
        return DistributedDataParallel(model, find_unused_parameters=True)

    def agree(self, compute: Callable[[], ValueT]) -> ValueT:
        value: list[ValueT | None] = [compute() if self.rank == 0 else None]
        dist.broadcast_object_list(value, src=0)
        return value[0]  # type: ignore[return-value]  # filled by rank 0's broadcast


def process_group_backend(params: DistributedParams, device: torch.device) -> Backend:
    if params.backend != "auto":
        return params.backend
    return "nccl" if device.type == "cuda" else "gloo"


def threads_per_process(num_threads: int, params: DistributedParams) -> int:
    """A node's ``num_threads`` shared by its processes, so N processes on N cores do not oversubscribe them."""
    return max(num_threads // params.nproc_per_node, 1)


def launch_config(params: DistributedParams, log_dir: Path) -> LaunchConfig:
    return LaunchConfig(
        logs_specs=DefaultLogsSpecs(log_dir=str(log_dir)),
        min_nodes=params.nnodes,
        max_nodes=params.nnodes,
        nproc_per_node=params.nproc_per_node,
        run_id=params.run_id,
        rdzv_backend="c10d",
        rdzv_endpoint=params.rdzv_endpoint,
        max_restarts=0,  # a failed rank fails the fit: restarting would retrain from scratch
        start_method="spawn",
    )


def run_data_parallel(
    entrypoint: Callable[[PayloadT, DataParallel], ResultT],
    payload: PayloadT,
    params: DistributedParams,
    backend: Backend,
) -> ResultT:
    """``entrypoint(payload, member)`` in ``params.nproc_per_node`` processes here; the lowest rank's result.

    ``entrypoint`` must be a module-level function (the workers import it); the payload file is removed
    whether the workers succeed or fail, and so are the launcher's per-rank logs (a failure's traceback is in the
    raised error).
    """
    with tempfile.TemporaryDirectory(prefix="adrank-ddp-") as directory:
        path = Path(directory) / PAYLOAD_FILE
        with path.open("wb") as file:
            pickle.dump(payload, file, protocol=pickle.HIGHEST_PROTOCOL)
        config = launch_config(params, Path(directory) / "logs")
        results = elastic_launch(config, _run_member)(entrypoint, str(path), backend)
    returned = [results[rank] for rank in sorted(results) if results[rank] is not None]
    if not returned:
        raise RuntimeError("training.distributed: no process of this node returned a model")
    result: ResultT = returned[0]
    return result


def _run_member(
    entrypoint: Callable[[PayloadT, DataParallel], ResultT], payload_path: str, backend: Backend
) -> ResultT | None:
    """One worker: join the process group, run ``entrypoint``, leave; only a node's first process returns."""
    local_rank = int(os.environ["LOCAL_RANK"])
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend)
    try:
        with Path(payload_path).open("rb") as file:
            payload = pickle.load(file)
        result = entrypoint(payload, ProcessGroupMember(dist.get_rank(), dist.get_world_size()))
    finally:
        dist.destroy_process_group()
    return result if local_rank == 0 else None
