"""Seed derivation for reproducible data: images and augmentations are pure functions of seeds.

Synthetic images are a function of (seed, index) and augmentations of (seed, epoch, index), so a
run gives the same batches whatever the number of DataLoader workers, and a resumed run sees the
same augmentations as an uninterrupted one.
"""

from __future__ import annotations

import random

import numpy as np
import torch

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    """One SplitMix64 step: a cheap, well-mixing bijection on 64-bit integers."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def derive_seed(*parts: int) -> int:
    """Hashes integers (e.g. seed, epoch, index) into a 63-bit seed; order matters."""
    h = 0x5A17AB  # any fixed start value: it only has to differ from a plain zero state
    for part in parts:
        h = _splitmix64(h ^ (part & _MASK64))
    return h >> 1


def seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: seeds Python's and NumPy's RNGs from torch's per-worker seed.

    torch already gives each worker `base_seed + worker_id`, where `base_seed` comes from the
    loader's generator (or the global torch RNG); without this, NumPy/`random` state would be a copy
    of the parent's in every worker (identical "random" numbers across workers).
    """
    del worker_id  # torch.initial_seed() already includes it
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
