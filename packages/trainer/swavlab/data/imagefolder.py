"""ImageNet's layout as a dataset: `root/train/<class>/*` and `root/val/<class>/*`.

Classes are the sub-folders of train/ (sorted names → label ids), or the subset of them named by
`data.classes` / `data.classes_file` (one name per line; blank lines ignored). Pretraining and the
evaluation's training side use every readable train image of those classes, the evaluation is
scored on val. A val class that train/ lacks, a listed class that train/ lacks, a class folder
without readable images and an empty split are errors the user must fix; single unreadable files
are skipped with the reason, as in the `folder` source (image_files.py), and images lying directly
in train/ or val/ (no class) are skipped too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .image_files import FileIndex, ImageFiles, Skipped, scan
from .roots import ROOTS_ENV, field_error, inside, resolve_data_file, resolve_data_path, resolved_roots
from .splits import DatasetSplits

_LAYOUT = "expected the ImageNet layout train/<class>/<images> and val/<class>/<images>"
_NAMES_SHOWN = 10


def _names(names: Sequence[str]) -> str:
    """The first names, quoted, and how many more there are."""
    shown = ", ".join(repr(n) for n in names[:_NAMES_SHOWN])
    return shown + (f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else "")


def _split_dir(root: Path, name: str, roots: Sequence[Path]) -> Path:
    """`root/name` as a directory inside the data roots."""
    real = (root / name).resolve()
    if not inside(real, roots):
        raise field_error("data.path", f"{str(root / name)!r} resolves to {str(real)!r}, outside {ROOTS_ENV}")
    if not real.is_dir():
        raise field_error("data.path", f"{str(root)!r} has no {name}/ folder; {_LAYOUT}")
    return real


def _class_dirs(name: str, split: Path, roots: Sequence[Path], skipped: Skipped) -> dict[str, Path]:
    """The class folders of a split by name; files lying directly in the split are skipped."""
    files, dirs = scan(split, roots, skipped, {split}, recursive=False)
    skipped.extend((str(f), f"not in a class folder of {name}/") for f in files)
    return {d.name: d for d in dirs}


def read_classes_file(path: str, roots: Sequence[Path]) -> list[str]:
    """The class names listed in `data.classes_file` (confined to the data roots), one per line."""
    resolved = resolve_data_file(path, "data.classes_file", roots)
    try:
        text = resolved.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise field_error("data.classes_file", f"cannot read {str(resolved)!r}: {error}") from error
    names: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if name in first_line:
            raise field_error(
                "data.classes_file", f"line {number} of {str(resolved)!r} repeats {name!r} (line {first_line[name]})"
            )
        first_line[name] = number
        names.append(name)
    if len(names) < 2:
        raise field_error("data.classes_file", f"{str(resolved)!r} lists {len(names)} classes; at least 2 are needed")
    return names


def _selected_classes(data_spec: Mapping[str, Any], train_classes: Sequence[str], roots: Sequence[Path]) -> list[str]:
    """The classes to use, sorted: all of train/, or the listed ones (each must exist in train/)."""
    if "classes_file" in data_spec:
        listed, field = read_classes_file(str(data_spec["classes_file"]), roots), "data.classes_file"
    elif "classes" in data_spec:
        listed, field = [str(c) for c in data_spec["classes"]], "data.classes"
    else:
        return sorted(train_classes)
    available = set(train_classes)
    missing = [name for name in listed if name not in available]  # also any name that is not a folder name
    if missing:
        raise field_error(field, f"{len(missing)} listed classes have no folder in train/: {_names(missing)}")
    return sorted(listed)


def _index_split(name: str, class_dirs: Mapping[str, Path], classes: Sequence[str], roots: Sequence[Path]) -> FileIndex:
    """Indexes the images of `classes` present in `class_dirs`; an empty class is an error."""
    index = FileIndex()
    visited = {d.resolve() for d in class_dirs.values()}
    for label, cls in enumerate(classes):
        if cls not in class_dirs:
            continue
        files, _ = scan(class_dirs[cls], roots, index.skipped, visited, recursive=True)
        if not index.add(files, label):
            raise field_error("data.path", f"class {cls!r} of {name}/ has no readable images ({str(class_dirs[cls])!r})")
    if not index.samples:
        raise field_error("data.path", f"{name}/ has no images of the {len(classes)} selected classes; {_LAYOUT}")
    return index


def imagefolder_splits(data_spec: Mapping[str, Any], roots: Sequence[Path] | None = None) -> DatasetSplits:
    """Pretrain on train/, evaluate train/ → val/ (see the module docstring)."""
    roots = resolved_roots(roots)
    root = resolve_data_path(str(data_spec["path"]), roots)
    train_dir, val_dir = _split_dir(root, "train", roots), _split_dir(root, "val", roots)
    skipped: Skipped = []
    train_dirs = _class_dirs("train", train_dir, roots, skipped)
    if not train_dirs:
        raise field_error("data.path", f"{str(train_dir)!r} has no class folders; {_LAYOUT}")
    val_dirs = _class_dirs("val", val_dir, roots, skipped)
    unknown = sorted(set(val_dirs) - set(train_dirs))
    if unknown:
        raise field_error("data.path", f"val/ has {len(unknown)} classes that train/ lacks: {_names(unknown)}")
    classes = _selected_classes(data_spec, list(train_dirs), roots)
    train = ImageFiles(_index_split("train", train_dirs, classes, roots), classes)
    val = ImageFiles(_index_split("val", val_dirs, classes, roots), classes)
    return DatasetSplits("imagefolder", train, train, val, len(classes), [*skipped, *train.skipped, *val.skipped])
