"""Confinement of dataset paths to the directories in SWAVLAB_DATA_ROOTS.

Every path a spec names (`data.path`, `data.classes_file`) must resolve, symlinks included, inside
one of the roots, so a spec cannot make the trainer read arbitrary files of the host.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..spec import SpecError

ROOTS_ENV = "SWAVLAB_DATA_ROOTS"


def field_error(field: str, message: str) -> SpecError:
    """A SpecError about one spec field (e.g. `data.path`)."""
    return SpecError([{"path": field, "message": message}])


def data_roots() -> list[Path]:
    """The resolved directories of SWAVLAB_DATA_ROOTS (colon-separated); empty entries ignored."""
    raw = os.environ.get(ROOTS_ENV, "")
    return [Path(p).resolve() for p in raw.split(":") if p.strip()]


def resolved_roots(roots: Sequence[Path | str] | None) -> list[Path]:
    """`roots` resolved, or SWAVLAB_DATA_ROOTS when None."""
    return data_roots() if roots is None else [Path(r).resolve() for r in roots]


def inside(path: Path, roots: Sequence[Path]) -> bool:
    """True when the (resolved) `path` is one of the roots or lies below one."""
    return any(path == root or root in path.parents for root in roots)


def _resolve(path: str, roots: Sequence[Path], field: str, want_dir: bool) -> Path:
    if not roots:
        raise field_error(field, f"{ROOTS_ENV} is not set; datasets must live under one of its directories")
    listed = ":".join(str(r) for r in roots)
    raw = Path(path)
    candidates = [raw] if raw.is_absolute() else [root / raw for root in roots]
    escaped: Path | None = None
    for candidate in candidates:
        resolved = candidate.resolve()
        if not inside(resolved, roots):
            escaped = resolved
            continue
        if resolved.is_dir() if want_dir else resolved.is_file():
            return resolved
    if escaped is not None:
        raise field_error(field, f"{path!r} resolves to {str(escaped)!r}, outside {ROOTS_ENV} ({listed})")
    kind = "directory" if want_dir else "file"
    raise field_error(field, f"{path!r} is not an existing {kind} under {ROOTS_ENV} ({listed})")


def resolve_data_path(path: str, roots: Sequence[Path] | None = None) -> Path:
    """Resolves `data.path` to an existing directory inside one of the data roots.

    Relative paths are tried against each root in order. Raises SpecError (path `data.path`) when
    no roots are configured, when the path escapes every root (via `..` or a symlink), or when it
    is not an existing directory.
    """
    return _resolve(path, resolved_roots(roots), "data.path", want_dir=True)


def resolve_data_file(path: str, field: str, roots: Sequence[Path] | None = None) -> Path:
    """Like `resolve_data_path` for a regular file named by spec field `field`."""
    return _resolve(path, resolved_roots(roots), field, want_dir=False)


def resolve_dataset_files(folder: Path, names: Sequence[str], layout: str, roots: Sequence[Path]) -> dict[str, Path]:
    """The files `names` of a dataset folder by name, each confined to the roots; the missing ones
    are named together in one SpecError (path `data.path`) that says which `layout` was expected."""
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise field_error("data.path", f"{str(folder)!r} lacks {', '.join(missing)}; expected {layout}")
    return {name: resolve_data_file(str(folder / name), "data.path", roots) for name in names}
