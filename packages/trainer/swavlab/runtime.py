"""Process-level setup for a run: device, threads, seeds, RNG snapshots and memory readings."""

from __future__ import annotations

import os
import random
import resource
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .spec import SpecError


def select_device(runtime: Mapping[str, Any], local_rank: int = 0) -> torch.device:
    """The device of one rank for a validated ``runtime`` section.

    Several CPU processes run on the CPU; several GPUs need that many visible (rank r takes the
    r-th); ``auto`` is CUDA when available. A request the host cannot meet is a SpecError naming
    the field.
    """
    requested, gpus = str(runtime["device"]), int(runtime["gpus"])
    if int(runtime["processes"]) > 1:
        return torch.device("cpu")
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() or gpus > 1 else "cpu"
    if requested == "cpu":
        return torch.device("cpu")
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if visible < gpus or visible == 0:
        field = "runtime.gpus" if gpus > 1 else "runtime.device"
        wanted = f"{gpus} GPUs" if gpus > 1 else "a CUDA device"
        raise SpecError([{"path": field, "message": f"the run needs {wanted} but {visible} are visible here"}])
    return torch.device("cuda", local_rank % visible)


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, which containers narrow), else os.cpu_count()."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def configure_threads(threads: int, processes_per_host: int = 1) -> int:
    """Set torch's intra-op threads; 0 = all cores shared evenly by the processes on this host."""
    count = threads if threads > 0 else max(1, available_cores() // max(1, processes_per_host))
    torch.set_num_threads(count)
    return count


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all CUDA devices included) so model init is reproducible."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng_state() -> dict[str, Any]:
    """RNG states as tensors and plain numbers only, so checkpoints load with ``weights_only``."""
    py_version, py_internal, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": py_version, "internal": list(py_internal), "gauss": py_gauss},
        "numpy": {
            "kind": np_kind,
            "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "gauss": float(np_gauss),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state` (CUDA states only when the device count matches)."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["kind"], keys, npy["pos"], npy["has_gauss"], npy["gauss"]))
    torch.set_rng_state(state["torch"])
    cuda_states = state.get("cuda") or []
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)


def reset_peak_memory(device: torch.device) -> None:
    """Start a fresh peak-memory window (CUDA only; the CPU figure is a process-lifetime maximum)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_bytes(device: torch.device) -> int:
    """CUDA: max memory allocated by tensors; CPU: the process's peak resident set size."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return int(peak if sys.platform == "darwin" else peak * 1024)
