"""Everything a training run builds from its spec before the first step, in one place.

The order of construction is part of the run's determinism: the process is seeded first, then the
datasets, the loader and the model draw from the seeded generators in a fixed order, so the same spec
builds the same initial weights whether the run is fresh or about to be resumed (a resume then loads
its checkpoint over them, :mod:`swavlab.run_state`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from . import distributed
from .amp import autocast_dtype, make_grad_scaler
from .events import Event, dataset_event
from .feature_queue import FeatureQueue
from .loader import ResumableSampler, build_train_loader
from .models import SwAVModel, build_model
from .optim import build_optimizer, lr_schedule
from .runtime import configure_threads, seed_everything
from .spec import SpecError
from .step import GradScaler, SwAVStep

if TYPE_CHECKING:
    from .data import DatasetSplits


def log_interval(iters_per_epoch: int) -> int:
    """Steps between log points: about 8 per epoch, at most every 50 steps, at least every step."""
    return max(1, min(50, iters_per_epoch // 8))


def _data_module() -> Any:
    # Imported on first use: it pulls in torchvision and PIL, which `import swavlab` should not pay for.
    from . import data

    return data


@dataclass(frozen=True)
class RunComponents:
    """The parts of one run (one process of it in a multi-process run) and the numbers derived from its spec.

    ``model`` is what runs forward (the DDP wrapper in a multi-process run), ``core`` the SwAVModel
    inside it, whose state is checkpointed. ``schedule`` holds one learning rate per global step.
    """

    spec: dict[str, Any]
    device: torch.device
    info: distributed.LaunchInfo
    seed: int
    epochs: int
    batch_size: int
    datasets: DatasetSplits
    loader: DataLoader  # type: ignore[type-arg]
    sampler: ResumableSampler
    iters_per_epoch: int
    total_steps: int
    log_every: int
    core: SwAVModel
    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: np.ndarray
    scaler: GradScaler | None
    step_fn: SwAVStep
    freeze_iters: int
    queue_start_epoch: int
    queue_length: int

    def new_queue(self) -> FeatureQueue:
        """An empty queue of this rank's share of ``swav.queue_length`` for the assignment crops."""
        return FeatureQueue(
            len(self.step_fn.crops_for_assign),
            self.queue_length,
            int(self.spec["model"]["feat_dim"]),
            device=self.device,
        )


def build_components(
    spec: dict[str, Any],
    device: torch.device,
    info: distributed.LaunchInfo,
    *,
    fresh: bool,
    announce: Callable[[Event], object],
) -> RunComponents:
    """Seed the process and build the run of the validated ``spec``.

    ``fresh`` loads ``model.init_from`` (a resumed run takes its weights from its checkpoint instead).
    ``announce`` receives the dataset event as soon as the datasets are built, so that what the run reads
    is on record even when the spec is then refused (a batch larger than a rank's share of the images).
    """
    optim, swav, runtime = spec["optim"], spec["swav"], spec["runtime"]
    seed = int(spec["seed"])
    epochs = int(optim["epochs"])
    batch_size = int(optim["batch_size"])

    configure_threads(int(runtime["threads"]), info.local_world_size)
    seed_everything(seed)
    data = _data_module()
    datasets = data.build_datasets(spec["data"], data.data_seed(spec))
    announce(dataset_event(datasets.summary()))
    crops = data.MultiCropDataset(datasets.pretrain, swav["crops"], seed, spec["data"]["augment"])
    loader, sampler = build_train_loader(
        crops,
        batch_size,
        seed,
        int(runtime["workers"]),
        info.rank,
        info.world_size,
        pin_memory=device.type == "cuda",
    )
    iters_per_epoch = sampler.batches_per_epoch
    if iters_per_epoch < 1 and epochs > 0:
        raise SpecError(
            [
                {
                    "path": "optim.batch_size",
                    "message": f"{batch_size} is larger than the {sampler.num_samples} training "
                    "images each process sees; lower it or add images",
                }
            ]
        )

    core: SwAVModel = build_model(spec, channels_last=True)
    if fresh and "init_from" in spec["model"]:
        from .official import load_release_weights

        load_release_weights(core, str(spec["model"]["init_from"]))
    core.to(device)
    model = distributed.wrap_model(core, info, device, bool(runtime["sync_bn"]))
    optimizer = build_optimizer(core, optim)
    # Without epochs there is nothing to schedule.
    schedule = np.zeros(0) if epochs == 0 else lr_schedule(
        float(optim["base_lr"]),
        float(optim["final_lr"]),
        epochs,
        iters_per_epoch,
        int(optim["warmup_epochs"]),
        float(optim["start_warmup"]),
    )
    amp = autocast_dtype(str(runtime["precision"]), device)
    scaler = make_grad_scaler(amp, device)
    return RunComponents(
        spec=spec,
        device=device,
        info=info,
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        datasets=datasets,
        loader=loader,
        sampler=sampler,
        iters_per_epoch=iters_per_epoch,
        total_steps=epochs * iters_per_epoch,
        log_every=log_interval(iters_per_epoch),
        core=core,
        model=model,
        optimizer=optimizer,
        schedule=schedule,
        scaler=scaler,
        step_fn=SwAVStep(model, core, optimizer, swav, batch_size, device, amp, scaler),
        freeze_iters=int(swav["freeze_prototypes_iters"]),
        queue_start_epoch=int(swav["queue_start_epoch"]),
        queue_length=int(swav["queue_length"]) // info.world_size,
    )
