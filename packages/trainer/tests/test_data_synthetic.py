"""The synthetic generator: deterministic per (seed, index), lazy, and separable by shape, not colour."""

from __future__ import annotations

import numpy as np
import pytest

import swavlab
from swavlab.data import build_datasets, data_seed
from swavlab.data.synthetic import MAX_CLASSES, SyntheticShapes, class_recipe


def test_images_are_a_pure_function_of_seed_and_index() -> None:
    a = SyntheticShapes(64, 10, 32, seed=7)
    b = SyntheticShapes(64, 10, 32, seed=7)
    other_seed = SyntheticShapes(64, 10, 32, seed=8)
    for i in (0, 5, 63):
        assert np.array_equal(np.asarray(a[i][0]), np.asarray(b[i][0]))
        assert not np.array_equal(np.asarray(a[i][0]), np.asarray(other_seed[i][0]))
    # Access order does not matter (no hidden generator state).
    assert np.array_equal(np.asarray(a[5][0]), np.asarray(SyntheticShapes(64, 10, 32, seed=7)[5][0]))
    assert not np.array_equal(np.asarray(a[0][0]), np.asarray(a[10][0]))  # same class, different image


def test_items_are_rgb_images_with_cyclic_labels() -> None:
    ds = SyntheticShapes(25, 4, 16, seed=0)
    image, label = ds[6]
    assert image.mode == "RGB" and image.size == (16, 16)
    assert label == 2
    assert len(ds) == 25 and len(ds.labels) == 25
    assert list(ds.labels[:6]) == [0, 1, 2, 3, 0, 1]
    assert ds.labels[-1] == 0
    assert ds.num_classes == 4 and ds.image_size == 16
    with pytest.raises(IndexError):
        ds[25]


@pytest.mark.parametrize("size", [8, 13, 1024])
def test_any_image_size_renders(size: int) -> None:
    image, _ = SyntheticShapes(16, 1000, size, seed=1)[999 % 16]
    assert image.size == (size, size)
    pixels = np.asarray(image)
    assert pixels.dtype == np.uint8 and pixels.std() > 0


def test_ten_million_images_cost_no_memory() -> None:
    splits = build_datasets(
        {"source": "synthetic", "num_images": 10_000_000, "num_classes": 1000, "image_size": 32, "test_fraction": 0.1},
        seed=3,
    )
    train, test = splits.pretrain, splits.eval_test
    assert test is not None
    assert len(train) == 9_000_000 and len(test) == 1_000_000
    assert isinstance(train.indices, range)  # type: ignore[attr-defined]
    assert test.labels[0] == 9_000_000 % 1000
    assert test[999_999][0].size == (32, 32)


def test_split_is_deterministic_balanced_and_disjoint() -> None:
    spec = {"source": "synthetic", "num_images": 100, "num_classes": 10, "image_size": 16, "test_fraction": 0.2}
    splits = build_datasets(spec, seed=5)
    train, test = splits.pretrain, splits.eval_test
    assert test is not None and splits.eval_train is train
    assert len(train) == 80 and len(test) == 20
    assert sorted(np.bincount(list(test.labels)).tolist()) == [2] * 10
    assert set(train.indices).isdisjoint(test.indices)  # type: ignore[attr-defined]
    again = build_datasets(spec, seed=5).pretrain
    assert np.array_equal(np.asarray(train[3][0]), np.asarray(again[3][0]))
    other = build_datasets(spec, seed=6).pretrain
    assert not np.array_equal(np.asarray(train[3][0]), np.asarray(other[3][0]))


def test_every_class_up_to_1000_has_its_own_recipe() -> None:
    recipes = {class_recipe(c) for c in range(MAX_CLASSES)}
    assert len(recipes) == MAX_CLASSES == 1000
    first_ten = [class_recipe(c) for c in range(10)]
    assert len({r[0] for r in first_ten}) == 10 and len({r[1] for r in first_ten}) == 10
    with pytest.raises(ValueError, match="num_classes"):
        SyntheticShapes(16, 1001, 32, seed=0)


def _loo_1nn_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    f = (features - features.mean(0)) / (features.std(0) + 1e-6)
    sq = (f**2).sum(1)
    distances = sq[:, None] + sq[None, :] - 2 * f @ f.T
    np.fill_diagonal(distances, np.inf)
    return float((labels[distances.argmin(1)] == labels).mean())


def _texture_descriptor(image: np.ndarray) -> np.ndarray:
    """Colour-free, translation-invariant texture features: the log power spectrum of the luminance."""
    luma = image @ np.array([0.299, 0.587, 0.114])
    power = np.abs(np.fft.fft2(luma - luma.mean())) ** 2
    return np.log(power.ravel() / (power.sum() + 1e-9) + 1e-6)


@pytest.mark.parametrize(("size", "texture_floor"), [(32, 0.9), (16, 0.6)])
def test_classes_are_told_apart_by_texture_not_by_colour(size: int, texture_floor: float) -> None:
    n = 400
    ds = SyntheticShapes(n, 10, size, seed=3)
    images = np.stack([np.asarray(ds[i][0]) for i in range(n)]).astype(np.float64)
    labels = np.arange(n) % 10
    colour_acc = _loo_1nn_accuracy(images.mean(axis=(1, 2)), labels)
    pixel_acc = _loo_1nn_accuracy(images.reshape(n, -1), labels)
    texture_acc = _loo_1nn_accuracy(np.stack([_texture_descriptor(im) for im in images]), labels)
    assert colour_acc < 0.2, colour_acc  # chance is 0.1
    assert pixel_acc < 0.2, pixel_acc
    assert texture_acc > texture_floor, texture_acc


def test_colour_changes_across_an_image() -> None:
    # Two crops of one image must not share a colour cue: the mean colours of the image's quadrants differ.
    ds = SyntheticShapes(50, 10, 32, seed=4)
    spread = []
    for i in range(0, 50, 10):  # class 0: untextured, so only the colour fields vary
        image = np.asarray(ds[i][0]).astype(np.float64)
        quadrants = [image[:16, :16], image[:16, 16:], image[16:, :16], image[16:, 16:]]
        means = np.stack([q.mean(axis=(0, 1)) for q in quadrants])
        spread.append(np.linalg.norm(means - means.mean(0), axis=1).mean())
    assert float(np.median(spread)) > 20, spread


def test_data_seed_fixes_the_images_and_split_whatever_the_run_seed() -> None:
    def first_test_image(spec: dict[str, object]) -> np.ndarray:
        validated = swavlab.validate_spec(spec)
        splits = build_datasets(validated["data"], data_seed(validated))
        assert splits.eval_test is not None
        return np.asarray(splits.eval_test[0][0])

    fixed = [{"seed": seed, "data": {"num_images": 64, "seed": 5}} for seed in (1, 2)]
    assert [data_seed(swavlab.validate_spec(spec)) for spec in fixed] == [5, 5]
    assert np.array_equal(first_test_image(fixed[0]), first_test_image(fixed[1]))
    # Without it the data follows the run's seed, as before the field existed.
    free = [{"seed": seed, "data": {"num_images": 64}} for seed in (1, 2)]
    assert [data_seed(swavlab.validate_spec(spec)) for spec in free] == [1, 2]
    assert not np.array_equal(first_test_image(free[0]), first_test_image(free[1]))
