"""Decoding image files: 16-bit greyscale, and JPEGs decoded smaller where the crops lose nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from swavlab.data import MultiCropDataset, Subset
from swavlab.data.decode import DecodeBound, draft_size, open_rgb, to_rgb
from swavlab.data.folder import ImageFolderDataset
from swavlab.data.transforms import multi_crop_decode_bound
from swavlab.spec import parse_crops

DEFAULT_CROPS = parse_crops("2x224+6x96")


def photo(path: Path, size: tuple[int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, cols = np.meshgrid(np.arange(size[1]), np.arange(size[0]), indexing="ij")
    pixels = np.stack([rows % 256, cols % 256, (rows + cols) % 256], axis=2).astype(np.uint8)
    Image.fromarray(pixels, "RGB").save(path, "JPEG", quality=90)
    return path


def test_the_bound_of_the_default_crops() -> None:
    bound = multi_crop_decode_bound(DEFAULT_CROPS)
    # 224² / (0.14 · 3/4): the smallest global crop box, at its narrowest, still spans 224 pixels.
    assert bound == DecodeBound(min_area=477_867, min_side=224)
    smallest_box_side = np.sqrt(0.14 * bound.min_area * 3 / 4)
    assert smallest_box_side == pytest.approx(224, abs=0.01)


def test_draft_size_halves_only_what_stays_above_the_bound() -> None:
    bound = multi_crop_decode_bound(DEFAULT_CROPS)
    assert draft_size((500, 375), bound) is None  # ImageNet-sized: decoded whole
    assert draft_size((1500, 1125), bound) is None  # half of it would be 750 x 562 < 477,867 pixels
    assert draft_size((1600, 1200), bound) == (799, 599)
    assert draft_size((4000, 3000), bound) == (799, 599)
    assert draft_size((6000, 400), DecodeBound(min_area=1000, min_side=224)) is None  # short side bound


def test_large_jpegs_are_decoded_at_the_largest_jpeg_scale_within_the_bound(tmp_path: Path) -> None:
    bound = multi_crop_decode_bound(DEFAULT_CROPS)
    assert open_rgb(photo(tmp_path / "a.jpg", (1600, 1200)), bound).size == (800, 600)
    assert open_rgb(photo(tmp_path / "b.jpg", (4000, 3000)), bound).size == (1000, 750)
    assert open_rgb(tmp_path / "b.jpg").size == (4000, 3000)
    png = tmp_path / "c.png"
    Image.new("RGB", (1600, 1200), "red").save(png)
    assert open_rgb(png, bound).size == (1600, 1200)  # only JPEG decoders scale


def test_sixteen_bit_greyscale_keeps_its_top_byte() -> None:
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)
    for image in (Image.fromarray(ramp), Image.fromarray(ramp.astype(np.int32), "I")):
        rgb = np.asarray(to_rgb(image))
        assert rgb.shape == (16, 16, 3) and np.array_equal(rgb[..., 1], np.arange(256).reshape(16, 16))


def test_multi_crop_reads_a_reduced_view_and_leaves_the_dataset_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo(tmp_path / "ds" / "a" / "big.jpg", (1600, 1200))
    photo(tmp_path / "ds" / "a" / "small.jpg", (500, 375))
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path))
    folder = ImageFolderDataset("ds")
    crops = MultiCropDataset(Subset(folder, [0, 1]), DEFAULT_CROPS, seed=3)
    assert crops.base[0][0].size == (800, 600) and crops.base[1][0].size == (500, 375)
    assert folder[0][0].size == (1600, 1200)
    first = crops[0]
    assert [tuple(c.shape) for c in first] == [(3, 224, 224)] * 2 + [(3, 96, 96)] * 6
    again = MultiCropDataset(folder, DEFAULT_CROPS, seed=3)[0]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
