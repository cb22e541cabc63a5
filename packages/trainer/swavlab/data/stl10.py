"""STL-10 from the authors' binary files, without any download.

`data.path` is the extracted `stl10_binary` folder, or a folder that holds it. `*_X.bin` files are
raw uint8 images of 3 x 96 x 96 bytes, one channel after the other, each channel stored column by
column (MATLAB order); `*_y.bin` hold one label byte (1..10) per image; `class_names.txt` one class
name per line. Pretraining uses the 100,000 `unlabeled` images, the evaluation trains on `train` and
is scored on `test`. The image files are memory-mapped (see arrays.py); a size that is not a whole
number of images, or a label count that differs from the image count, is a SpecError naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..spec import SpecError
from .arrays import ArrayImages
from .base import UNLABELLED
from .roots import field_error, resolve_data_path, resolve_dataset_files, resolved_roots
from .splits import DatasetSplits

FOLDER = "stl10_binary"
NUM_CLASSES = 10
_STORED_SHAPE = (3, 96, 96)  # channel, column, row
_IMAGE_BYTES = 3 * 96 * 96
_HWC = (2, 1, 0)
_FILES = ("train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin", "unlabeled_X.bin", "class_names.txt")


def _file_error(path: Path, message: str) -> SpecError:
    return field_error("data.path", f"{str(path)!r}: {message}")


def _image_count(path: Path) -> int:
    size = path.stat().st_size
    if size == 0 or size % _IMAGE_BYTES:
        raise _file_error(
            path, f"{size} bytes is not a whole number of 3x96x96 images ({_IMAGE_BYTES} bytes each); truncated?"
        )
    return size // _IMAGE_BYTES


def _labels(path: Path, images: Path, count: int) -> list[int]:
    """The 0-based labels in `path`, one per image of `images`."""
    raw = np.fromfile(path, dtype=np.uint8)
    if len(raw) != count:
        raise _file_error(path, f"has {len(raw)} labels but {images.name} has {count} images")
    outside = raw[(raw < 1) | (raw > NUM_CLASSES)]
    if len(outside):
        raise _file_error(path, f"labels must lie in 1..{NUM_CLASSES}; found {int(outside[0])}")
    return (raw.astype(np.int64) - 1).tolist()


def _class_names(path: Path) -> list[str]:
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise _file_error(path, f"unreadable ({error})") from error
    if len(names) != NUM_CLASSES:
        raise _file_error(path, f"lists {len(names)} class names; STL-10 has {NUM_CLASSES}")
    return names


def _split(images: Path, label_file: Path | None, classes: Sequence[str]) -> ArrayImages:
    """The images of `images`, labelled by `label_file` (unlabelled without one)."""
    count = _image_count(images)
    labels = [UNLABELLED] * count if label_file is None else _labels(label_file, images, count)
    return ArrayImages(None, _STORED_SHAPE, _HWC, labels, classes, mapped=(images, count))


def stl10_splits(data_spec: Mapping[str, Any], roots: Sequence[Path] | None = None) -> DatasetSplits:
    """Pretrain on `unlabeled`, evaluate train → test (see the module docstring)."""
    roots = resolved_roots(roots)
    root = resolve_data_path(str(data_spec["path"]), roots)
    nested = root / FOLDER
    folder = resolve_data_path(str(nested), roots) if nested.is_dir() else root
    files = resolve_dataset_files(folder, _FILES, f"the extracted {FOLDER} folder ({', '.join(_FILES)})", roots)
    classes = _class_names(files["class_names.txt"])
    train = _split(files["train_X.bin"], files["train_y.bin"], classes)
    test = _split(files["test_X.bin"], files["test_y.bin"], classes)
    unlabeled = _split(files["unlabeled_X.bin"], None, classes)
    return DatasetSplits("stl10", unlabeled, train, test, NUM_CLASSES)
