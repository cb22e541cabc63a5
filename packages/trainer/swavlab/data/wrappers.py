"""Datasets that turn a LabelledDataset into model inputs: multi-crop views or evaluation tensors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from .base import LabelledDataset
from .seeding import derive_seed
from .transforms import eval_transform, multi_crop_decode_bound, multi_crop_transforms


class MultiCropDataset(Dataset):  # type: ignore[type-arg]
    """Yields `list[Tensor]`, one augmented crop per entry of the flattened crop list.

    The augmentations of item `i` in epoch `e` are a pure function of (seed, e, i): torch's CPU
    generator is re-seeded for the item and restored afterwards. A run therefore sees identical
    crops with 0 or N DataLoader workers, and a resumed run the same crops as an uninterrupted one.
    Call `set_epoch(e)` before iterating each epoch; it reaches the workers because a DataLoader
    without `persistent_workers` copies the dataset when an epoch's iteration starts.

    Large JPEGs are decoded at the smallest scale the crops lose nothing at but resolution (see
    `multi_crop_decode_bound`): crops are drawn from the same distribution, still a pure function of
    (seed, epoch, index), but not the same pixels as from the full-size image.
    """

    def __init__(
        self,
        base: LabelledDataset,
        crops: Sequence[Mapping[str, Any]],
        seed: int = 0,
        augment: Mapping[str, float] | None = None,
    ) -> None:
        self.base = base.decoded_within(multi_crop_decode_bound(crops))
        self.crops = [dict(group) for group in crops]
        self.seed = seed
        self.epoch = 0
        self._transforms = multi_crop_transforms(self.crops, augment)

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch whose augmentations `__getitem__` draws."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> list[torch.Tensor]:
        image, _ = self.base[index]
        generator = torch.default_generator
        saved = generator.get_state()
        # Only the CPU generator: torch.manual_seed would also reset CUDA generators of the process.
        generator.manual_seed(derive_seed(self.seed, self.epoch, index))
        try:
            return [t(image) for t in self._transforms]
        finally:
            generator.set_state(saved)


class EvalDataset(Dataset):  # type: ignore[type-arg]
    """Yields `(Tensor, label)` with the deterministic evaluation transform (see `eval_transform`)."""

    def __init__(self, base: LabelledDataset, image_size: int) -> None:
        self.base = base
        self.image_size = image_size
        self._transform = eval_transform(image_size)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index]
        return self._transform(image), label
