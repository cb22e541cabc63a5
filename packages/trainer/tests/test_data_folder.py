"""Image folders: class labels, skipped files, confinement to SWAVLAB_DATA_ROOTS, splits."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from swavlab.data import UNLABELLED, build_datasets
from swavlab.data.folder import ImageFolderDataset, resolve_data_path
from swavlab.spec import SpecError


def write_image(path: Path, size: tuple[int, int] = (12, 10), mode: str = "RGB", fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    channels = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, channels, dtype=np.uint8), mode).save(path, format=fmt)
    return path


@pytest.fixture()
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root holding `ds` (two classes, junk, an unlabelled image) and a sibling outside the roots."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    ds = root / "ds"
    write_image(ds / "cats" / "a.png")
    write_image(ds / "cats" / "b.jpg", size=(20, 16))
    write_image(ds / "cats" / "nested" / "c.bmp", mode="L")
    write_image(ds / "dogs" / "d.webp")
    write_image(ds / "dogs" / "e.tiff")
    write_image(ds / "dogs" / "f.gif", mode="L")
    write_image(ds / "loose.png")
    (ds / "cats" / "corrupt.jpg").write_bytes(os.urandom(300))
    (ds / "dogs" / "notes.txt").write_text("not an image")
    png = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(png, format="PNG")
    (ds / "dogs" / "truncated.png").write_bytes(png.getvalue()[:-30])
    write_image(ds / "dogs" / ".hidden.png")
    (ds / "empty_class").mkdir()
    write_image(outside / "secret.png")
    (ds / "cats" / "escape.png").symlink_to(outside / "secret.png")
    (ds / "dogs" / "alias.png").symlink_to(ds / "loose.png")
    (root / "linked_out").symlink_to(outside, target_is_directory=True)
    (root / "linked_in").symlink_to(ds, target_is_directory=True)
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", f"{tmp_path / 'missing'}::{root}")
    return root


def test_class_folders_become_sorted_labels_and_root_images_are_unlabelled(roots: Path) -> None:
    ds = ImageFolderDataset("ds")
    assert ds.classes == ["cats", "dogs"] and ds.num_classes == 2
    names = {Path(p).name: label for p, label in ds.samples}
    assert names == {"a.png": 0, "b.jpg": 0, "c.bmp": 0, "d.webp": 1, "e.tiff": 1, "f.gif": 1, "alias.png": 1,
                     "loose.png": UNLABELLED}
    assert list(ds.labels) == [label for _, label in ds.samples]
    image, label = ds[[Path(p).name for p, _ in ds.samples].index("c.bmp")]
    assert image.mode == "RGB" and image.size == (12, 10) and label == 0
    assert ds.image_size == 10  # median short side


def test_unreadable_and_foreign_files_are_skipped_with_a_reason(roots: Path) -> None:
    skipped = {Path(p).name: reason for p, reason in ImageFolderDataset("ds").skipped}
    assert set(skipped) == {"corrupt.jpg", "notes.txt", "truncated.png", "escape.png", "empty_class"}
    assert skipped["corrupt.jpg"].startswith("unreadable image")
    assert skipped["truncated.png"].startswith("unreadable image")
    assert skipped["notes.txt"] == "not an image file (extension '.txt')"
    assert "outside SWAVLAB_DATA_ROOTS" in skipped["escape.png"]
    assert skipped["empty_class"] == "class folder without readable images"


def test_an_image_that_fails_late_is_replaced_by_the_next_one(roots: Path, tmp_path: Path) -> None:
    folder = roots / "late"
    write_image(folder / "x" / "0_good.png")
    broken = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(broken, "JPEG")
    (folder / "x" / "1_broken.jpg").write_bytes(broken.getvalue()[:-1500])  # header intact, data cut
    write_image(folder / "x" / "2_good.png", size=(5, 5))
    ds = ImageFolderDataset("late")
    assert [Path(p).name for p, _ in ds.samples] == ["0_good.png", "1_broken.jpg", "2_good.png"]
    with pytest.warns(RuntimeWarning, match="1_broken.jpg"):
        image, label = ds[1]
    assert image.size == (5, 5) and label == 0


@pytest.mark.parametrize("path", ["../outside", "ds/../../outside", "linked_out"])
def test_paths_escaping_the_roots_are_rejected(roots: Path, path: str) -> None:
    with pytest.raises(SpecError) as info:
        ImageFolderDataset(path)
    [error] = info.value.errors
    assert error["path"] == "data.path"
    assert "outside SWAVLAB_DATA_ROOTS" in error["message"] and "outside" in error["message"]


def test_absolute_paths_must_lie_inside_a_root(roots: Path, tmp_path: Path) -> None:
    assert resolve_data_path(str(roots / "ds")) == (roots / "ds").resolve()
    with pytest.raises(SpecError, match="outside SWAVLAB_DATA_ROOTS"):
        resolve_data_path(str(tmp_path / "outside"))


def test_symlinks_that_stay_inside_the_roots_are_followed(roots: Path) -> None:
    assert resolve_data_path("linked_in") == (roots / "ds").resolve()
    assert len(ImageFolderDataset("linked_in")) == len(ImageFolderDataset("ds"))


def test_missing_roots_missing_folders_and_empty_folders_are_clear_errors(
    roots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SpecError, match="data.path: 'nope' is not an existing directory"):
        ImageFolderDataset("nope")
    (roots / "empty" / "cls").mkdir(parents=True)
    (roots / "empty" / "readme.md").write_text("x")
    with pytest.raises(SpecError, match="no readable images"):
        ImageFolderDataset("empty")
    monkeypatch.delenv("SWAVLAB_DATA_ROOTS")
    with pytest.raises(SpecError, match="SWAVLAB_DATA_ROOTS is not set"):
        ImageFolderDataset("ds")


def test_build_datasets_splits_labelled_folders_per_class(roots: Path) -> None:
    for i in range(10):
        write_image(roots / "big" / "a" / f"{i}.png")
        write_image(roots / "big" / "b" / f"{i}.png")
    write_image(roots / "big" / "free.png")
    spec = {"source": "folder", "path": "big", "test_fraction": 0.3}
    splits = build_datasets(spec, seed=0)
    train, test = splits.eval_train, splits.eval_test
    assert train is not None and test is not None
    assert sorted(test.labels) == [0, 0, 0, 1, 1, 1]
    assert len(train) == 15 and UNLABELLED in train.labels
    assert build_datasets(spec, seed=0).eval_test.indices == test.indices  # type: ignore[union-attr]
    assert build_datasets(spec, seed=1).eval_test.indices != test.indices  # type: ignore[union-attr]


def test_a_folder_pretrains_on_every_readable_image_and_evaluates_on_the_split(roots: Path) -> None:
    splits = build_datasets({"source": "folder", "path": "ds", "test_fraction": 0.5}, seed=0)
    readable = ImageFolderDataset("ds")
    assert len(splits.pretrain) == len(readable) == 8  # 7 labelled (2 classes) + 1 unlabelled
    assert sorted(splits.pretrain.labels) == sorted(readable.labels) and UNLABELLED in splits.pretrain.labels
    assert splits.eval_train is not None and splits.eval_test is not None
    assert len(splits.eval_train) + len(splits.eval_test) == len(splits.pretrain)
    assert sorted(splits.eval_test.labels) == [0, 0, 1, 1]  # round(0.5 * 3) cats, round(0.5 * 4) dogs
    assert UNLABELLED not in splits.eval_test.labels
    summary = splits.summary()
    assert summary["source"] == "folder" and summary["classes"] == 2 and summary["pretrain_images"] == 8
    assert summary["eval_train_images"] + summary["eval_test_images"] == 8
    assert summary["skipped"] == 5 and len(summary["skipped_examples"]) == 5
    assert {"path", "reason"} == set(summary["skipped_examples"][0])


def test_build_datasets_has_no_test_split_for_an_unlabelled_folder(roots: Path) -> None:
    for i in range(4):
        write_image(roots / "flat" / f"{i}.png")
    splits = build_datasets({"source": "folder", "path": "flat", "test_fraction": 0.5}, seed=0)
    assert splits.eval_train is None and splits.eval_test is None
    assert len(splits.pretrain) == 4 and set(splits.pretrain.labels) == {UNLABELLED}
    assert splits.summary()["classes"] == 0
