"""Seeded synthetic image classification data, generated lazily per index.

Classes differ by *texture and shape* (fill texture x shape x layout: 10 x 10 x 10 = 1000 classes).
The class texture covers the whole image: the background and one large object (the class shape)
each carry it, with their own phase, so every crop SwAV's multi-crop takes, even a small one, shows
the class. Colour carries no class information and is not even constant inside an image: each
layer's colour is a smooth random field (a bilinear blend of a 3 x 3 lattice of random colours, at
half saturation) and the texture is a strong light/dark modulation of that field. Two crops of one
image therefore rarely share a colour, and the cue that survives SwAV's crop and colour
augmentations is the texture. Mean colour and raw pixels classify at chance; a randomly initialised
network sees some of the texture; features invariant to the augmentations see all of it. That gap
is what the pretraining-quality benchmark measures.

Textures are axis-aligned (SwAV's augmentations flip but never rotate), with a period of 22 % of the
image (at least 4.5 px) so that they survive 16 px crops and blur. Texture period, contrast and
noise level are the same in every image: an image-level attribute that all crops of an image share
but that says nothing about the class is what SwAV clusters on first (tried: it then learns nothing
about the classes). Object position, size and rotation vary.

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
from .shapes import BACKGROUNDS, SHAPES, TEXTURES, background_mix

_SHAPE_NAMES = tuple(SHAPES)
_TEXTURE_NAMES = tuple(TEXTURES)
MAX_CLASSES = len(_SHAPE_NAMES) * len(_TEXTURE_NAMES) * 2 * len(BACKGROUNDS)


def class_recipe(label: int) -> tuple[str, str, int, str]:
    """(texture, shape, copies, background) of a class.

    The first ten classes differ in both texture and shape; higher labels pair them differently,
    then add layouts (two objects, background styles). Injective on [0, 1000).
    """
    if not 0 <= label < MAX_CLASSES:
        raise ValueError(f"label must be in [0, {MAX_CLASSES}); got {label}")
    texture = label % 10
    shape = (label + label // 10) % 10
    layout = label // 100
    return _TEXTURE_NAMES[texture], _SHAPE_NAMES[shape], 1 + layout % 2, BACKGROUNDS[layout // 2]


# Side of the lattice of random colours each colour field blends: colour changes across an image.
_GRID = 3
# Texture period as a fraction of the image side, and its floor in pixels: 16 px crops and blur keep it.
_PERIOD = 0.22
_MIN_PERIOD_PX = 4.5


def _bilinear_weights(size: int) -> np.ndarray:
    """[size, size, GRID*GRID] weights that blend a GRID x GRID lattice of control colours bilinearly."""
    t = (np.arange(size, dtype=np.float32) + 0.5) / size * (_GRID - 1)
    cell = np.minimum(np.floor(t), _GRID - 2).astype(int)
    frac = t - cell
    w1 = np.zeros((size, _GRID), dtype=np.float32)
    w1[np.arange(size), cell] = 1 - frac
    w1[np.arange(size), cell + 1] = frac
    return np.einsum("yi,xj->yxij", w1, w1).reshape(size, size, _GRID * _GRID)


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
        self._blend = _bilinear_weights(image_size)

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
        texture_name, shape_name, copies, background = class_recipe(label)
        texture, shape = TEXTURES[texture_name], SHAPES[shape_name]
        size = self.image_size
        x, y = self._x, self._y
        # All random draws up front, in one call each: per-call overhead dominates at 32 px.
        lattices = rng.random((1 + copies, _GRID * _GRID, 3), dtype=np.float32) * np.float32(255.0)
        params = rng.random(3 + 5 * copies)
        noise = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        # Period and texture contrast are the same in every image: an image-level attribute that crops
        # share is a cue SwAV can cluster on, and only the class should be one.
        period = max(size * _PERIOD, _MIN_PERIOD_PX)

        image = self._textured_field(lattices[0], texture(*self._texture_coords(period, 0.0, 0.0, params[1:3])))
        style = background_mix(background, x, y, size)
        if style is not None:
            # The style region shows the background's plain colour field: a layout cue on top of the texture.
            image += style[..., None] * (self._textured_field(lattices[0], None) - image)

        radius = size * (0.42 + 0.12 * params[0]) * (0.55 if copies > 1 else 1.0)
        for c in range(copies):
            px, py, turn, phase_u, phase_v = params[3 + 5 * c : 8 + 5 * c]
            cx = size * ((0.5 if copies == 1 else 0.27 + 0.46 * c) + 0.2 * (px - 0.5))
            cy = size * (0.5 + 0.2 * (py - 0.5))
            theta = 2.0 * np.pi * turn
            cos, sin = np.float32(np.cos(theta) / radius), np.float32(np.sin(theta) / radius)
            dx, dy = x - np.float32(cx), y - np.float32(cy)
            distance = shape(dx * cos + dy * sin, dy * cos - dx * sin)
            alpha = np.minimum(np.maximum(0.5 - distance * np.float32(radius), 0.0), 1.0)[..., None]
            mix = texture(*self._texture_coords(period, cx, cy, (phase_u, phase_v)))
            image += alpha * (self._textured_field(lattices[1 + c], mix) - image)

        # Uniform noise from random bytes (much cheaper than Gaussian draws), amplitude ±8.
        image += (noise.astype(np.float32) - 127.5) * np.float32(8.0 / 127.5)
        np.minimum(np.maximum(image, 0.0, out=image), 255.0, out=image)
        return image.astype(np.uint8)

    def _texture_coords(
        self, period: float, cx: float, cy: float, phase: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates in texture periods, relative to (cx, cy), shifted by `phase` periods."""
        inv = np.float32(1.0 / period)
        u = (self._x - np.float32(cx)) * inv + np.float32(phase[0])
        v = (self._y - np.float32(cy)) * inv + np.float32(phase[1])
        return u, v

    def _textured_field(self, lattice: np.ndarray, mix: np.ndarray | None) -> np.ndarray:
        """A smooth colour field blended from `lattice` ([GRID*GRID, 3] colours), darkened or lightened
        where `mix` is 1 by 85 %, towards black or white, whichever contrasts more with the local
        colour: the texture keeps its contrast under any colour, also in grayscale.
        """
        field = self._blend @ lattice
        # Half the saturation: the luminance texture, not the colour, dominates what a random network sees
        # of a crop, so two crops of one image start out similar enough for SwAV's codes to bootstrap.
        grey = field.mean(axis=-1, keepdims=True)
        field = grey + np.float32(0.5) * (field - grey)
        if mix is None:
            return field
        luma = field @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        target = np.where(luma > 127.5, np.float32(0.0), np.float32(255.0))[..., None]
        strength = np.float32(0.85) * mix[..., None]
        return field + strength * (target - field)


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
