"""Datasets for pretraining and evaluation: synthetic shapes, image folders and sklearn digits.

`build_datasets` turns a validated `spec["data"]` into DatasetSplits (pretraining and evaluation sets);
`MultiCropDataset` and `EvalDataset` wrap them into model inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    "DatasetSplits",
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


@dataclass(frozen=True)
class DatasetSplits:
    """What a run reads: the images it pretrains on and the labelled splits its evaluations use.

    `eval_train` trains the evaluation (k-NN bank, linear classifier, fine-tuning) and `eval_test`
    scores it; both are None when the source has no labels to evaluate against.
    """

    pretrain: LabelledDataset
    eval_train: LabelledDataset | None
    eval_test: LabelledDataset | None

    def summary(self) -> dict[str, int]:
        """Image counts of each split, for the run's record."""
        return {
            "pretrain_images": len(self.pretrain),
            "eval_train_images": 0 if self.eval_train is None else len(self.eval_train),
            "eval_test_images": 0 if self.eval_test is None else len(self.eval_test),
        }


def build_datasets(data_spec: Mapping[str, Any], seed: int) -> DatasetSplits:
    """The splits of a validated `spec["data"]`.

    Synthetic and digits hold out `test_fraction` of the labelled images, deterministically for
    `seed`, and pretrain on the rest. A folder pretrains on every image (labels are not needed to
    pretrain) and splits only its labelled images for evaluation; it has no evaluation splits without
    class sub-folders. Unlabelled root-level images of a folder are pretrained on and never evaluated.
    """
    source = data_spec["source"]
    test_fraction = float(data_spec["test_fraction"])
    if source == "synthetic":
        train, test = synthetic_splits(
            int(data_spec["num_images"]), int(data_spec["num_classes"]), int(data_spec["image_size"]), test_fraction, seed
        )
        return DatasetSplits(train, train, test)
    if source == "digits":
        digits = DigitsDataset(int(data_spec["image_size"]))
        train_idx, test_idx = stratified_split(digits.labels, test_fraction, seed)
        train = Subset(digits, train_idx)
        return DatasetSplits(train, train, Subset(digits, test_idx) if test_idx else None)
    if source == "folder":
        folder = ImageFolderDataset(str(data_spec["path"]))
        train_idx, test_idx = stratified_split(folder.labels, test_fraction, seed)
        if not test_idx:
            return DatasetSplits(folder, None, None)
        return DatasetSplits(folder, Subset(folder, train_idx), Subset(folder, test_idx))
    raise ValueError(f"unknown data.source {source!r}")
