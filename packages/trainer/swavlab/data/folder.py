"""A folder of images as a dataset, confined to the directories in SWAVLAB_DATA_ROOTS.

Layout: each sub-folder of the dataset folder is a class (sorted names → label ids, images found
recursively below it); images directly in the dataset folder are unlabelled (used for
pretraining, ignored by evaluation). Hidden entries (names starting with '.') are ignored.

Confinement: `data.path` (relative to a root, or absolute) must resolve, symlinks included,
inside one of the roots; symlinks inside the folder that point outside every root are skipped.

Readability is checked once at index time: `Image.open` (header) plus `verify()` (which checks
PNG chunk CRCs; for JPEG it only parses headers). Files that fail, and files without an image
extension, are listed in `skipped` with the reason and left out. A file that still fails to
decode later (e.g. a truncated JPEG) is replaced by the next readable item, with a warning.
"""

from __future__ import annotations

import os
import statistics
import warnings
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from ..spec import SpecError
from .base import UNLABELLED, LabelledDataset

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"})
ROOTS_ENV = "SWAVLAB_DATA_ROOTS"
_MAX_DECODE_FALLBACKS = 16


def _path_error(message: str) -> SpecError:
    return SpecError([{"path": "data.path", "message": message}])


def data_roots() -> list[Path]:
    """The resolved directories of SWAVLAB_DATA_ROOTS (colon-separated); empty entries ignored."""
    raw = os.environ.get(ROOTS_ENV, "")
    return [Path(p).resolve() for p in raw.split(":") if p.strip()]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def resolve_data_path(path: str, roots: Sequence[Path] | None = None) -> Path:
    """Resolves `data.path` to an existing directory inside one of the data roots.

    Relative paths are tried against each root in order. Raises SpecError (path `data.path`) when
    no roots are configured, when the path escapes every root (via `..` or a symlink), or when it
    is not an existing directory.
    """
    roots = data_roots() if roots is None else [Path(r).resolve() for r in roots]
    if not roots:
        raise _path_error(f"{ROOTS_ENV} is not set; folder datasets must live under one of its directories")
    listed = ":".join(str(r) for r in roots)
    raw = Path(path)
    candidates = [raw] if raw.is_absolute() else [root / raw for root in roots]
    escaped: Path | None = None
    for candidate in candidates:
        resolved = candidate.resolve()
        if not _inside(resolved, roots):
            escaped = resolved
            continue
        if resolved.is_dir():
            return resolved
    if escaped is not None:
        raise _path_error(f"{path!r} resolves to {str(escaped)!r}, outside {ROOTS_ENV} ({listed})")
    raise _path_error(f"{path!r} is not an existing directory under {ROOTS_ENV} ({listed})")


def _scan(
    directory: Path, roots: Sequence[Path], skipped: list[tuple[str, str]], visited: set[Path], recursive: bool
) -> tuple[list[Path], list[Path]]:
    """(files, sub-directories) of `directory`, sorted, with symlink confinement applied."""
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
            if not _inside(target, roots):
                skipped.append((str(path), f"symlink to {str(target)!r}, outside {ROOTS_ENV}"))
                continue
        if entry.is_dir():
            real = Path(os.path.realpath(entry.path))
            if real in visited:  # a symlink cycle or a second link to the same folder
                continue
            visited.add(real)
            subdirs.append(path)
        elif entry.is_file():
            files.append(path)
    if recursive:
        for sub in subdirs:
            more, _ = _scan(sub, roots, skipped, visited, recursive=True)
            files.extend(more)
    return files, subdirs


def _readable_size(path: Path, skipped: list[tuple[str, str]]) -> tuple[int, int] | None:
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


class ImageFolderDataset(LabelledDataset):
    """Readable images under a folder; see the module docstring for layout and confinement."""

    def __init__(self, path: str, roots: Sequence[Path] | None = None) -> None:
        roots = data_roots() if roots is None else [Path(r).resolve() for r in roots]
        self.root = resolve_data_path(path, roots)
        self.skipped: list[tuple[str, str]] = []
        visited = {self.root}
        root_files, class_dirs = _scan(self.root, roots, self.skipped, visited, recursive=False)

        self.samples: list[tuple[str, int]] = []
        sizes: list[int] = []

        def add(files: list[Path], label: int) -> int:
            added = 0
            for f in files:
                size = _readable_size(f, self.skipped)
                if size is not None:
                    self.samples.append((str(f), label))
                    sizes.append(min(size))
                    added += 1
            return added

        self.classes: list[str] = []
        for class_dir in class_dirs:
            files, _ = _scan(class_dir, roots, self.skipped, visited, recursive=True)
            if add(files, len(self.classes)):
                self.classes.append(class_dir.name)
            else:
                self.skipped.append((str(class_dir), "class folder without readable images"))
        add(root_files, UNLABELLED)

        if not self.samples:
            raise _path_error(
                f"no readable images in {str(self.root)!r} (extensions: {', '.join(sorted(IMAGE_EXTENSIONS))}; "
                f"{len(self.skipped)} entries skipped)"
            )
        self.num_classes = len(self.classes)
        # Evaluation resizes to the typical short side (images are read at their own size).
        self.image_size = int(statistics.median(sizes))
        self._labels = [label for _, label in self.samples]
        self._warned: set[str] = set()

    @property
    def labels(self) -> Sequence[int]:
        return self._labels

    @property
    def labelled(self) -> bool:
        """True when at least one class folder holds images (evaluation is then possible)."""
        return self.num_classes > 0

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        for attempt in range(_MAX_DECODE_FALLBACKS):
            path, label = self.samples[(index + attempt) % len(self.samples)]
            try:
                with Image.open(path) as image:
                    return image.convert("RGB"), label
            except Exception as error:  # see _readable_size: PIL's error types vary by format
                if path not in self._warned:
                    self._warned.add(path)
                    warnings.warn(f"skipping undecodable image {path}: {error}", RuntimeWarning, stacklevel=2)
        raise OSError(f"{_MAX_DECODE_FALLBACKS} consecutive images failed to decode, starting at {self.samples[index][0]}")
