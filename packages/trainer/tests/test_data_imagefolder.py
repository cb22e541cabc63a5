"""ImageNet-style train/ and val/ folders: classes, subsets, odd images, errors, and a run on them."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import swavlab
from swavlab.data import build_datasets
from swavlab.spec import SpecError
from conftest import SpecFactory
from dataset_files import write_jpeg


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`inet`: train/{cat,dog,fox} with 4 JPEGs each plus odd files, val/{cat,dog} with 2 each."""
    root = tmp_path / "root"
    inet = root / "inet"
    for cls in ("cat", "dog", "fox"):
        for i in range(4):
            write_jpeg(inet / "train" / cls / f"{i}.jpg", size=(24 + i, 20))
    for cls in ("cat", "dog"):
        for i in range(2):
            write_jpeg(inet / "val" / cls / f"v{i}.JPEG")
    (inet / "train" / "cat" / "corrupt.jpg").write_bytes(os.urandom(200))
    (inet / "train" / "dog" / "labels.txt").write_text("not an image")
    write_jpeg(inet / "train" / "stray.jpg")
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(root))
    return root


def spec(**fields: object) -> dict[str, object]:
    return {"source": "imagefolder", "path": "inet", "test_fraction": 0.2, **fields}


def test_train_classes_label_train_and_val(root: Path) -> None:
    splits = build_datasets(spec(), seed=0)
    assert splits.eval_train is splits.pretrain and splits.eval_test is not None
    train, val = splits.pretrain, splits.eval_test
    assert train.classes == val.classes == ["cat", "dog", "fox"]  # type: ignore[attr-defined]
    assert list(train.labels) == [0] * 4 + [1] * 4 + [2] * 4
    assert list(val.labels) == [0, 0, 1, 1]
    image, label = val[3]
    assert image.mode == "RGB" and image.size == (24, 20) and label == 1
    summary = splits.summary()
    assert summary["source"] == "imagefolder" and summary["classes"] == 3
    assert (summary["pretrain_images"], summary["eval_train_images"], summary["eval_test_images"]) == (12, 12, 4)
    reasons = {Path(s["path"]).name: s["reason"] for s in summary["skipped_examples"]}
    assert summary["skipped"] == 3 and set(reasons) == {"stray.jpg", "corrupt.jpg", "labels.txt"}
    assert reasons["stray.jpg"] == "not in a class folder of train/"
    assert reasons["corrupt.jpg"].startswith("unreadable image")


