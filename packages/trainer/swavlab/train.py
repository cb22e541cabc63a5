"""The SwAV training run: from a spec to checkpoints, events, evaluations and a result dict.

This module checks the spec against the launch, starts the other ranks and joins their process group; each
rank then builds its parts (:mod:`swavlab.components`), starts or resumes its progress
(:mod:`swavlab.run_state`) and trains (:mod:`swavlab.loop`).

Semantics a caller can rely on (details in packages/trainer/README.md):

* ``epoch`` in checkpoints and ``eval`` events counts *completed* epochs; in ``progress`` and
  ``metrics`` it is the 1-based epoch the step belongs to (the two agree at epoch boundaries).
  ``step`` always counts completed optimiser steps (global iterations).
* Checkpoints are written every ``checkpoint.every_epochs`` epochs, at the end and when stopped,
  never with non-finite weights. ``resume_from`` continues the same run: model, optimiser, scaler,
  schedule position, queue, RNG states, the collapse detector and the open loss window are
  restored, and the epoch's data order and augmentations are functions of (seed, epoch, index), so
  a resumed run (also from a mid-epoch stop, whose done batches are skipped) trains on exactly the
  batches the uninterrupted run would have.
* Stopping (``should_stop()``, SIGUSR1/SIGINT via :mod:`swavlab.stop`) is checked before every
  step (at every log point in a multi-process run, where the ranks must agree), writes a
  checkpoint and returns ``canceled``. A non-finite loss returns ``diverged`` without a checkpoint.
* A fresh run starts from ``model.init_from`` when the spec names one (a checkpoint in the authors'
  release format, :mod:`swavlab.official`); a resumed run from its own checkpoint.
* ``optim.epochs`` 0 trains nothing: the run checkpoints, evaluates and exports its initial weights.
* Invalid specs raise :class:`swavlab.spec.SpecError`; :func:`swavlab.bridge.run` turns exceptions
  into ``failed`` results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from . import distributed
from .amp import autocast_dtype
from .checkpoint import CheckpointWriter
from .components import build_components
from .events import Event, EventThrottle
from .launcher import RankFailed, RankProcesses
from .loop import TrainingLoop
from .run_state import RunState
from .runtime import select_device
from .spec import SpecError, rank_count, spec_hash, validate_spec
from .stop import STOP


def default_out_dir(spec: Mapping[str, Any]) -> Path:
    """``./.swavlab/runs/<first 16 hex digits of the spec hash>``."""
    return Path(".swavlab") / "runs" / spec_hash(spec)[:16]


def _run_rank(
    spec: dict[str, Any],
    device: torch.device,
    info: distributed.LaunchInfo,
    on_event: Callable[[Event], object] | None,
    should_stop: Callable[[], bool] | None,
    out_dir: Path,
    resume_from: str | None,
) -> dict[str, Any]:
    """This process's part of the run: build it, restore its state (fresh or from a checkpoint), train it."""
    events = EventThrottle(on_event if info.is_main else None)
    parts = build_components(spec, device, info, fresh=resume_from is None, announce=events.emit)
    writer = CheckpointWriter(out_dir, int(spec["checkpoint"]["keep_last"])) if info.is_main else None
    state = RunState.fresh(parts) if resume_from is None else RunState.from_checkpoint(resume_from, parts)
    return TrainingLoop(parts, state, events, should_stop, writer).execute()


def train(
    spec: Mapping[str, Any],
    on_event: Callable[[Event], object] | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    out_dir: str | Path | None = None,
    resume_from: str | Path | None = None,
) -> dict[str, Any]:
    """Run SwAV pretraining for ``spec``; returns the result dict (see the module docstring).

    ``on_event`` receives event dicts (at most ~10 per second; checkpoint, eval, collapse_warning,
    diverged and status events are never dropped). ``should_stop`` is polled before every step.
    ``out_dir`` holds the checkpoints (default ``./.swavlab/runs/<spec hash>``); ``resume_from``
    is a checkpoint of the same spec to continue from.
    """
    validated = validate_spec(spec)
    ranks = rank_count(validated["runtime"])
    info = distributed.launch_info_from_env()
    launching = ranks > 1 and not info.distributed
    if launching:
        info = distributed.LaunchInfo(world_size=ranks, rank=0, local_rank=0, local_world_size=ranks)
    elif info.world_size != ranks:
        field = "runtime.gpus" if int(validated["runtime"]["gpus"]) > 1 else "runtime.processes"
        raise SpecError(
            [{"path": field, "message": f"the spec asks for {ranks} ranks but the launcher started {info.world_size}"}]
        )
    device = select_device(validated["runtime"], info.local_rank)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # crop sizes are fixed: pick the fastest kernels once
    autocast_dtype(str(validated["runtime"]["precision"]), device)  # reject unusable precisions first
    directory = Path(out_dir) if out_dir is not None else default_out_dir(validated)
    resume = str(resume_from) if resume_from is not None else None
    owns_group = info.distributed and not distributed.is_distributed()
    store = distributed.rendezvous_store(ranks) if launching else None
    others = RankProcesses(ranks, int(store.port), validated, directory, resume) if store is not None else None
    try:
        distributed.init_process_group(info, device, store)
        result = _run_rank(validated, device, info, on_event, should_stop, directory, resume)
    except BaseException as error:
        if others is not None:
            try:
                others.close(ok=False)
            except RankFailed as failed:
                # Every rank checks the spec alike: rank 0's SpecError is the cause, not the others' exit.
                if not isinstance(error, SpecError):
                    raise failed from error
        raise
    else:
        if others is not None:
            others.close(ok=True)
        return result
    finally:
        STOP.clear()
        if owns_group:
            distributed.destroy_process_group()
