"""What the evaluations that train on images share (eval_linear.py and eval_semisup.py of the authors'
release): the training augmentation RandomResizedCrop + horizontal flip + normalisation, its shuffled
epochs, and the report of each finished epoch.

Reproducible like pretraining (see swavlab/data/seeding.py): the order of epoch e is the one
DistributedSampler draws for (seed, e), as the release's loaders do, and the augmentation of item i in
epoch e is drawn from torch's CPU generator seeded with derive_seed(seed, e, i), whatever the number of
DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torchvision import transforms

from ..data.base import LabelledDataset
from ..data.seeding import derive_seed, seed_worker
from ..data.transforms import to_normalised_tensor
from ..data.wrappers import EvalDataset

# (epoch just finished, 1-based; the evaluation's epochs; {"loss", "lr", "top1", "top5"}).
EpochReport = Callable[[int, int, Mapping[str, float]], None]


def eval_crop_size(dataset: LabelledDataset, image_size: int) -> int:
    """The side of the evaluation transform's centre crop (224 for large images, else `image_size`):
    training crops take the same size, as eval_linear.py trains at 224 and tests on 224 centre crops."""
    image, _ = EvalDataset(dataset, image_size)[0]
    return int(image.shape[-1])


class AugmentedImages(Dataset):  # type: ignore[type-arg]
    """Yields `(Tensor, label)`: RandomResizedCrop(crop), RandomHorizontalFlip, normalisation.

    Call `set_epoch(e)` before iterating epoch e (the DataLoader copies the dataset into its workers
    when an epoch's iteration starts).
    """

    def __init__(self, base: LabelledDataset, crop: int, seed: int) -> None:
        self.base = base
        self.seed = seed
        self.epoch = 0
        self._augment = transforms.Compose(
            [transforms.RandomResizedCrop(crop), transforms.RandomHorizontalFlip(), to_normalised_tensor]
        )

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch whose augmentations `__getitem__` draws."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index]
        return self._draw(image, index), label

    def _draw(self, image: Image.Image, index: int) -> torch.Tensor:
        generator = torch.default_generator
        saved = generator.get_state()
        # Only the CPU generator: torch.manual_seed would also reset CUDA generators of the process.
        generator.manual_seed(derive_seed(self.seed, self.epoch, index))
        try:
            return self._augment(image)
        finally:
            generator.set_state(saved)


def epoch_loader(
    images: AugmentedImages,
    batch_size: int,
    epoch: int,
    workers: int,
    device: torch.device,
    *,
    drop_last: bool = False,
) -> DataLoader:  # type: ignore[type-arg]
    """The batches of epoch `epoch`: DistributedSampler's shuffled order for (images.seed, epoch)."""
    images.set_epoch(epoch)
    sampler = DistributedSampler(images, num_replicas=1, rank=0, shuffle=True, seed=images.seed)
    sampler.set_epoch(epoch)
    return DataLoader(
        images,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        worker_init_fn=seed_worker,
        pin_memory=device.type == "cuda",
        drop_last=drop_last,
    )
