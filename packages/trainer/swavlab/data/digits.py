"""scikit-learn's bundled handwritten digits (1797 real 8×8 images, 10 classes) as RGB images.

Real data that needs no download: the 0..16 grey levels are scaled to uint8 and each image is
upsampled (bilinear) to `image_size` on access, so large sizes cost no memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from .base import LabelledDataset


class DigitsDataset(LabelledDataset):
    """The digits as `(PIL RGB image of side image_size, digit)`."""

    def __init__(self, image_size: int) -> None:
        try:
            from sklearn.datasets import load_digits
        except ImportError as error:
            raise ModuleNotFoundError(
                "data.source 'digits' needs scikit-learn: install the 'digits' extra "
                "(pip install 'swavlab[digits]') or apt-get install python3-sklearn"
            ) from error
        bunch = load_digits()
        self._images = np.rint(np.asarray(bunch.images) * (255.0 / 16.0)).astype(np.uint8)
        self._labels = [int(t) for t in bunch.target]
        self.num_classes = 10
        self.image_size = image_size

    @property
    def labels(self) -> Sequence[int]:
        return self._labels

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        grey = Image.fromarray(self._images[index], "L")
        size = self.image_size
        return grey.resize((size, size), Image.BILINEAR).convert("RGB"), self._labels[index]
