"""The dataset interface every source implements, plus train/test splitting.

A LabelledDataset yields `(PIL.Image RGB, label)`; label -1 marks an unlabelled image (a folder's
root-level files), which pretraining uses and evaluation ignores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import overload

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from .decode import DecodeBound
from .seeding import derive_seed

UNLABELLED = -1


class LabelledDataset(Dataset, ABC):  # type: ignore[type-arg]
    """Images with integer labels in [0, num_classes) (or UNLABELLED).

    `image_size` is the side the evaluation transform resizes to (the native size of the source).
    """

    num_classes: int
    image_size: int

    @property
    @abstractmethod
    def labels(self) -> Sequence[int]:
        """One label per item, in item order (may be a lazy sequence for huge synthetic sets)."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __getitem__(self, index: int) -> tuple[Image.Image, int]: ...

    def decoded_within(self, bound: DecodeBound) -> LabelledDataset:
        """This dataset, or a view of it that may decode images smaller as long as `bound` holds
        (sources whose images are not files return themselves)."""
        del bound
        return self


class _IndexedLabels(Sequence[int]):
    """`base[indices[i]]` without materialising it (a range of 8M indices costs nothing)."""

    def __init__(self, base: Sequence[int], indices: Sequence[int]) -> None:
        self._base = base
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> list[int]: ...
    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return [self._base[j] for j in self._indices[i]]
        return self._base[self._indices[i]]


class Subset(LabelledDataset):
    """A view of `base` restricted to `indices` (any sequence, e.g. a range)."""

    def __init__(self, base: LabelledDataset, indices: Sequence[int]) -> None:
        self.base = base
        self.indices = indices
        self.num_classes = base.num_classes
        self.image_size = base.image_size
        self._labels = _IndexedLabels(base.labels, indices)

    @property
    def labels(self) -> Sequence[int]:
        return self._labels

    def decoded_within(self, bound: DecodeBound) -> Subset:
        return Subset(self.base.decoded_within(bound), self.indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        return self.base[self.indices[index]]


def held_out_count(n: int, test_fraction: float) -> int:
    """How many of `n` items go to the test split: round(n * f), keeping at least one train item."""
    return min(max(n - 1, 0), round(n * test_fraction))


def stratified_split(labels: Sequence[int], test_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Splits item indices into (train, test), taking `test_fraction` of every class for test.

    Deterministic for a seed. Unlabelled items all go to train (pretraining can still use them).
    Returned index lists are sorted, so a split reads its source in order.
    """
    label_array = np.asarray(labels, dtype=np.int64)
    train: list[np.ndarray] = [np.flatnonzero(label_array == UNLABELLED)]
    test: list[np.ndarray] = []
    for cls in np.unique(label_array[label_array != UNLABELLED]):
        members = np.flatnonzero(label_array == cls)
        rng = np.random.default_rng(derive_seed(seed, int(cls)))
        members = rng.permutation(members)
        k = held_out_count(len(members), test_fraction)
        test.append(members[:k])
        train.append(members[k:])
    return (
        sorted(np.concatenate(train).tolist()),
        sorted(np.concatenate(test).tolist()) if test else [],
    )
