"""The multi-crop training DataLoader: reproducible per epoch, resumable mid-epoch, batches grouped by resolution.

* Order: torch's DistributedSampler (seed + epoch; one shard per rank, a single shard without a
  launcher), so an epoch's batches depend only on (seed, epoch), never on what ran before.
* Augmentations: :class:`swavlab.data.MultiCropDataset` draws them from (seed, epoch, index). The
  sampler hands ``(epoch, index)`` keys to the dataset, which is how the epoch reaches *persistent*
  workers (they keep their own copy of the dataset, so ``set_epoch`` in the parent would not).
* Resume: ``start_epoch(epoch, skip_batches)`` drops the batches a stopped run already trained on.
* Collation: crops of the same resolution are stacked into one tensor in the worker (one
  ``[count * B, C, H, W]`` tensor per resolution group, crop-major), so the training step does no
  concatenation and the model runs one backbone call per resolution.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
import signal
from itertools import islice
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, get_worker_info

EpochIndex = tuple[int, int]


class EpochKeyedCrops(Dataset):  # type: ignore[type-arg]
    """Adapts a dataset with ``set_epoch`` + ``__getitem__(index)`` to ``(epoch, index)`` keys."""

    def __init__(self, crops: Any) -> None:
        self.crops = crops

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, key: EpochIndex) -> list[torch.Tensor]:
        epoch, index = key
        self.crops.set_epoch(epoch)
        return self.crops[index]


class ResumableSampler(DistributedSampler):  # type: ignore[type-arg]
    """DistributedSampler that yields ``(epoch, index)`` and can skip the first batches of an epoch."""

    def __init__(self, size: int, batch_size: int, seed: int, rank: int, world_size: int) -> None:
        super().__init__(range(size), num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.batch_size = batch_size
        self._skip = 0

    @property
    def batches_per_epoch(self) -> int:
        """Full batches per epoch on this rank (the last partial batch is dropped)."""
        return self.num_samples // self.batch_size

    def start_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        """Select the epoch's order and how many of its leading batches were already trained on."""
        self.set_epoch(epoch)
        self._skip = skip_batches * self.batch_size

    def __iter__(self) -> Iterator[EpochIndex]:  # type: ignore[override]
        epoch = self.epoch
        for index in islice(super().__iter__(), self._skip, None):
            yield (epoch, index)

    def __len__(self) -> int:
        return max(0, self.num_samples - self._skip)


def collate_by_resolution(samples: Sequence[Sequence[torch.Tensor]]) -> list[torch.Tensor]:
    """Stack a batch of multi-crop samples into one tensor per run of same-resolution crops.

    Output tensor ``g`` holds its crops one after the other (crop-major), the layout the SwAV loss
    expects. In a worker process the output is allocated in shared memory directly, saving the copy
    the DataLoader would otherwise make to send it to the main process.
    """
    batch = len(samples)
    n_crops = len(samples[0])
    groups: list[list[int]] = []
    for crop in range(n_crops):
        if groups and samples[0][crop].shape == samples[0][groups[-1][0]].shape:
            groups[-1].append(crop)
        else:
            groups.append([crop])
    in_worker = get_worker_info() is not None
    out: list[torch.Tensor] = []
    for group in groups:
        first = samples[0][group[0]]
        tensor = torch.empty((len(group) * batch, *first.shape), dtype=first.dtype)
        if in_worker:
            tensor.share_memory_()
        for position, crop in enumerate(group):
            torch.stack([sample[crop] for sample in samples], out=tensor[position * batch : (position + 1) * batch])
        out.append(tensor)
    return out


def ignore_interrupts(_worker_id: int) -> None:
    """Worker init: Ctrl-C reaches the whole process group, but only the main process should react
    (it checkpoints and stops); a worker dying on SIGINT would instead crash the loader."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def build_train_loader(
    crops_dataset: Any,
    batch_size: int,
    seed: int,
    workers: int,
    rank: int,
    world_size: int,
    pin_memory: bool,
) -> tuple[DataLoader, ResumableSampler]:  # type: ignore[type-arg]
    """DataLoader over ``crops_dataset`` (a MultiCropDataset) and the sampler that drives its epochs."""
    sampler = ResumableSampler(len(crops_dataset), batch_size, seed, rank, world_size)
    # Workers prefetch several batches ahead so augmentation stays off the training step's path
    # (torch 1.13 rejects any prefetch_factor without workers, 2.x anything but None).
    prefetch: dict[str, Any] = {"prefetch_factor": 4, "persistent_workers": True} if workers > 0 else {}
    loader = DataLoader(
        EpochKeyedCrops(crops_dataset),
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate_by_resolution,
        worker_init_fn=ignore_interrupts,
        pin_memory=pin_memory,
        drop_last=True,
        **prefetch,
    )
    return loader, sampler
