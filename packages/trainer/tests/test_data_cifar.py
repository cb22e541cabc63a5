"""CIFAR-10 and CIFAR-100 from their python-version pickles: decoding, splits, errors, and a run."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import swavlab
from swavlab.data import build_datasets
from swavlab.spec import SpecError
from conftest import SpecFactory
from dataset_files import CIFAR10_NAMES, cifar_rows, write_cifar_batch as write_batch
from dataset_files import cifar_pattern as pattern, dump_pickle as dump

@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cifar-10-batches-py (5 train batches of 4 images, a test batch of 6) and cifar-100-python (12 / 5)."""
    root = tmp_path / "root"
    c10 = root / "c10" / "cifar-10-batches-py"
    c10.mkdir(parents=True)
    for i in range(5):
        write_batch(c10 / f"data_batch_{i + 1}", 4 * i, 4, b"labels", 10)
    write_batch(c10 / "test_batch", 100, 6, b"labels", 10)
    dump(c10 / "batches.meta", {b"label_names": CIFAR10_NAMES, b"num_cases_per_batch": 4, b"num_vis": 3072})
    c100 = root / "cifar-100-python"
    c100.mkdir()
    write_batch(c100 / "train", 0, 12, b"fine_labels", 100)
    write_batch(c100 / "test", 50, 5, b"fine_labels", 100)
    dump(c100 / "meta", {b"fine_label_names": [f"f{i}".encode() for i in range(100)],
                         b"coarse_label_names": [f"c{i}".encode() for i in range(20)]})
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(root))
    return root


def test_cifar10_splits_labels_and_pixels(root: Path) -> None:
    splits = build_datasets({"source": "cifar10", "path": "c10", "test_fraction": 0.2}, seed=0)
    train, test = splits.pretrain, splits.eval_test
    assert splits.eval_train is train and test is not None
    assert len(train) == 20 and len(test) == 6
    assert list(train.labels) == [i % 10 for i in range(20)] and list(test.labels) == [i % 10 for i in range(100, 106)]
    assert train.classes[:2] == ["airplane", "automobile"] and train.image_size == 32  # type: ignore[attr-defined]
    image, label = train[13]
    assert image.mode == "RGB" and image.size == (32, 32) and label == 3
    assert np.array_equal(np.asarray(image), pattern(13))
    assert np.array_equal(np.asarray(test[5][0]), pattern(105))
    assert splits.summary() == {
        "source": "cifar10", "classes": 10, "pretrain_images": 20, "eval_train_images": 20, "eval_test_images": 6,
        "skipped": 0, "skipped_examples": [],
    }


def test_cifar100_uses_the_fine_labels_and_accepts_the_folder_itself(root: Path) -> None:
    splits = build_datasets({"source": "cifar100", "path": "cifar-100-python", "test_fraction": 0.2}, seed=0)
    assert splits.num_classes == 100 and len(splits.pretrain) == 12 and splits.eval_test is not None
    assert list(splits.eval_test.labels) == [50, 51, 52, 53, 54]
    assert splits.pretrain.classes[99] == "f99"  # type: ignore[attr-defined]
    assert np.array_equal(np.asarray(splits.eval_test[2][0]), pattern(52))


def test_missing_truncated_and_malformed_files_are_named(root: Path) -> None:
    c10 = root / "c10" / "cifar-10-batches-py"
    spec = {"source": "cifar10", "path": "c10", "test_fraction": 0.2}

    def error() -> str:
        with pytest.raises(SpecError) as info:
            build_datasets(spec, seed=0)
        [only] = info.value.errors
        assert only["path"] == "data.path"
        return only["message"]

    (c10 / "data_batch_3").rename(c10 / "moved")
    assert "lacks data_batch_3; expected the extracted cifar-10-batches-py folder" in error()
    (c10 / "moved").rename(c10 / "data_batch_3")

    whole = (c10 / "test_batch").read_bytes()
    (c10 / "test_batch").write_bytes(whole[: len(whole) // 2])
    assert error().startswith(f"{str(c10 / 'test_batch')!r}: truncated or corrupt")
    (c10 / "test_batch").write_bytes(os.urandom(500))
    assert "test_batch'" in error() and "truncated or corrupt" in error()

    dump(c10 / "test_batch", {b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]})
    assert "'data' must be a uint8 array of N x 3072; got a uint8 array of shape (2, 3000)" in error()
    dump(c10 / "test_batch", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]})
    assert "has 2 images but 1 'labels'" in error()
    dump(c10 / "test_batch", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]})
    assert "'labels' must lie in [0, 10); found 10" in error()
    dump(c10 / "test_batch", {b"data": np.zeros((0, 3072), np.uint8), b"labels": []})
    assert "holds no images" in error()
    dump(c10 / "test_batch", {b"data": np.zeros((2, 3072), np.uint8)})
    assert "has no 'labels' entry" in error()
    dump(c10 / "batches.meta", {b"label_names": CIFAR10_NAMES[:9]})
    assert "'label_names' must list 10 class names" in error()


def test_a_pickle_that_would_run_code_is_refused(root: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    dump(root / "c10" / "cifar-10-batches-py" / "test_batch", {b"data": Exploit(), b"labels": [0]})
    with pytest.raises(SpecError, match=r"truncated or corrupt \(UnpicklingError: refusing to load posix.system"):
        build_datasets({"source": "cifar10", "path": "c10", "test_fraction": 0.2}, seed=0)
    assert not marker.exists()


def test_a_batch_written_by_a_newer_pickle_protocol_loads(root: Path) -> None:
    c10 = root / "c10" / "cifar-10-batches-py"
    batch = {b"data": cifar_rows([pattern(7)]), b"labels": [7]}
    (c10 / "test_batch").write_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
    test = build_datasets({"source": "cifar10", "path": "c10", "test_fraction": 0.2}, seed=0).eval_test
    assert test is not None and np.array_equal(np.asarray(test[0][0]), pattern(7))


def test_a_run_on_cifar10(root: Path, tiny_spec: SpecFactory, tmp_path: Path) -> None:
    events: list[dict] = []
    run = tiny_spec(data={"source": "cifar10", "path": "c10"}, optim={"epochs": 1})
    result = swavlab.train(run, on_event=events.append, out_dir=tmp_path / "out")
    assert result["status"] == "succeeded" and result["steps"] == 20 // 8
    [dataset] = [e for e in events if e["type"] == "dataset"]
    assert dataset == {
        "type": "dataset", "source": "cifar10", "classes": 10, "pretrain_images": 20, "eval_train_images": 20,
        "eval_test_images": 6, "skipped": 0, "skipped_examples": [],
    }
    assert 0.0 <= result["evals"]["knn_top1@3"] <= 1.0
