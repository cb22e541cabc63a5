"""Datasets for pretraining and evaluation: synthetic shapes, sklearn digits, image folders
(plain or ImageNet-style), CIFAR-10/100 and STL-10.

`build_datasets` turns a validated `spec["data"]` into DatasetSplits (pretraining and evaluation sets);
`MultiCropDataset` and `EvalDataset` wrap them into model inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import UNLABELLED, LabelledDataset, Subset, stratified_split
from .cifar import CIFAR10, CIFAR100, cifar_splits
from .digits import DigitsDataset
from .folder import IMAGE_EXTENSIONS, ImageFolderDataset
from .imagefolder import imagefolder_splits
from .seeding import derive_seed, seed_worker
from .splits import DatasetSplits
from .stl10 import stl10_splits
from .synthetic import SyntheticShapes, synthetic_splits
from .wrappers import EvalDataset, MultiCropDataset

__all__ = [
    "IMAGE_EXTENSIONS",
    "UNLABELLED",
    "DatasetSplits",
    "DigitsDataset",
    "EvalDataset",
    "ImageFolderDataset",
    "LabelledDataset",
    "MultiCropDataset",
    "Subset",
    "SyntheticShapes",
    "build_datasets",
    "data_seed",
    "derive_seed",
    "seed_worker",
]


def data_seed(spec: Mapping[str, Any]) -> int:
    """The seed the data is drawn from: `data.seed` when the spec sets it, else the run's seed.

    A grid whose cells fix `data.seed` compares its seeds on the same images and splits, so that
    the spread between seeds is the training's alone.
    """
    seed = spec["data"].get("seed")
    return int(spec["seed"] if seed is None else seed)


def build_datasets(data_spec: Mapping[str, Any], seed: int) -> DatasetSplits:
    """The splits of a validated `spec["data"]`.

    Synthetic and digits hold out `test_fraction` of the labelled images, deterministically for
    `seed`, and pretrain on the rest. A folder pretrains on every image (labels are not needed to
    pretrain) and splits only its labelled images for evaluation; it has no evaluation splits without
    class sub-folders. Unlabelled root-level images of a folder are pretrained on and never evaluated.
    Sources with their own train and test sets (imagefolder, cifar10, cifar100, stl10) keep them:
    see each module for what is pretrained on.
    """
    source = data_spec["source"]
    if source == "imagefolder":
        return imagefolder_splits(data_spec)
    if source in ("cifar10", "cifar100"):
        return cifar_splits(data_spec, CIFAR10 if source == "cifar10" else CIFAR100)
    if source == "stl10":
        return stl10_splits(data_spec)
    test_fraction = float(data_spec["test_fraction"])
    if source == "synthetic":
        num_classes = int(data_spec["num_classes"])
        train, test = synthetic_splits(
            int(data_spec["num_images"]), num_classes, int(data_spec["image_size"]), test_fraction, seed
        )
        return DatasetSplits(source, train, train, test, num_classes)
    if source == "digits":
        digits = DigitsDataset(int(data_spec["image_size"]))
        train_idx, test_idx = stratified_split(digits.labels, test_fraction, seed)
        train = Subset(digits, train_idx)
        return DatasetSplits(source, train, train, Subset(digits, test_idx) if test_idx else None, digits.num_classes)
    if source == "folder":
        folder = ImageFolderDataset(str(data_spec["path"]))
        train_idx, test_idx = stratified_split(folder.labels, test_fraction, seed)
        if not test_idx:
            return DatasetSplits(source, folder, None, None, folder.num_classes, folder.skipped)
        return DatasetSplits(
            source, folder, Subset(folder, train_idx), Subset(folder, test_idx), folder.num_classes, folder.skipped
        )
    raise ValueError(f"unknown data.source {source!r}")
