"""Decoding image files to 8-bit RGB, at reduced resolution where the consumer allows it.

JPEG decoders can scale by 1/2, 1/4 or 1/8 while decoding (PIL's `Image.draft`), which makes a
large photo several times cheaper to decode and every later crop of it cheaper too. A consumer
states the smallest image it loses nothing with as a DecodeBound; other formats ignore the draft.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class DecodeBound:
    """A decoded image must keep at least `min_area` pixels and a short side of `min_side`."""

    min_area: int
    min_side: int


def draft_size(size: tuple[int, int], bound: DecodeBound) -> tuple[int, int] | None:
    """The smallest (width, height) of the image's aspect ratio that satisfies `bound`; None if
    that is the full size (nothing to save)."""
    width, height = size
    factor = max(math.sqrt(bound.min_area / (width * height)), bound.min_side / min(width, height))
    if factor >= 0.5:  # the smallest JPEG reduction halves both sides
        return None
    return math.ceil(width * factor), math.ceil(height * factor)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB. 16-bit greyscale (modes I;16*, and I, which is how PIL opens 16-bit PNGs) keeps its
    top 8 bits: PIL's own conversion clips at 255 and would turn most such images white."""
    if image.mode == "I" or image.mode.startswith("I;16"):
        values = np.clip(np.asarray(image), 0, 65535) >> 8
        image = Image.fromarray(values.astype(np.uint8), "L")
    return image.convert("RGB")


def open_rgb(path: str | Path, bound: DecodeBound | None = None) -> Image.Image:
    """The image at `path` as RGB, decoded no larger than `bound` needs (full size without one)."""
    with Image.open(path) as image:
        if bound is not None:
            reduced = draft_size(image.size, bound)
            if reduced is not None:
                image.draft(image.mode, reduced)  # PIL picks a JPEG scale giving at least `reduced`
        return to_rgb(image)
