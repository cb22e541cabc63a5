"""Multi-crop augmentations, the evaluation transform and reproducible seeding in DataLoaders."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T
from torchvision.transforms import functional as TF

import swavlab
from swavlab.data import EvalDataset, MultiCropDataset, seed_worker
from swavlab.data.synthetic import SyntheticShapes
from swavlab.data.transforms import (
    MEAN,
    STD,
    PAPER_AUGMENT,
    CropAugmentation,
    RandomGaussianBlur,
    adjust_brightness,
    adjust_contrast,
    to_normalised_tensor,
)
from swavlab.spec import parse_crops

CROPS = parse_crops("2x32+3x16")


@pytest.fixture(scope="module")
def shapes() -> SyntheticShapes:
    return SyntheticShapes(64, 10, 40, seed=0)


def test_multi_crop_yields_every_crop_in_order_with_its_size(shapes: SyntheticShapes) -> None:
    crops = MultiCropDataset(shapes, CROPS, seed=1)[3]
    assert [tuple(c.shape) for c in crops] == [(3, 32, 32)] * 2 + [(3, 16, 16)] * 3
    assert all(c.dtype == torch.float32 and c.is_contiguous() for c in crops)
    assert not torch.equal(crops[0], crops[1])  # two independent views of the same image
    assert len(MultiCropDataset(shapes, CROPS)) == len(shapes)


def test_crop_pipeline_matches_the_torchvision_compose_it_replaces(shapes: SyntheticShapes) -> None:
    for size, lo, hi in [(32, 0.14, 1.0), (16, 0.05, 0.14)]:
        ours = CropAugmentation(size, lo, hi)
        reference = T.Compose(
            [
                T.RandomResizedCrop(size, scale=(lo, hi)),
                T.RandomHorizontalFlip(),
                T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
                T.RandomGrayscale(0.2),
                RandomGaussianBlur(),
                T.ToTensor(),
                T.Normalize(MEAN, STD),
            ]
        )
        for i in range(20):
            image = shapes[i][0]
            torch.manual_seed(i)
            x = ours(image)
            state = torch.get_rng_state()
            torch.manual_seed(i)
            y = reference(image)
            assert torch.equal(state, torch.get_rng_state()), "same random draws in the same order"
            # One-step crop+resize differs from crop-then-resize only by rounding at the crop's edges and
            # at sharp texture edges (normalised units; pixel values span about 4.4).
            assert (x - y).abs().mean() < 0.03


def test_brightness_and_contrast_tables_match_torchvision() -> None:
    rng = np.random.default_rng(3)
    factors = [0.0, 0.2, 0.5, 1.0, 1.37, 1.8, 2.5, *rng.uniform(0.2, 1.8, 40).tolist()]
    for i, factor in enumerate(factors):
        pixels = rng.integers(0, 256, (17 + i % 5, 23, 3), dtype=np.uint8)
        if i % 3 == 0:
            pixels[..., 1] = pixels[..., 0] // 4  # uneven channels, a dark mean
        image = Image.fromarray(pixels, "RGB")
        for ours, theirs in ((adjust_brightness, TF.adjust_brightness), (adjust_contrast, TF.adjust_contrast)):
            diff = np.abs(np.asarray(ours(image, factor), np.int16) - np.asarray(theirs(image, factor), np.int16))
            # Bit-exact where PIL's C blend is not compiled into fused multiply-adds (x86-64); else within a level.
            assert diff.max() <= 1 and (diff == 0).mean() > 0.99, (ours.__name__, factor)


def test_normalisation_matches_to_tensor_and_normalize() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGB")
    expected = T.Normalize(MEAN, STD)(T.ToTensor()(image))
    assert torch.allclose(to_normalised_tensor(image), expected, atol=1e-5)
    grey = Image.fromarray(pixels[..., 0], "L")
    assert to_normalised_tensor(grey).shape == (3, 9, 7)


def test_blur_probability_and_radius_range() -> None:
    image = Image.fromarray(np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1)), "L").convert("RGB")
    blur = RandomGaussianBlur(p=0.5, radius_min=0.1, radius_max=2.0)
    torch.manual_seed(0)
    changed = sum(np.asarray(blur(image)).tobytes() != np.asarray(image).tobytes() for _ in range(400))
    assert 150 < changed < 250
    torch.manual_seed(0)
    assert all(np.array_equal(np.asarray(RandomGaussianBlur(p=0.0)(image)), np.asarray(image)) for _ in range(20))


def test_augmentations_depend_only_on_seed_epoch_and_index(shapes: SyntheticShapes) -> None:
    data = MultiCropDataset(shapes, CROPS, seed=4)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = data[5]
    assert torch.equal(before, torch.get_rng_state()), "the global torch RNG is left untouched"
    data[7]
    again = data[5]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    data.set_epoch(1)
    assert not torch.equal(data[5][0], first[0])
    data.set_epoch(0)
    assert torch.equal(data[5][0], first[0])
    assert not torch.equal(MultiCropDataset(shapes, CROPS, seed=5)[5][0], first[0])


def test_batches_are_identical_with_zero_or_two_workers(shapes: SyntheticShapes) -> None:
    data = MultiCropDataset(shapes, CROPS, seed=9)
    data.set_epoch(2)

    def batches(workers: int) -> list[list[torch.Tensor]]:
        loader = DataLoader(
            data,
            batch_size=8,
            shuffle=True,
            num_workers=workers,
            worker_init_fn=seed_worker,
            generator=torch.Generator().manual_seed(0),
        )
        return [batch for batch, _ in zip(loader, range(3), strict=False)]

    single, multi = batches(0), batches(2)
    assert len(single) == 3
    for a, b in zip(single, multi, strict=True):
        assert [tuple(t.shape) for t in a] == [(8, 3, 32, 32)] * 2 + [(8, 3, 16, 16)] * 3
        assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


class _Draws(Dataset):  # type: ignore[type-arg]
    """Returns what NumPy's and Python's global RNGs produce inside the worker."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> tuple[float, float]:
        return float(np.random.random()), random.random()


