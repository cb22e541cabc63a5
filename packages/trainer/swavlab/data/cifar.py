"""CIFAR-10 and CIFAR-100 from the authors' "python version" pickles, without any download.

`data.path` is the extracted `cifar-10-batches-py` / `cifar-100-python` folder, or a folder that
holds it. Each batch is a pickled dict (Python 2, so read with encoding='bytes'): `b'data'` a uint8
array of N x 3072 (1024 red, then green, then blue values, each a 32 x 32 row-major image) and
`b'labels'` (CIFAR-10) or `b'fine_labels'` (CIFAR-100, whose 100 fine classes are used). Class
names come from `batches.meta` / `meta`. Pretraining and the evaluation's training side use the
train batches, the evaluation is scored on the test batch.

The unpickler only builds numpy arrays and plain Python values: a pickle can otherwise run any
code, and a dataset file is no reason to let it. Missing, truncated or malformed files are
SpecErrors naming the file.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .arrays import ArrayImages
from ..spec import SpecError
from .roots import field_error, resolve_data_path, resolve_dataset_files, resolved_roots
from .splits import DatasetSplits

_IMAGE_BYTES = 3 * 32 * 32
_STORED_SHAPE = (3, 32, 32)
_HWC = (1, 2, 0)
# What numpy's own array pickles refer to (protocols 2-5, numpy 1.x and 2.x module names), and how
# Python 3 writes bytes at protocol 2 (a re-saved batch); all of them only build values.
_ALLOWED_GLOBALS = frozenset(
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric", "numpy")
    for name in ("_reconstruct", "scalar", "_frombuffer", "ndarray", "dtype")
) | {("_codecs", "encode"), ("__builtin__", "bytes"), ("builtins", "bytes")}


@dataclass(frozen=True)
class CifarLayout:
    """Where one CIFAR variant keeps its batches and labels."""

    source: str
    folder: str
    train_files: tuple[str, ...]
    test_file: str
    meta_file: str
    label_key: str
    names_key: str
    num_classes: int

    @property
    def all_files(self) -> tuple[str, ...]:
        return (*self.train_files, self.test_file, self.meta_file)


CIFAR10 = CifarLayout(
    "cifar10",
    "cifar-10-batches-py",
    tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test_batch",
    "batches.meta",
    "labels",
    "label_names",
    10,
)
CIFAR100 = CifarLayout("cifar100", "cifar-100-python", ("train",), "test", "meta", "fine_labels", "fine_label_names", 100)


class _ArraysOnly(pickle.Unpickler):
    """Resolves only the globals numpy arrays need; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only numpy arrays are expected)")
        return super().find_class(module, name)  # maps Python 2 module names (__builtin__)


def _file_error(path: Path, message: str) -> SpecError:
    return field_error("data.path", f"{str(path)!r}: {message}")


def _load(path: Path) -> dict[str, Any]:
    """The pickled dict in `path`, keys as str."""
    try:
        with path.open("rb") as handle:
            value = _ArraysOnly(handle, encoding="bytes").load()
    except Exception as error:  # truncation and corruption surface as many types (EOFError, UnpicklingError, ...)
        raise _file_error(path, f"truncated or corrupt ({type(error).__name__}: {error})") from error
    if not isinstance(value, dict):
        raise _file_error(path, f"holds a {type(value).__name__}, not a CIFAR dict")
    return {key.decode("latin-1") if isinstance(key, bytes) else str(key): item for key, item in value.items()}


def _field(batch: Mapping[str, Any], key: str, path: Path) -> Any:
    if key not in batch:
        raise _file_error(path, f"has no {key!r} entry (has: {', '.join(sorted(batch)) or 'none'})")
    return batch[key]


def _read_batch(path: Path, layout: CifarLayout) -> tuple[np.ndarray, list[int]]:
    """(N x 3072 uint8 images, N labels) of one batch file, shapes and label range checked."""
    batch = _load(path)
    data = _field(batch, "data", path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _IMAGE_BYTES:
        described = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise _file_error(path, f"'data' must be a uint8 array of N x {_IMAGE_BYTES}; got a {described}")
    raw_labels = _field(batch, layout.label_key, path)
    try:
        labels = [int(label) for label in raw_labels]
    except (TypeError, ValueError) as error:
        raise _file_error(path, f"{layout.label_key!r} must be a list of integers ({error})") from error
    if len(labels) != len(data):
        raise _file_error(path, f"has {len(data)} images but {len(labels)} {layout.label_key!r}")
    bad = [label for label in labels if not 0 <= label < layout.num_classes]
    if bad:
        raise _file_error(path, f"{layout.label_key!r} must lie in [0, {layout.num_classes}); found {bad[0]}")
    if not labels:
        raise _file_error(path, "holds no images")
    return data, labels


def _class_names(path: Path, layout: CifarLayout) -> list[str]:
    names = _field(_load(path), layout.names_key, path)
    if not isinstance(names, list) or len(names) != layout.num_classes:
        raise _file_error(path, f"{layout.names_key!r} must list {layout.num_classes} class names")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names]


def _dataset(files: Sequence[Path], layout: CifarLayout, classes: Sequence[str]) -> ArrayImages:
    batches = [_read_batch(path, layout) for path in files]
    data = np.concatenate([images for images, _ in batches])
    labels = [label for _, batch_labels in batches for label in batch_labels]
    return ArrayImages(data, _STORED_SHAPE, _HWC, labels, classes)


def cifar_splits(data_spec: Mapping[str, Any], layout: CifarLayout, roots: Sequence[Path] | None = None) -> DatasetSplits:
    """Pretrain on the train batches, evaluate train → test (see the module docstring)."""
    roots = resolved_roots(roots)
    root = resolve_data_path(str(data_spec["path"]), roots)
    nested = root / layout.folder
    folder = resolve_data_path(str(nested), roots) if nested.is_dir() else root
    expected = f"the extracted {layout.folder} folder ({', '.join(layout.all_files)})"
    files = resolve_dataset_files(folder, layout.all_files, expected, roots)
    classes = _class_names(files[layout.meta_file], layout)
    train = _dataset([files[name] for name in layout.train_files], layout, classes)
    test = _dataset([files[layout.test_file]], layout, classes)
    return DatasetSplits(layout.source, train, train, test, len(classes))
