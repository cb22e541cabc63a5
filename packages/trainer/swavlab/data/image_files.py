"""Image files as a dataset: confined directory scans, index-time checks, decoding with fallback.

Shared by the `folder` and `imagefolder` sources, which differ only in where labels come from.

Scans skip hidden entries (names starting with '.') and symlinks pointing outside every data root.
Readability is checked once at index time: `Image.open` (header) plus `verify()` (which checks PNG
chunk CRCs; for JPEG it only parses headers). Files that fail, and files without an image
extension, are listed in `skipped` with the reason and left out. A file that still fails to decode
later (e.g. a truncated JPEG) is replaced by the next readable item, with a warning.
"""

from __future__ import annotations

import copy
import os
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..spec import IMAGE_EXTENSIONS
from .base import LabelledDataset
from .decode import DecodeBound, open_rgb
from .roots import ROOTS_ENV, inside

_MAX_DECODE_FALLBACKS = 16

Skipped = list[tuple[str, str]]


def scan(
    directory: Path, roots: Sequence[Path], skipped: Skipped, visited: set[Path], recursive: bool
) -> tuple[list[Path], list[Path]]:
    """(files, sub-directories) of `directory`, sorted, with symlink confinement applied.

    `visited` holds the real paths of directories already scanned (a symlink cycle or a second link
    to the same folder is not scanned twice). With `recursive`, files of sub-directories are included.
    """
    files: list[Path] = []
    subdirs: list[Path] = []
    with os.scandir(directory) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            target = Path(os.path.realpath(entry.path))
            if not inside(target, roots):
                skipped.append((str(path), f"symlink to {str(target)!r}, outside {ROOTS_ENV}"))
                continue
        if entry.is_dir():
            real = Path(os.path.realpath(entry.path))
            if real in visited:
                continue
            visited.add(real)
            subdirs.append(path)
        elif entry.is_file():
            files.append(path)
    if recursive:
        for sub in subdirs:
            more, _ = scan(sub, roots, skipped, visited, recursive=True)
            files.extend(more)
    return files, subdirs


def readable_size(path: Path, skipped: Skipped) -> tuple[int, int] | None:
    """The image's (width, height) if it has an image extension and opens and verifies, else None."""
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS:
        skipped.append((str(path), f"not an image file (extension {suffix or 'none'!r})"))
        return None
    try:
        with Image.open(path) as image:
            size = image.size
            image.verify()
    except Exception as error:  # PIL raises many types (OSError, SyntaxError, DecompressionBombError, ...)
        skipped.append((str(path), f"unreadable image: {type(error).__name__}: {error}"))
        return None
    return size


@dataclass
class FileIndex:
    """Readable files found so far with their labels, and what was skipped and why."""

    samples: list[tuple[str, int]] = field(default_factory=list)
    short_sides: list[int] = field(default_factory=list)
    skipped: Skipped = field(default_factory=list)

    def add(self, files: Sequence[Path], label: int) -> int:
        """Indexes the readable ones of `files` under `label`; returns how many were readable."""
        added = 0
        for path in files:
            size = readable_size(path, self.skipped)
            if size is not None:
                self.samples.append((str(path), label))
                self.short_sides.append(min(size))
                added += 1
        return added


class ImageFiles(LabelledDataset):
    """The indexed files of `index` with class names `classes`, decoded on access (see module docstring)."""

    def __init__(self, index: FileIndex, classes: Sequence[str]) -> None:
        self.samples = index.samples
        self.skipped = index.skipped
        self.classes = list(classes)
        self.num_classes = len(self.classes)
        # Evaluation resizes to the typical short side (images are read at their own size).
        self.image_size = int(statistics.median(index.short_sides))
        self._labels = [label for _, label in self.samples]
        self._bound: DecodeBound | None = None
        self._warned: set[str] = set()

    @property
    def labels(self) -> Sequence[int]:
        return self._labels

    @property
    def labelled(self) -> bool:
        """True when at least one class holds images (evaluation is then possible)."""
        return self.num_classes > 0

    def decoded_within(self, bound: DecodeBound) -> ImageFiles:
        """A view of the same files whose JPEGs are decoded only as large as `bound` needs."""
        view = copy.copy(self)
        view._bound = bound
        return view

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        for attempt in range(_MAX_DECODE_FALLBACKS):
            path, label = self.samples[(index + attempt) % len(self.samples)]
            try:
                return open_rgb(path, self._bound), label
            except Exception as error:  # see readable_size: PIL's error types vary by format
                if path not in self._warned:
                    self._warned.add(path)
                    warnings.warn(f"skipping undecodable image {path}: {error}", RuntimeWarning, stacklevel=2)
        raise OSError(f"{_MAX_DECODE_FALLBACKS} consecutive images failed to decode, starting at {self.samples[index][0]}")
