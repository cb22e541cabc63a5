"""Multi-process data parallelism when launched by torchrun; nothing at all otherwise.

One device must just work without a launcher (SWAV_REFERENCE.md, pitfall 4), so the process group
is only created when the environment says so (``WORLD_SIZE > 1``, as torchrun sets it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


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


def init_process_group(info: LaunchInfo, device: torch.device) -> None:
    """Join the torchrun group: NCCL between GPUs, gloo on CPU (no-op for a single process)."""
    if not info.distributed or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, init_method="env://", world_size=info.world_size, rank=info.rank)


def destroy_process_group() -> None:
    """Leave the group so a later run in the same process can start cleanly."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op for a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def wrap_model(model: nn.Module, info: LaunchInfo, device: torch.device, sync_bn: bool) -> nn.Module:
    """DDP-wrap ``model`` for a multi-process run, with synchronised BatchNorm on GPUs.

    SyncBatchNorm only runs on CUDA tensors (torch 1.13 and 2.x), so on CPU the ranks keep local
    BatchNorm batch statistics (DDP still broadcasts rank 0's running statistics each forward).
    """
    if not info.distributed:
        return model
    if sync_bn and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