def test_greyscale_cmyk_16_bit_and_huge_images(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    odd = root / "inet" / "train" / "fox"
    Image.new("L", (30, 20), 77).save(odd / "grey.jpg")
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(odd / "cmyk.jpg")
    Image.fromarray(np.full((20, 30), 0x8040, dtype=np.uint16)).save(odd / "deep.png")
    Image.new("RGB", (60, 60), "white").save(odd / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 60 x 60 exceeds twice this: a decompression bomb
    splits = build_datasets(spec(), seed=0)
    train = splits.pretrain
    decoded = {Path(path).name: train[i][0] for i, (path, _) in enumerate(train.samples)}  # type: ignore[attr-defined]
    assert np.asarray(decoded["grey.jpg"]).reshape(-1, 3)[0].tolist() == [77, 77, 77]
    red = np.asarray(decoded["cmyk.jpg"]).reshape(-1, 3)[0]
    assert red[0] > 200 and red[1] < 60 and red[2] < 60
    assert np.asarray(decoded["deep.png"]).reshape(-1, 3)[0].tolist() == [0x80, 0x80, 0x80]  # top 8 bits kept
    skipped = {Path(path).name: reason for path, reason in splits.skipped}
    assert "huge.png" not in decoded and "DecompressionBombError" in skipped["huge.png"]


def test_a_subset_of_classes(root: Path) -> None:
    splits = build_datasets(spec(classes=["fox", "cat"]), seed=0)
    assert splits.pretrain.classes == ["cat", "fox"] and splits.num_classes == 2  # type: ignore[attr-defined]
    assert list(splits.pretrain.labels) == [0] * 4 + [1] * 4
    assert splits.eval_test is not None and list(splits.eval_test.labels) == [0, 0]  # val has no fox, dog left out
    with pytest.raises(SpecError) as info:
        build_datasets(spec(classes=["cat", "wolf", "../inet"]), seed=0)
    assert info.value.errors == [
        {"path": "data.classes", "message": "2 listed classes have no folder in train/: 'wolf', '../inet'"}
    ]


def test_a_classes_file_inside_the_roots(root: Path, tmp_path: Path) -> None:
    (root / "lists").mkdir()
    (root / "lists" / "two.txt").write_text("dog\n\n  fox  \n")
    splits = build_datasets(spec(classes_file="lists/two.txt"), seed=0)
    assert splits.pretrain.classes == ["dog", "fox"]  # type: ignore[attr-defined]
    (root / "lists" / "bad.txt").write_text("dog\nwolf\n")
    with pytest.raises(SpecError, match=r"data.classes_file: 1 listed classes have no folder in train/: 'wolf'"):
        build_datasets(spec(classes_file="lists/bad.txt"), seed=0)
    (root / "lists" / "twice.txt").write_text("dog\ncat\ndog\n")
    with pytest.raises(SpecError, match=r"data.classes_file: line 3 of .* repeats 'dog' \(line 1\)"):
        build_datasets(spec(classes_file="lists/twice.txt"), seed=0)
    (tmp_path / "secret.txt").write_text("cat\ndog\n")
    for outside in (str(tmp_path / "secret.txt"), "../secret.txt"):
        with pytest.raises(SpecError) as info:
            build_datasets(spec(classes_file=outside), seed=0)
        assert info.value.errors[0]["path"] == "data.classes_file"
        assert "outside SWAVLAB_DATA_ROOTS" in info.value.errors[0]["message"]
    with pytest.raises(SpecError, match="data.classes_file: 'lists/none.txt' is not an existing file"):
        build_datasets(spec(classes_file="lists/none.txt"), seed=0)


def test_layout_errors_name_what_is_wrong(root: Path) -> None:
    inet = root / "inet"
    write_jpeg(inet / "val" / "wolf" / "w.jpg")
    with pytest.raises(SpecError) as info:
        build_datasets(spec(), seed=0)
    assert info.value.errors == [{"path": "data.path", "message": "val/ has 1 classes that train/ lacks: 'wolf'"}]
    (inet / "val" / "wolf" / "w.jpg").unlink()
    (inet / "val" / "wolf").rmdir()

    (inet / "train" / "owl").mkdir()
    (inet / "train" / "owl" / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    with pytest.raises(SpecError, match=r"data.path: class 'owl' of train/ has no readable images"):
        build_datasets(spec(), seed=0)
    assert build_datasets(spec(classes=["cat", "dog"]), seed=0).num_classes == 2  # owl not selected: not scanned


def test_missing_or_empty_splits(root: Path) -> None:
    (root / "solo" / "train" / "a").mkdir(parents=True)
    with pytest.raises(SpecError, match=r"data.path: .* has no val/ folder; expected the ImageNet layout"):
        build_datasets(spec(path="solo"), seed=0)
    (root / "solo" / "val").mkdir()
    write_jpeg(root / "solo" / "val" / "flat.jpg")  # ImageNet's val archive unsorted: no class folders
    write_jpeg(root / "solo" / "train" / "a" / "0.jpg")
    with pytest.raises(SpecError, match=r"data.path: val/ has no images of the 1 selected classes"):
        build_datasets(spec(path="solo"), seed=0)
    (root / "bare" / "train").mkdir(parents=True)
    (root / "bare" / "val").mkdir()
    with pytest.raises(SpecError, match=r"data.path: .*train' has no class folders"):
        build_datasets(spec(path="bare"), seed=0)


def test_truncated_jpeg_is_replaced_at_decode_time(root: Path) -> None:
    encoded = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(encoded, "JPEG")
    (root / "inet" / "train" / "fox" / "9_cut.jpg").write_bytes(encoded.getvalue()[:-1500])
    train = build_datasets(spec(), seed=0).pretrain
    names = [Path(path).name for path, _ in train.samples]  # type: ignore[attr-defined]
    assert names[-1] == "9_cut.jpg"  # readable at index time: its header is intact
    with pytest.warns(RuntimeWarning, match="9_cut.jpg"):
        image, label = train[len(names) - 1]
    assert (image.size, label) == ((24, 20), 0)  # replaced by the next item, wrapping to cat/0.jpg


def test_a_run_pretrains_on_train_and_evaluates_on_val(root: Path, tiny_spec: SpecFactory, tmp_path: Path) -> None:
    events: list[dict] = []
    run = tiny_spec(data={"source": "imagefolder", "path": "inet"}, optim={"epochs": 1})
    result = swavlab.train(run, on_event=events.append, out_dir=tmp_path / "out")
    assert result["status"] == "succeeded" and result["steps"] == 12 // 8
    [dataset] = [e for e in events if e["type"] == "dataset"]
    assert dataset["source"] == "imagefolder" and dataset["classes"] == 3 and dataset["skipped"] == 3
    assert (dataset["pretrain_images"], dataset["eval_train_images"], dataset["eval_test_images"]) == (12, 12, 4)
    assert 0.0 <= result["evals"]["knn_top1@3"] <= 1.0
