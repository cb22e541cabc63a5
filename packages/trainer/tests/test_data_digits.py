"""scikit-learn's bundled digits as a labelled RGB dataset."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

from swavlab.data import build_datasets
from swavlab.data.digits import DigitsDataset


def test_digits_are_rgb_upsampled_and_labelled() -> None:
    ds = DigitsDataset(image_size=24)
    assert len(ds) == 1797 and ds.num_classes == 10 and ds.image_size == 24
    image, label = ds[0]
    assert image.mode == "RGB" and image.size == (24, 24)
    assert label == int(load_digits().target[0])
    pixels = np.asarray(image)
    assert np.array_equal(pixels[..., 0], pixels[..., 2])  # grey replicated into RGB
    assert pixels.max() > 200 and pixels.min() == 0  # 0..16 scaled to the uint8 range


def test_native_size_keeps_the_original_values() -> None:
    raw = load_digits().images[5]
    image, _ = DigitsDataset(image_size=8)[5]
    assert np.array_equal(np.asarray(image)[..., 0], np.rint(raw * 255 / 16).astype(np.uint8))


def test_digits_split_is_stratified_and_deterministic() -> None:
    spec = {"source": "digits", "image_size": 16, "test_fraction": 0.2}
    splits = build_datasets(spec, seed=31)
    train, test = splits.pretrain, splits.eval_test
    assert test is not None and splits.eval_train is train
    assert len(train) + len(test) == 1797
    counts = np.bincount(list(test.labels), minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    assert set(train.indices).isdisjoint(test.indices)  # type: ignore[attr-defined]
    assert build_datasets(spec, seed=31).eval_test.indices == test.indices  # type: ignore[union-attr]
    assert splits.summary() == {
        "source": "digits",
        "classes": 10,
        "pretrain_images": len(train),
        "eval_train_images": len(train),
        "eval_test_images": len(test),
        "skipped": 0,
        "skipped_examples": [],
    }


def test_missing_scikit_learn_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail as if not installed
    with pytest.raises(ModuleNotFoundError, match="data.source 'digits' needs scikit-learn"):
        DigitsDataset(image_size=8)
