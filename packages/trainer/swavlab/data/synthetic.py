"""Seeded synthetic image classification data, generated lazily per index.

Classes differ by *shape and texture* (shape family × fill pattern × layout: 10 × 10 × 10 = 1000
classes), while colours (foreground and background), position, scale, rotation and noise are
drawn at random per image. Raw pixels and a randomly initialised network mostly see colour,
which carries no class information, so they do poorly; features invariant to SwAV's colour and
crop augmentations do well. That gap is what the pretraining-quality benchmark measures.

Image `i` of a dataset with seed `s` is a pure function of (s, i) and is rendered on demand in
`__getitem__`, so 10M images cost no memory and any DataLoader worker produces the same pixels.
Label of image `i` is `i % num_classes` (balanced classes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
from PIL import Image

from .base import LabelledDataset, Subset, held_out_count
from .seeding import derive_seed
from .shapes import BACKGROUNDS, MIX_PATTERNS, PATTERNS, SHAPES, SILHOUETTE_PATTERNS, background_mix

_SHAPE_NAMES = tuple(SHAPES)
MAX_CLASSES = len(_SHAPE_NAMES) * len(PATTERNS) * 2 * len(BACKGROUNDS)


def class_recipe(label: int) -> tuple[str, str, int, str]:
    """(shape, pattern, copies, background) of a class.

    The first ten classes already differ in both shape and pattern (pattern = shape index), so a
    small class count is not a shape-only puzzle; higher labels add layouts. Injective on [0, 1000).
    """
    if not 0 <= label < MAX_CLASSES:
        raise ValueError(f"label must be in [0, {MAX_CLASSES}); got {label}")
    shape = label % 10
    pattern = (label + label // 10) % 10
    layout = label // 100
    return _SHAPE_NAMES[shape], PATTERNS[pattern], 1 + layout % 2, BACKGROUNDS[layout // 2]


Colour = tuple[float, float, float]


def _distinct_colour(candidates: Sequence[Colour], avoid: Sequence[Colour], min_distance: float) -> Colour:
    """The first candidate RGB colour at least `min_distance` (Euclidean, 0..255) from every colour in `avoid`.

    Guarantees contrast so the shape is always visible; if no candidate qualifies it falls back
    to the complement of the first colour to avoid, which always contrasts with it. Plain Python
    floats: for 3-vectors this is several times faster than NumPy's per-call overhead.
    """
    limit = min_distance * min_distance
    for c in candidates:
        if all((c[0] - a[0]) ** 2 + (c[1] - a[1]) ** 2 + (c[2] - a[2]) ** 2 >= limit for a in avoid):
            return c
    first = avoid[0]
    return (255.0 - first[0], 255.0 - first[1], 255.0 - first[2])


class _CyclicLabels(Sequence[int]):
    def __init__(self, length: int, num_classes: int) -> None:
        self._length = length
        self._num_classes = num_classes

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> list[int]: ...
    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return [j % self._num_classes for j in range(self._length)[i]]
        if not -self._length <= i < self._length:
            raise IndexError(i)
        return (i % self._length) % self._num_classes


class SyntheticShapes(LabelledDataset):
    """`num_images` labelled RGB images of side `image_size`, deterministic for `seed`."""

    def __init__(self, num_images: int, num_classes: int, image_size: int, seed: int) -> None:
        if not 2 <= num_classes <= MAX_CLASSES:
            raise ValueError(f"num_classes must be in [2, {MAX_CLASSES}]; got {num_classes}")
        if image_size < 1 or num_images < 1:
            raise ValueError(f"image_size and num_images must be positive; got {image_size}, {num_images}")
        self.num_images = num_images
        self.num_classes = num_classes
        self.image_size = image_size
        self.seed = seed
        self.class_names = ["/".join(map(str, class_recipe(c))) for c in range(num_classes)]
        self._labels = _CyclicLabels(num_images, num_classes)
        # Pixel-centre coordinates, broadcast to (size, size) by the arithmetic.
        coords = np.arange(image_size, dtype=np.float32) + 0.5
        self._x = coords[None, :]
        self._y = coords[:, None]

    @property
    def labels(self) -> Sequence[int]:
        return self._labels

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        if not 0 <= index < self.num_images:
            raise IndexError(f"index {index} out of range for {self.num_images} images")
        label = index % self.num_classes
        return Image.fromarray(self.render(index, label), "RGB"), label

    def render(self, index: int, label: int) -> np.ndarray:
        """The uint8 HxWx3 image for (seed, index) drawn from class `label`."""
        rng = np.random.default_rng(derive_seed(self.seed, index))
        shape, pattern, copies, background = class_recipe(label)
        size = self.image_size
        x, y = self._x, self._y
        # All random draws up front, in one call each: per-call overhead dominates at 32 px.
        colours: list[Colour] = (rng.random((25, 3)) * 255.0).tolist()
        params = rng.random(1 + 4 * copies)
        noise = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)

        bg_c = colours[0]
        fg_c = _distinct_colour(colours[1:9], [bg_c], 110.0)
        fg2_c = _distinct_colour(colours[9:17], [fg_c, bg_c], 80.0)
        bg2_c = _distinct_colour(colours[17:25], [bg_c, fg_c], 60.0)
        bg, fg, fg2, bg2 = (np.array(c, dtype=np.float32) for c in (bg_c, fg_c, fg2_c, bg2_c))

        image = np.empty((size, size, 3), dtype=np.float32)
        image[...] = bg
        bg_mix = background_mix(background, x, y, size)
        if bg_mix is not None:
            image += bg_mix[..., None] * (bg2 - bg)

        base_radius = size * (0.3 + 0.14 * params[0]) * (0.7 if copies > 1 else 1.0)
        for c in range(copies):
            jitter, px, py, turn = params[1 + 4 * c : 5 + 4 * c]
            radius = base_radius * (0.9 + 0.2 * jitter)
            margin = min(radius * 0.9, size / 2)
            cx = margin + (size - 2 * margin) * px
            cy = margin + (size - 2 * margin) * py
            theta = 2.0 * np.pi * turn
            cos, sin = np.float32(np.cos(theta) / radius), np.float32(np.sin(theta) / radius)
            dx, dy = x - np.float32(cx), y - np.float32(cy)
            u = dx * cos + dy * sin
            v = dy * cos - dx * sin
            distance = SHAPES[shape](u, v)
            if pattern in SILHOUETTE_PATTERNS:
                distance = SILHOUETTE_PATTERNS[pattern](distance, u, v)
            alpha = np.minimum(np.maximum(0.5 - distance * np.float32(radius), 0.0), 1.0)[..., None]
            if pattern in MIX_PATTERNS:
                colour = fg + MIX_PATTERNS[pattern](u, v)[..., None] * (fg2 - fg)
            else:
                colour = fg
            image += alpha * (colour - image)

        # Uniform noise from random bytes (much cheaper than Gaussian draws), amplitude 0..±12.
        noise_scale = np.float32(rng.random() * 12.0 / 127.5)
        image += (noise.astype(np.float32) - 127.5) * noise_scale
        np.minimum(np.maximum(image, 0.0, out=image), 255.0, out=image)
        return image.astype(np.uint8)


def synthetic_splits(
    num_images: int, num_classes: int, image_size: int, test_fraction: float, seed: int
) -> tuple[LabelledDataset, LabelledDataset]:
    """(train, test) views of one synthetic set: the last round(n·f) images are the test split.

    Images are i.i.d. given (seed, index) and labels cycle through the classes, so a contiguous tail
    is a balanced random split that costs no memory (ranges, not index lists).
    """
    full = SyntheticShapes(num_images, num_classes, image_size, seed)
    n_test = held_out_count(num_images, test_fraction)
    n_train = num_images - n_test
    return Subset(full, range(n_train)), Subset(full, range(n_train, num_images))
