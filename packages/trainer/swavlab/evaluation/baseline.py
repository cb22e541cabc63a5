"""The random-init baseline: k-NN of the run's backbone architecture never trained, on the run's splits.

A pretrained backbone that does not beat its own random initialisation learned nothing usable, however
its loss looks (an untrained convolutional network is already a fair k-NN feature extractor on small
images). The baseline depends on the splits (the data section and, for sources that split by seed, the
seed), the backbone (arch, small stem) and the k-NN settings; it is computed once for each and cached
as a small JSON file, so a grid's cells share it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..data import data_seed
from ..data.base import LabelledDataset
from ..models.backbones import build_backbone

# The untrained weights come from this seed, whatever the run's seed: one baseline per dataset and backbone.
INIT_SEED = 0
PREFIX = "random_init_"
_CACHE_VERSION = 1


def cache_dir() -> Path:
    """SWAVLAB_CACHE_DIR, else $SWAVLAB_HOME/cache, else $XDG_CACHE_HOME/swavlab, else ~/.cache/swavlab."""
    explicit = os.environ.get("SWAVLAB_CACHE_DIR")
    if explicit:
        return Path(explicit)
    home = os.environ.get("SWAVLAB_HOME")
    if home:
        return Path(home) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swavlab"


def baseline_key(spec: Mapping[str, Any]) -> str:
    """What the baseline depends on, hashed: the data section, the data's seed, the backbone and k-NN."""
    model = spec["model"]
    described = {
        "version": _CACHE_VERSION,
        "data": {key: value for key, value in spec["data"].items() if key != "seed"},
        "seed": data_seed(spec),
        "backbone": {"arch": model["arch"], "small_stem": model["small_stem"]},
        "knn": spec["eval"]["knn"],
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def _read(path: Path) -> dict[str, float] | None:
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(values, dict) or not all(isinstance(v, (int, float)) for v in values.values()):
        return None
    return {str(k): float(v) for k, v in values.items()}


def _write(path: Path, values: Mapping[str, float]) -> None:
    """Atomically (a temporary file renamed), so that a reader never sees half a file; a failure only loses the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".baseline-")
        with os.fdopen(fd, "w") as handle:
            json.dump(dict(values), handle)
        os.replace(temporary, path)
    except OSError:
        return


def random_init_knn(
    spec: Mapping[str, Any],
    train_ds: LabelledDataset,
    test_ds: LabelledDataset,
    device: torch.device,
    *,
    workers: int = 0,
    cache: Path | None = None,
) -> dict[str, float]:
    """`random_init_knn_top1@<k>` for each k of `spec.eval.knn` (empty without k-NN), from the cache when present."""
    if spec["eval"].get("knn") is None:
        return {}
    path = (cache or cache_dir()) / "baselines" / f"{baseline_key(spec)}.json"
    cached = _read(path)
    if cached is not None:
        return cached
    from . import evaluate

    knn_only = {"knn": spec["eval"]["knn"], "linear": None, "semisup": None}
    # Initialisation and the loaders draw from torch's CPU generator only; forking it leaves the run's random
    # stream as if the baseline had not been computed (or had come from the cache).
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        backbone, _ = build_backbone(str(spec["model"]["arch"]), bool(spec["model"]["small_stem"]))
        values = evaluate(backbone.to(device), train_ds, test_ds, knn_only, device, INIT_SEED, workers=workers)
    baseline = {PREFIX + name: value for name, value in values.items()}
    _write(path, baseline)
    return baseline
