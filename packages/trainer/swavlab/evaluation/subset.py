"""The labelled subset semi-supervised fine-tuning trains on (the paper's Table 2: 1 % or 10 % of the
ImageNet labels; eval_semisup.py reads SimCLR's lists of image file names).

Either `fraction` of every class, drawn from the seed, or the images a subset file lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import numpy as np

from ..data.base import UNLABELLED, LabelledDataset, Subset
from ..data.seeding import derive_seed
from ..spec import SpecError

# Lines of a subset file quoted in an error message before "and N more".
_QUOTED = 5


def fraction_subset(labels: Sequence[int], fraction: float, seed: int) -> list[int]:
    """Sorted indices of round(fraction × n_c) labelled items of each class c (at least one).

    Class c's items are drawn without replacement by NumPy's generator seeded with derive_seed(seed, c),
    so a class's draw does not depend on the other classes. Unlabelled items are never drawn.
    """
    label_array = np.asarray(labels, dtype=np.int64)
    chosen: list[np.ndarray] = []
    for cls in np.unique(label_array[label_array != UNLABELLED]):
        members = np.flatnonzero(label_array == cls)
        count = max(1, round(fraction * len(members)))
        rng = np.random.default_rng(derive_seed(seed, int(cls)))
        chosen.append(rng.choice(members, size=count, replace=False))
    return sorted(np.concatenate(chosen).tolist()) if chosen else []


def sample_files(dataset: LabelledDataset) -> list[str] | None:
    """The image file of every item of `dataset` (a source of files, or a Subset of one), else None."""
    if isinstance(dataset, Subset):
        files = sample_files(dataset.base)
        return None if files is None else [files[i] for i in dataset.indices]
    samples = getattr(dataset, "samples", None)
    if not isinstance(samples, list):
        return None
    return [str(path) for path, _ in samples]


def _quote(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_QUOTED])
    return shown if len(names) <= _QUOTED else f"{shown} and {len(names) - _QUOTED} more"


def listed_subset(dataset: LabelledDataset, entries: Sequence[str], field: str) -> list[int]:
    """Sorted indices of the items of `dataset` that `entries` name.

    An entry is a file name (`n01440764_10026.JPEG`, as SimCLR's lists) or a path relative to the
    split's root (`n01440764/n01440764_10026.JPEG`); it names the image whose path ends with it, component
    by component. Raises SpecError at `field` listing entries that name no image of the split, more than
    one, or an unlabelled one.
    """
    if not entries:
        raise SpecError([{"path": field, "message": "lists no images"}])
    files = sample_files(dataset)
    if files is None:
        raise SpecError([{"path": field, "message": "this data source has no image files to list; leave it out"}])
    by_name: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for index, path in enumerate(files):
        parts = PurePosixPath(path).parts
        by_name.setdefault(parts[-1], []).append((index, parts))
    chosen: dict[int, str] = {}
    unmatched: list[str] = []
    ambiguous: list[str] = []
    for entry in entries:
        wanted = PurePosixPath(entry).parts
        candidates = by_name.get(wanted[-1], []) if wanted else []
        matches = [i for i, parts in candidates if parts[-len(wanted) :] == wanted]
        if not matches:
            unmatched.append(entry)
        elif len(matches) > 1:
            ambiguous.append(entry)
        else:
            chosen[matches[0]] = entry
    unlabelled = [entry for i, entry in chosen.items() if dataset.labels[i] == UNLABELLED]
    errors = []
    if unmatched:
        errors.append(f"{len(unmatched)} entries name no image of the training split: {_quote(unmatched)}")
    if ambiguous:
        errors.append(
            f"{len(ambiguous)} entries name several images; give their path in the split: {_quote(ambiguous)}"
        )
    if unlabelled:
        errors.append(f"{len(unlabelled)} entries name unlabelled images: {_quote(unlabelled)}")
    if errors:
        raise SpecError([{"path": field, "message": "; ".join(errors)}])
    return sorted(chosen)


def read_entries(text: str) -> list[str]:
    """The non-empty lines of a subset file, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]
