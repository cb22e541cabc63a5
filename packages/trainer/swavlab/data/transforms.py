"""SwAV's multi-crop augmentations and the deterministic evaluation transform.

Per crop, as in the paper and the authors' release: RandomResizedCrop(size, scale), horizontal
flip p 0.5, colour jitter (0.8, 0.8, 0.8, 0.2) with p 0.8, grayscale p 0.2, PIL Gaussian blur
p 0.5 with radius in [0.1, 2], then ImageNet normalisation. The probabilities and the jitter's
strength come from the spec's `data.augment` (those values by default). Every random draw goes through
torch's global CPU generator, so seeding that one generator fixes a sample's augmentations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageStat
from torchvision import transforms
from torchvision.transforms import functional as F

from .decode import DecodeBound

MEAN = (0.485, 0.456, 0.406)
STD = (0.228, 0.224, 0.225)
# Above this side, evaluation follows the ImageNet protocol (resize 256, centre crop 224).
LARGE_IMAGE_SIDE = 256
# RandomResizedCrop's aspect ratio range (width / height), as in the paper.
CROP_RATIO = (3.0 / 4.0, 4.0 / 3.0)

ImageTransform = Callable[[Image.Image], torch.Tensor]

# The paper's per-crop augmentation settings (the spec's `data.augment` defaults).
PAPER_AUGMENT: Mapping[str, float] = {
    "flip_p": 0.5,
    "jitter_strength": 1.0,
    "jitter_p": 0.8,
    "grayscale_p": 0.2,
    "blur_p": 0.5,
}


class RandomGaussianBlur:
    """PIL Gaussian blur with probability `p` and radius uniform in [radius_min, radius_max].

    PIL rather than torchvision's GaussianBlur: it is what the official code does, it needs no
    kernel size (which matters for 16 px crops) and it draws from torch's RNG like the rest.
    """

    def __init__(self, p: float = 0.5, radius_min: float = 0.1, radius_max: float = 2.0) -> None:
        self.p = p
        self.radius_min = radius_min
        self.radius_max = radius_max

    def __call__(self, image: Image.Image) -> Image.Image:
        if torch.rand(()).item() >= self.p:
            return image
        radius = self.radius_min + (self.radius_max - self.radius_min) * torch.rand(()).item()
        return image.filter(ImageFilter.GaussianBlur(radius=radius))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p}, radius=[{self.radius_min}, {self.radius_max}])"


_LEVELS = np.arange(256, dtype=np.float32)


def _blend_table(degenerate: int, factor: float) -> list[int]:
    """What PIL's `Image.blend(constant image of value degenerate, image, factor)` makes of each
    8-bit level, as a table for `Image.point`: its C code computes `d + factor * (v - d)` in float32,
    clips to [0, 255] and truncates."""
    d = np.float32(degenerate)
    return np.clip(d + np.float32(factor) * (_LEVELS - d), 0, 255).astype(np.uint8).tolist()


def adjust_brightness(image: Image.Image, factor: float) -> Image.Image:
    """torchvision's PIL `adjust_brightness` (ImageEnhance: a blend with black) as one table lookup,
    several times faster; the same pixels (up to one level where the compiler fuses the blend's
    multiply-add)."""
    return image.point(_blend_table(0, factor) * len(image.getbands()))


def adjust_contrast(image: Image.Image, factor: float) -> Image.Image:
    """torchvision's PIL `adjust_contrast` (ImageEnhance: a blend with the rounded mean grey level)
    as one table lookup; the same pixels, as for `adjust_brightness`."""
    mean = int(ImageStat.Stat(image.convert("L")).mean[0] + 0.5)
    return image.point(_blend_table(mean, factor) * len(image.getbands()))


_MEAN_255 = torch.tensor(MEAN).view(3, 1, 1) * 255.0
_INV_STD_255 = 1.0 / (torch.tensor(STD).view(3, 1, 1) * 255.0)


def to_normalised_tensor(image: Image.Image) -> torch.Tensor:
    """ToTensor followed by Normalize(MEAN, STD), fused into two in-place tensor ops."""
    array = np.array(image, dtype=np.uint8, copy=True)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    tensor = torch.from_numpy(array).permute(2, 0, 1).to(torch.float32, memory_format=torch.contiguous_format)
    return tensor.sub_(_MEAN_255).mul_(_INV_STD_255)


class CropAugmentation:
    """The augmentation pipeline of one crop; returns the normalised CHW float tensor.

    Equivalent to Compose([RandomResizedCrop(size, scale), RandomHorizontalFlip(), RandomApply(
    [ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8), RandomGrayscale(0.2), RandomGaussianBlur(),
    ToTensor(), Normalize(MEAN, STD)]) with the same random draws, but it calls torchvision's
    parameter samplers and functional ops directly and crops+resizes in one PIL call: with tiny
    crops the per-transform call overhead, not the pixel work, dominates the data loader. With
    large crops the pixel work does, and brightness and contrast are table lookups instead of
    blends with a constant image (see `adjust_brightness`).
    """

    def __init__(
        self, size: int, min_scale: float, max_scale: float, augment: Mapping[str, float] | None = None
    ) -> None:
        self.size = size
        self.scale = (min_scale, max_scale)
        settings = {**PAPER_AUGMENT, **(augment or {})}
        self.flip_p = float(settings["flip_p"])
        self.jitter_p = float(settings["jitter_p"])
        self.grayscale_p = float(settings["grayscale_p"])
        s = float(settings["jitter_strength"])
        jitter = transforms.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)
        self._jitter_ranges = (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
        self._blur = RandomGaussianBlur(p=float(settings["blur_p"]), radius_min=0.1, radius_max=2.0)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        top, left, height, width = transforms.RandomResizedCrop.get_params(image, list(self.scale), list(CROP_RATIO))
        image = image.resize(
            (self.size, self.size), Image.BILINEAR, box=(left, top, left + width, top + height)
        )
        # One draw per decision whatever the probabilities, so the random stream does not depend on them.
        if torch.rand(1).item() < self.flip_p:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        if torch.rand(1).item() < self.jitter_p:
            image = self._colour_jitter(image)
        if torch.rand(1).item() < self.grayscale_p:
            image = image.convert("L").convert("RGB")
        return to_normalised_tensor(self._blur(image))

    def _colour_jitter(self, image: Image.Image) -> Image.Image:
        order, brightness, contrast, saturation, hue = transforms.ColorJitter.get_params(*self._jitter_ranges)
        for op in order.tolist():
            if op == 0 and brightness is not None:
                image = adjust_brightness(image, brightness)
            elif op == 1 and contrast is not None:
                image = adjust_contrast(image, contrast)
            elif op == 2 and saturation is not None:
                image = F.adjust_saturation(image, saturation)
            elif op == 3 and hue is not None:
                image = F.adjust_hue(image, hue)
        return image

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, scale={self.scale})"


def multi_crop_transforms(
    crops: Sequence[Mapping[str, Any]], augment: Mapping[str, float] | None = None
) -> list[ImageTransform]:
    """One transform per crop of the flattened crop list, in crop order (group by group); `augment` is a
    validated `data.augment` (the paper's values when None)."""
    out: list[ImageTransform] = []
    for group in crops:
        t = CropAugmentation(int(group["size"]), float(group["min_scale"]), float(group["max_scale"]), augment)
        out.extend([t] * int(group["count"]))
    return out


def multi_crop_decode_bound(crops: Sequence[Mapping[str, Any]]) -> DecodeBound:
    """The smallest source image the crops lose nothing with but resolution (see decode.py).

    A crop box has area `scale * A` (A: the image's area) and aspect ratio r in CROP_RATIO, both
    relative, so a reduced image gets the same box in its own pixels. Its shorter side is at least
    sqrt(min_scale * A * 3/4); with A >= size² / (min_scale * 3/4) every box is still at least
    `size` pixels wide and high, so the crop is downsampled to `size` from the reduced image as it
    would be from the full one, never upsampled. When no box fits (a very elongated image), the
    fallback box spans the image's short side, hence a short side of at least the largest size.
    """
    min_area = max(float(g["size"]) ** 2 / (float(g["min_scale"]) * CROP_RATIO[0]) for g in crops)
    return DecodeBound(min_area=math.ceil(min_area), min_side=max(int(g["size"]) for g in crops))


def eval_transform(image_size: int) -> ImageTransform:
    """Deterministic transform for feature extraction.

    Resize (short side) and centre-crop to `image_size`; sources larger than 256 px follow the
    ImageNet protocol instead (resize to 256, centre crop 224).
    """
    resize, crop = (LARGE_IMAGE_SIDE, 224) if image_size > LARGE_IMAGE_SIDE else (image_size, image_size)
    return transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(crop), to_normalised_tensor])
