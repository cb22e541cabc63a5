"""A folder of images as a dataset, confined to the directories in SWAVLAB_DATA_ROOTS.

Layout: each sub-folder of the dataset folder is a class (sorted names → label ids, images found
recursively below it); images directly in the dataset folder are unlabelled (used for
pretraining, ignored by evaluation). A class folder without readable images is skipped.

Confinement: `data.path` (relative to a root, or absolute) must resolve, symlinks included,
inside one of the roots (see roots.py); scanning, index-time checks and decoding are those of
image_files.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .base import UNLABELLED
from .image_files import IMAGE_EXTENSIONS, FileIndex, ImageFiles, scan
from .roots import field_error, resolve_data_path, resolved_roots

__all__ = ["IMAGE_EXTENSIONS", "ImageFolderDataset", "resolve_data_path"]


class ImageFolderDataset(ImageFiles):
    """Readable images under a folder; see the module docstring for layout and confinement."""

    def __init__(self, path: str, roots: Sequence[Path] | None = None) -> None:
        roots = resolved_roots(roots)
        self.root = resolve_data_path(path, roots)
        index = FileIndex()
        visited = {self.root}
        root_files, class_dirs = scan(self.root, roots, index.skipped, visited, recursive=False)
        classes: list[str] = []
        for class_dir in class_dirs:
            files, _ = scan(class_dir, roots, index.skipped, visited, recursive=True)
            if index.add(files, len(classes)):
                classes.append(class_dir.name)
            else:
                index.skipped.append((str(class_dir), "class folder without readable images"))
        index.add(root_files, UNLABELLED)
        if not index.samples:
            raise field_error(
                "data.path",
                f"no readable images in {str(self.root)!r} (extensions: {', '.join(sorted(IMAGE_EXTENSIONS))}; "
                f"{len(index.skipped)} entries skipped)",
            )
        super().__init__(index, classes)