def test_seed_worker_gives_each_worker_its_own_reproducible_numpy_and_random_state() -> None:
    def draws() -> list[tuple[float, float]]:
        loader = DataLoader(
            _Draws(), batch_size=1, num_workers=2, worker_init_fn=seed_worker, generator=torch.Generator().manual_seed(1)
        )
        return [(float(a), float(b)) for a, b in loader]

    first = draws()
    assert first == draws()
    # Items 0 and 1 come from different workers, each drawing its first number.
    assert first[0] != first[1]


def test_eval_dataset_resizes_and_is_deterministic(shapes: SyntheticShapes) -> None:
    data = EvalDataset(shapes, 40)
    x, label = data[3]
    assert tuple(x.shape) == (3, 40, 40) and label == 3
    assert torch.equal(x, data[3][0])
    assert torch.allclose(x, to_normalised_tensor(shapes[3][0]))
    assert tuple(EvalDataset(shapes, 24)[0][0].shape) == (3, 24, 24)


def test_eval_of_large_images_follows_the_imagenet_protocol() -> None:
    big = SyntheticShapes(16, 2, 300, seed=0)
    assert tuple(EvalDataset(big, 300)[0][0].shape) == (3, 224, 224)


def test_augment_settings_switch_each_augmentation(shapes: SyntheticShapes) -> None:
    """With every probability 0 a crop is only cropped and resized; each setting then does what it names."""
    image = shapes[0][0]
    off = {"flip_p": 0.0, "jitter_strength": 1.0, "jitter_p": 0.0, "grayscale_p": 0.0, "blur_p": 0.0}
    plain = CropAugmentation(16, 0.99, 1.0, off)
    reference = T.Compose([T.Resize((16, 16)), T.ToTensor(), T.Normalize(MEAN, STD)])
    torch.manual_seed(0)
    crop = plain(image)
    # scale ~1 and aspect ratio ~1 of a square image: the whole image, resized.
    assert torch.allclose(crop, reference(image), atol=0.05)

    def grey(t: torch.Tensor) -> bool:
        pixels = t * torch.tensor(STD).view(3, 1, 1) + torch.tensor(MEAN).view(3, 1, 1)
        return bool(torch.allclose(pixels[0], pixels[1], atol=1e-2) and torch.allclose(pixels[1], pixels[2], atol=1e-2))

    torch.manual_seed(0)
    assert all(grey(CropAugmentation(16, 0.99, 1.0, {**off, "grayscale_p": 1.0})(image)) for _ in range(5))
    torch.manual_seed(0)
    flipped = CropAugmentation(16, 0.99, 1.0, {**off, "flip_p": 1.0})(image)
    assert torch.allclose(flipped, torch.flip(crop, dims=[2]), atol=0.05)
    torch.manual_seed(0)
    jittered = [CropAugmentation(16, 0.99, 1.0, {**off, "jitter_p": 1.0})(image) for _ in range(5)]
    assert all(not torch.allclose(j, crop, atol=0.05) for j in jittered)
    no_strength = CropAugmentation(16, 0.99, 1.0, {**off, "jitter_p": 1.0, "jitter_strength": 0.0})
    torch.manual_seed(0)  # the same crop box as `crop`, then a jitter that changes nothing
    assert torch.equal(no_strength(image), crop)


def test_the_default_augment_is_the_papers(shapes: SyntheticShapes) -> None:
    paper = MultiCropDataset(shapes, CROPS, seed=4)[5]
    explicit = MultiCropDataset(shapes, CROPS, seed=4, augment=dict(PAPER_AUGMENT))[5]
    assert all(torch.equal(a, b) for a, b in zip(paper, explicit, strict=True))
    validated = swavlab.validate_spec({})["data"]["augment"]
    assert validated == PAPER_AUGMENT
