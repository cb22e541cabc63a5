"""STL-10 from its binary files: column-major decoding, splits, memory mapping, errors, and a run."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import swavlab
from swavlab.data import UNLABELLED, build_datasets
from swavlab.spec import SpecError
from conftest import SpecFactory
from dataset_files import STL10_NAMES as NAMES, stl_bytes, stl_pattern as pattern

@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """root/stl/stl10_binary with 6 train, 4 test and 16 unlabelled images."""
    folder = tmp_path / "root" / "stl" / "stl10_binary"
    folder.mkdir(parents=True)
    for split, first, count in (("train", 0, 6), ("test", 50, 4), ("unlabeled", 100, 16)):
        (folder / f"{split}_X.bin").write_bytes(stl_bytes([pattern(first + i) for i in range(count)]))
        if split != "unlabeled":
            (folder / f"{split}_y.bin").write_bytes(bytes((first + i) % 10 + 1 for i in range(count)))
    (folder / "class_names.txt").write_text("\n".join(NAMES) + "\n")
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path / "root"))
    return folder


SPEC = {"source": "stl10", "path": "stl", "test_fraction": 0.2}


def test_splits_labels_and_column_major_pixels(folder: Path) -> None:
    splits = build_datasets(SPEC, seed=0)
    pretrain, train, test = splits.pretrain, splits.eval_train, splits.eval_test
    assert train is not None and test is not None
    assert (len(pretrain), len(train), len(test)) == (16, 6, 4)
    assert set(pretrain.labels) == {UNLABELLED}
    assert list(train.labels) == [0, 1, 2, 3, 4, 5] and list(test.labels) == [0, 1, 2, 3]
    assert train.classes == NAMES and train.image_size == 96  # type: ignore[attr-defined]
    for dataset, first in ((pretrain, 100), (train, 0), (test, 50)):
        for i in (0, len(dataset) - 1):
            image, _ = dataset[i]
            assert image.mode == "RGB" and image.size == (96, 96)
            assert np.array_equal(np.asarray(image), pattern(first + i))
    assert splits.summary() == {
        "source": "stl10", "classes": 10, "pretrain_images": 16, "eval_train_images": 6, "eval_test_images": 4,
        "skipped": 0, "skipped_examples": [],
    }


def test_images_are_memory_mapped_and_pickled_without_their_pixels(folder: Path) -> None:
    pretrain = build_datasets(SPEC, seed=0).pretrain
    pretrain[3]
    assert isinstance(pretrain._stored, np.memmap)  # type: ignore[attr-defined]
    copy = pickle.loads(pickle.dumps(pretrain))
    assert len(pickle.dumps(pretrain)) < 3 * 96 * 96
    assert np.array_equal(np.asarray(copy[15][0]), pattern(115))


def test_a_folder_holding_the_binaries_directly(folder: Path) -> None:
    splits = build_datasets({**SPEC, "path": "stl/stl10_binary"}, seed=0)
    assert len(splits.pretrain) == 16


def error(spec: dict[str, object] = SPEC) -> str:
    with pytest.raises(SpecError) as info:
        build_datasets(spec, seed=0)
    [only] = info.value.errors
    assert only["path"] == "data.path"
    return only["message"]


def test_wrong_sizes_and_labels_are_named(folder: Path) -> None:
    unlabeled = folder / "unlabeled_X.bin"
    unlabeled.write_bytes(unlabeled.read_bytes()[:-100])
    assert error() == (
        f"{str(unlabeled)!r}: {16 * 27648 - 100} bytes is not a whole number of 3x96x96 images "
        "(27648 bytes each); truncated?"
    )
    unlabeled.write_bytes(b"")
    assert "0 bytes is not a whole number" in error()
    unlabeled.write_bytes(stl_bytes([pattern(0)]))

    (folder / "test_y.bin").write_bytes(bytes([1, 2, 3]))
    assert error() == f"{str(folder / 'test_y.bin')!r}: has 3 labels but test_X.bin has 4 images"
    (folder / "test_y.bin").write_bytes(bytes([1, 2, 11, 4]))
    assert error().endswith("labels must lie in 1..10; found 11")
    (folder / "test_y.bin").write_bytes(bytes([1, 0, 3, 4]))
    assert error().endswith("labels must lie in 1..10; found 0")
    (folder / "test_y.bin").write_bytes(bytes([1, 2, 3, 4]))

    (folder / "class_names.txt").write_text("a\nb\n")
    assert error().endswith("class_names.txt': lists 2 class names; STL-10 has 10")
    (folder / "class_names.txt").unlink()
    (folder / "train_y.bin").unlink()
    assert "lacks train_y.bin, class_names.txt; expected the extracted stl10_binary folder" in error()


def test_a_run_pretrains_on_unlabeled_and_evaluates_train_on_test(
    folder: Path, tiny_spec: SpecFactory, tmp_path: Path
) -> None:
    events: list[dict] = []
    run = tiny_spec(data={"source": "stl10", "path": "stl"}, optim={"epochs": 1})
    result = swavlab.train(run, on_event=events.append, out_dir=tmp_path / "out")
    assert result["status"] == "succeeded" and result["steps"] == 16 // 8
    [dataset] = [e for e in events if e["type"] == "dataset"]
    assert (dataset["source"], dataset["classes"], dataset["skipped"]) == ("stl10", 10, 0)
    assert (dataset["pretrain_images"], dataset["eval_train_images"], dataset["eval_test_images"]) == (16, 6, 4)
    assert 0.0 <= result["evals"]["knn_top1@3"] <= 1.0
