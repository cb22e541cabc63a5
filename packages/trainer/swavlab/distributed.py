"""torch.distributed for swavlab: joining the process group, wrapping the model, and collectives that degrade.

One device must just work without a launcher, so the process group is only created for a run of several ranks:
started by :mod:`swavlab.launcher` from the spec's ``runtime.gpus`` / ``runtime.processes``, or by torchrun
(``WORLD_SIZE > 1`` in the environment). Every collective helper gives the single-process answer when no group is
initialised, so single-process code paths need no special casing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from .sync_batchnorm import convert_to_process_group_batchnorm

# Long enough for rank 0's evaluation while the other ranks wait at a barrier; a rank that dies is
# noticed by the launcher's monitor long before this.
COLLECTIVE_TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class LaunchInfo:
    """This process's place in a torchrun launch (a single process when not launched)."""

    world_size: int
    rank: int
    local_rank: int
    local_world_size: int

    @property
    def is_main(self) -> bool:
        """Rank 0 emits events, writes checkpoints and evaluates."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def launch_info_from_env() -> LaunchInfo:
    """Read torchrun's variables (WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    return LaunchInfo(
        world_size=world_size,
        rank=int(os.environ.get("RANK", "0")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        local_world_size=local_world_size,
    )


def rendezvous_store(world_size: int) -> dist.TCPStore:
    """The rendezvous rank 0 hosts when it starts the other ranks itself; its ``port`` is theirs to join.

    Port 0: the store binds a free port itself, so two runs on one host never race for one.
    """
    return dist.TCPStore("127.0.0.1", 0, world_size, True, COLLECTIVE_TIMEOUT, wait_for_workers=False)


def init_process_group(info: LaunchInfo, device: torch.device, store: dist.Store | None = None) -> None:
    """Join the group: NCCL between GPUs, gloo on CPU (no-op for a single process).

    ``store`` is the rendezvous rank 0 created itself (launcher); without one the environment's
    MASTER_ADDR/MASTER_PORT are used, as torchrun and the launcher's other ranks set them.
    """
    if not info.distributed or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    # env:// puts its keys under "default_pg"; a store given directly must too, or the two sides never meet.
    rendezvous = {"store": dist.PrefixStore("default_pg", store)} if store is not None else {"init_method": "env://"}
    dist.init_process_group(
        backend=backend, world_size=info.world_size, rank=info.rank, timeout=COLLECTIVE_TIMEOUT, **rendezvous
    )


def destroy_process_group() -> None:
    """Leave the group so a later run in the same process can start cleanly."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op for a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def wrap_model(model: nn.Module, info: LaunchInfo, device: torch.device, sync_bn: bool) -> nn.Module:
    """DDP-wrap ``model`` for a multi-process run, with BatchNorm over the global batch when ``sync_bn``.

    On GPUs that is torch's SyncBatchNorm; on the CPU, where it does not run, the gloo version of
    :mod:`swavlab.sync_batchnorm`, on a process group of its own so that its collectives never
    interleave with DDP's gradient buckets.
    """
    if not info.distributed:
        return model
    if sync_bn and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    elif sync_bn:
        model = convert_to_process_group_batchnorm(model, dist.new_group(backend="gloo"))
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def is_distributed() -> bool:
    """True when torch.distributed is available and a process group has been initialised."""
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """Number of processes in the default group (1 without a group)."""
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """Rank of this process in the default group (0 without a group)."""
    return dist.get_rank() if is_distributed() else 0


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sums `tensor` in place over all processes and returns it (unchanged without a group)."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_reduce_max(tensor: torch.Tensor) -> torch.Tensor:
    """Element-wise maximum of `tensor` in place over all processes; returns it (unchanged without a
    group)."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return tensor


def all_gather_object(value: Any) -> list[Any]:
    """Every rank's picklable `value`, in rank order (`[value]` without a group)."""
    if not is_distributed():
        return [value]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, value)
    return gathered
