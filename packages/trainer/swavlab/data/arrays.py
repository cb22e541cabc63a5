"""Datasets whose images are rows of a uint8 array (CIFAR's pickles, STL-10's binaries).

Every source stores images channel-first in a layout of its own, `(3, a, b)` per image; each says
which stored axes become (height, width, channel), and `__getitem__` reorders one image at a time. STL-10's files are memory-mapped rather than read: its unlabelled split
alone is 2.7 GB, of which a DataLoader worker touches only the pages of the images it decodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .base import LabelledDataset

# Stored axes of one image, in the order (height, width, channel): the argument of `transpose`.
Axes = tuple[int, int, int]


class ArrayImages(LabelledDataset):
    """`stored[i]` (one image of `stored_shape`, reordered by `axes`) as an RGB image, with its label.

    `stored` is an in-memory array of N rows, or None with `mapped` = (file, N) for a file of N images of
    `stored_shape` each, memory-mapped on first access; pickling (a spawned worker) drops the map,
    never copies the file's contents.
    """

    def __init__(
        self,
        stored: np.ndarray | None,
        stored_shape: tuple[int, int, int],
        axes: Axes,
        labels: Sequence[int],
        classes: Sequence[str],
        mapped: tuple[Path, int] | None = None,
    ) -> None:
        self._stored = stored
        self._stored_shape = stored_shape
        self._axes = axes
        self._mapped = mapped
        self._labels = list(labels)
        self.classes = list(classes)
        self.num_classes = len(self.classes)
        self.image_size = stored_shape[self._axes[0]]

    def _array(self) -> np.ndarray:
        if self._stored is None:
            assert self._mapped is not None
            path, count = self._mapped
            self._stored = np.memmap(path, dtype=np.uint8, mode="r", shape=(count, *self._stored_shape))
        return self._stored

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._mapped is not None:
            state["_stored"] = None
        return state

    @property
    def labels(self) -> Sequence[int]:
        return self._labels

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        stored = self._array()[index].reshape(self._stored_shape)
        pixels = np.ascontiguousarray(stored.transpose(self._axes))
        return Image.fromarray(pixels, "RGB"), self._labels[index]
