"""Datasets for pretraining and evaluation: synthetic shapes, image folders and sklearn digits.

`build_datasets` turns a validated `spec["data"]` into (train, test) LabelledDatasets;
`MultiCropDataset` and `EvalDataset` wrap them into model inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import UNLABELLED, LabelledDataset, Subset, stratified_split
from .digits import DigitsDataset
from .folder import IMAGE_EXTENSIONS, ImageFolderDataset
from .seeding import derive_seed, seed_worker
from .synthetic import SyntheticShapes, synthetic_splits
from .wrappers import EvalDataset, MultiCropDataset

__all__ = [
    "IMAGE_EXTENSIONS",
    "UNLABELLED",
    "DigitsDataset",
    "EvalDataset",
    "ImageFolderDataset",
    "LabelledDataset",
    "MultiCropDataset",
    "Subset",
    "SyntheticShapes",
    "build_datasets",
    "derive_seed",
    "seed_worker",
]


def build_datasets(data_spec: Mapping[str, Any], seed: int) -> tuple[LabelledDataset, LabelledDataset | None]:
    """(train split, labelled test split or None) for a validated `spec["data"]`.

    The split holds out `test_fraction` of the labelled images, deterministically for `seed`.
    The test split is None for a folder without class sub-folders (nothing to evaluate against);
    unlabelled root-level images of a folder always go to the train split (label UNLABELLED).
    """
    source = data_spec["source"]
    test_fraction = float(data_spec["test_fraction"])
    if source == "synthetic":
        return synthetic_splits(
            int(data_spec["num_images"]), int(data_spec["num_classes"]), int(data_spec["image_size"]), test_fraction, seed
        )
    if source == "digits":
        full: LabelledDataset = DigitsDataset(int(data_spec["image_size"]))
    elif source == "folder":
        full = ImageFolderDataset(str(data_spec["path"]))
    else:
        raise ValueError(f"unknown data.source {source!r}")
    train_idx, test_idx = stratified_split(full.labels, test_fraction, seed)
    return Subset(full, train_idx), (Subset(full, test_idx) if test_idx else None)
