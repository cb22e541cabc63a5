"""Frozen-backbone features of a labelled split under the deterministic evaluation transform."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from ..data.base import UNLABELLED, LabelledDataset, Subset
from ..data.seeding import seed_worker
from ..data.wrappers import EvalDataset


def labelled_only(dataset: LabelledDataset) -> LabelledDataset:
    """`dataset` without its unlabelled items (a folder's root-level images), which no evaluation can use."""
    labels = np.fromiter(dataset.labels, dtype=np.int64, count=len(dataset))
    if not (labels == UNLABELLED).any():
        return dataset
    return Subset(dataset, np.flatnonzero(labels != UNLABELLED).tolist())


def eval_loader(
    dataset: LabelledDataset, image_size: int, batch_size: int, workers: int, device: torch.device
) -> DataLoader:  # type: ignore[type-arg]
    """Batches of `(eval_transform(image_size)(image), label)` in dataset order."""
    return DataLoader(
        EvalDataset(dataset, image_size),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        worker_init_fn=seed_worker,
        pin_memory=device.type == "cuda",
    )


def pooled_features(
    backbone_fn: Callable[[Tensor], Tensor],
    loader: Iterable[tuple[Tensor, Tensor]],
    device: torch.device | str,
) -> tuple[Tensor, Tensor]:
    """Runs `backbone_fn` over `loader` without gradients; returns (features [N, d], labels [N]).

    Both tensors are float32/int64 on the CPU, so the device only holds one batch at a time. The
    caller puts the model in eval mode (BatchNorm running statistics).
    """
    features: list[Tensor] = []
    labels: list[Tensor] = []
    with torch.no_grad():
        for images, targets in loader:
            out = backbone_fn(images.to(device, non_blocking=True))
            features.append(out.float().flatten(1).cpu())
            labels.append(torch.as_tensor(targets).long().cpu())
    if not features:
        raise ValueError("extract_features: the loader yielded no batches")
    return torch.cat(features), torch.cat(labels)


def extract_features(
    backbone_fn: Callable[[Tensor], Tensor],
    loader: Iterable[tuple[Tensor, Tensor]],
    device: torch.device | str,
) -> tuple[Tensor, Tensor]:
    """:func:`pooled_features` L2-normalised, as k-NN and the fast probe read them."""
    features, labels = pooled_features(backbone_fn, loader, device)
    return F.normalize(features, dim=1), labels
