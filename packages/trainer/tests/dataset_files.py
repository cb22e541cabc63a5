"""Small datasets in their real on-disk formats, written for tests: an ImageNet-style JPEG tree, the CIFAR
python-version pickles and the STL-10 binaries. The pytest suites import the writers; the service tests run

    python3 packages/trainer/tests/dataset_files.py ROOT

which writes ROOT/inet (imagefolder), ROOT/cifar (cifar10) and ROOT/stl (stl10) and prints their sizes as JSON.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR10_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
STL10_NAMES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def write_jpeg(path: Path, size: tuple[int, int] = (24, 20), colour: tuple[int, int, int] = (200, 40, 10)) -> Path:
    """A two-tone JPEG (the left half's green raised), so that crops of it differ."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.empty((size[1], size[0], 3), dtype=np.uint8)
    pixels[:] = colour
    pixels[:, : size[0] // 2, 1] = 250
    Image.fromarray(pixels, "RGB").save(path, "JPEG", quality=95)
    return path


def cifar_pattern(seed: int) -> np.ndarray:
    """A 32 x 32 RGB image whose pixel (r, c) is (8 r, 8 c, seed): every pixel says where it belongs."""
    rows, cols = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    return np.stack([rows * 8, cols * 8, np.full_like(rows, seed)], axis=2).astype(np.uint8)


def cifar_rows(images: list[np.ndarray]) -> np.ndarray:
    """The format's rows: the 1024 red values of an image, then green, then blue, each row-major."""
    return np.stack([image.transpose(2, 0, 1).reshape(-1) for image in images])


def dump_pickle(path: Path, value: object) -> None:
    with path.open("wb") as handle:
        pickle.dump(value, handle, protocol=2)  # what the published files use


def write_cifar_batch(path: Path, first: int, count: int, label_key: bytes, num_classes: int) -> None:
    """One batch file holding images `cifar_pattern(first)` … `cifar_pattern(first + count - 1)`, labels seed % classes."""
    seeds = list(range(first, first + count))
    batch = {
        b"batch_label": f"batch from {first}".encode(),
        b"data": cifar_rows([cifar_pattern(s) for s in seeds]),
        label_key: [s % num_classes for s in seeds],
        b"filenames": [f"img_{s}.png".encode() for s in seeds],
    }
    if label_key == b"fine_labels":
        batch[b"coarse_labels"] = [s % 20 for s in seeds]
    dump_pickle(path, batch)


def write_cifar10(folder: Path, per_batch: int, test: int) -> None:
    """cifar-10-batches-py: five training batches of `per_batch` images, a test batch of `test`, the meta file."""
    folder.mkdir(parents=True)
    for i in range(5):
        write_cifar_batch(folder / f"data_batch_{i + 1}", per_batch * i, per_batch, b"labels", 10)
    write_cifar_batch(folder / "test_batch", 1000, test, b"labels", 10)
    dump_pickle(folder / "batches.meta", {b"label_names": CIFAR10_NAMES, b"num_cases_per_batch": per_batch,
                                          b"num_vis": 3072})


def stl_pattern(seed: int) -> np.ndarray:
    """A 96 x 96 RGB image whose pixel (r, c) is (r, 2 c, seed): rows, columns and images all differ."""
    rows, cols = np.meshgrid(np.arange(96), np.arange(96), indexing="ij")
    return np.stack([rows, cols * 2, np.full_like(rows, seed)], axis=2).astype(np.uint8)


def stl_bytes(images: list[np.ndarray]) -> bytes:
    """The format: per image, the red channel column by column, then green, then blue."""
    return b"".join(image.transpose(2, 1, 0).tobytes() for image in images)


def write_stl10(folder: Path, train: int, test: int, unlabeled: int) -> None:
    """stl10_binary: X (and for train/test y, labels 1..10) files of `stl_pattern` images, and class_names.txt."""
    folder.mkdir(parents=True)
    for split, first, count in (("train", 0, train), ("test", 50, test), ("unlabeled", 100, unlabeled)):
        (folder / f"{split}_X.bin").write_bytes(stl_bytes([stl_pattern(first + i) for i in range(count)]))
        if split != "unlabeled":
            (folder / f"{split}_y.bin").write_bytes(bytes((first + i) % 10 + 1 for i in range(count)))
    (folder / "class_names.txt").write_text("\n".join(STL10_NAMES) + "\n")


def write_imagefolder(root: Path, classes: list[str], train: int, val: int) -> None:
    """root/train/<class>/*.JPEG and root/val/<class>/*.JPEG, each class its own colour, sizes varying."""
    rng = np.random.default_rng(0)
    for index, name in enumerate(classes):
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        for split, count in (("train", train), ("val", val)):
            for i in range(count):
                write_jpeg(root / split / name / f"{name}_{split}_{i}.JPEG", size=(40 + 3 * i, 36 + index), colour=colour)


def main(root: Path) -> None:
    classes = ["n01", "n02", "n03"]
    write_imagefolder(root / "inet", classes, train=12, val=4)
    write_cifar10(root / "cifar" / "cifar-10-batches-py", per_batch=8, test=12)
    write_stl10(root / "stl" / "stl10_binary", train=10, test=10, unlabeled=32)
    print(json.dumps({
        "imagefolder": {"path": "inet", "classes": len(classes), "train": 12 * len(classes), "val": 4 * len(classes)},
        "cifar10": {"path": "cifar", "classes": 10, "train": 40, "test": 12},
        "stl10": {"path": "stl", "classes": 10, "train": 10, "test": 10, "unlabeled": 32},
    }))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: dataset_files.py ROOT")
    main(Path(sys.argv[1]))
