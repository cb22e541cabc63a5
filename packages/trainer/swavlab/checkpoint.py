"""Crash-safe checkpoint files: atomic writes, content hashes and retention.

A checkpoint is a ``torch.save``d dict, the payload of a :class:`TrainingState` (the one place that defines its
keys, stamped with ``CHECKPOINT_FORMAT`` by the writer and migrated from older formats on reading). It is written to
a temporary file in the destination directory, fsynced, renamed over the final name and the
directory is fsynced, so a reader (or a crash) sees either the previous set of checkpoints or the
new complete file, never a torn one. Everything stored is a tensor, a number, a string or a
container of those, so on torch 2.x the file loads with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .spec import SpecError

# 2: per-rank state (queue, RNG streams) in `ranks`, one entry per rank; 1 had rank 0's at the top level.
CHECKPOINT_FORMAT = 2
_NAME = re.compile(r"^ckpt-e(\d{4,})-s(\d{8,})\.pt$")
_TEMP_PREFIX = ".ckpt-"
_TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class SavedCheckpoint:
    """Where a checkpoint landed and how to verify it."""

    path: Path
    sha256: str
    bytes: int
    epoch: int
    step: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form used in events and in the run result."""
        return {"path": str(self.path), "sha256": self.sha256, "bytes": self.bytes, "epoch": self.epoch, "step": self.step}


@dataclass
class TrainingState:
    """Everything a run resumes from: the model, optimiser and scaler states, the schedule position, each rank's
    own state (its feature queue and RNG streams) and the metrics kept across a stop. ``to_payload`` and
    ``from_payload`` are the only code that knows a checkpoint's keys."""

    spec: dict[str, Any]
    model: dict[str, Any]
    optimizer: dict[str, Any]
    scaler: dict[str, Any] | None
    epoch: int
    step: int
    schedule: dict[str, Any]
    world_size: int
    ranks: list[dict[str, Any]]
    metrics: dict[str, Any]
    torch_version: str

    def to_payload(self) -> dict[str, Any]:
        """The dict :class:`CheckpointWriter` saves (it adds ``format``)."""
        return {
            "spec": self.spec,
            "model": self.model,
            "optimizer": self.optimizer,
            "scaler": self.scaler,
            "epoch": self.epoch,
            "step": self.step,
            "schedule": self.schedule,
            "world_size": self.world_size,
            "ranks": self.ranks,
            "metrics": self.metrics,
            "torch_version": self.torch_version,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TrainingState:
        """The state of a loaded checkpoint of any format; format 1 kept rank 0's queue and RNG at the top level."""
        ranks = payload.get("ranks")
        if ranks is None:
            ranks = [{"queue": payload.get("queue"), "rng": payload["rng"]}]
        return cls(
            spec=payload["spec"],
            model=payload["model"],
            optimizer=payload["optimizer"],
            scaler=payload.get("scaler"),
            epoch=int(payload["epoch"]),
            step=int(payload["step"]),
            schedule=payload.get("schedule", {}),
            world_size=int(payload.get("world_size", len(ranks))),
            ranks=list(ranks),
            metrics=payload["metrics"],
            torch_version=str(payload.get("torch_version", "")),
        )

    def rank_state(self, rank: int, world_size: int, path: str) -> dict[str, Any]:
        """The state of ``rank`` of a run of ``world_size`` ranks; a checkpoint of another size is a spec error."""
        if len(self.ranks) != world_size:
            message = f"the checkpoint {path} holds the state of {len(self.ranks)} ranks; this run has {world_size}"
            raise SpecError([{"path": "runtime", "message": message}])
        return self.ranks[rank]


def checkpoint_name(epoch: int, step: int) -> str:
    """File name for a checkpoint after ``epoch`` completed epochs and ``step`` optimiser steps."""
    return f"ckpt-e{epoch:04d}-s{step:08d}.pt"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_torch_save(payload: dict[str, Any], path: Path) -> tuple[str, int]:
    """Write ``payload`` to ``path`` atomically; returns ``(sha256, bytes)`` of the file."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
    temp_path = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        sha256 = file_sha256(temp_path)
        size = temp_path.stat().st_size
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    return sha256, size


def list_checkpoints(directory: Path) -> list[tuple[int, int, Path]]:
    """``(step, epoch, path)`` of every checkpoint file in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = []
    for entry in directory.iterdir():
        match = _NAME.match(entry.name)
        if match is not None and entry.is_file():
            found.append((int(match.group(2)), int(match.group(1)), entry))
    return sorted(found)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete temporary files left by a save that was killed half-way; returns what was removed."""
    if not directory.is_dir():
        return []
    removed = []
    for entry in directory.iterdir():
        if entry.name.startswith(_TEMP_PREFIX) and entry.name.endswith(_TEMP_SUFFIX):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


class CheckpointWriter:
    """Writes checkpoints into one run directory and keeps the newest ``keep_last``."""

    def __init__(self, directory: Path, keep_last: int) -> None:
        if keep_last < 1:
            raise ValueError("checkpoint.keep_last: must be >= 1")
        self.directory = directory
        self.keep_last = keep_last
        self.last: SavedCheckpoint | None = None
        remove_stale_temporaries(directory)

    def save(self, payload: dict[str, Any], epoch: int, step: int) -> SavedCheckpoint:
        """Atomically write ``payload`` as the checkpoint for (epoch, step), then apply retention."""
        path = self.directory / checkpoint_name(epoch, step)
        sha256, size = atomic_torch_save({**payload, "format": CHECKPOINT_FORMAT}, path)
        self.last = SavedCheckpoint(path=path.resolve(), sha256=sha256, bytes=size, epoch=epoch, step=step)
        self._prune(keep=path)
        return self.last

    def _prune(self, keep: Path) -> None:
        existing = list_checkpoints(self.directory)
        for _, _, old in existing[: max(0, len(existing) - self.keep_last)]:
            if old != keep:
                old.unlink(missing_ok=True)


def _safe_load_available() -> bool:
    # torch 1.13 has the flag but its restricted unpickler rejects plain floats; 2.x handles them.
    major = int(torch.__version__.split(".", 1)[0])
    return major >= 2 and "weights_only" in inspect.signature(torch.load).parameters


def torch_load(path: Path) -> Any:
    """``torch.load`` onto the CPU; on torch >= 2 without executing pickled code (``weights_only``)."""
    kwargs: dict[str, Any] = {"map_location": "cpu"}
    if _safe_load_available():
        kwargs["weights_only"] = True
    return torch.load(path, **kwargs)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint written by :class:`CheckpointWriter` (see :func:`torch_load`)."""
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"checkpoint not found: {source}")
    payload = torch_load(source)
    if not isinstance(payload, dict) or "model" not in payload or "spec" not in payload:
        raise ValueError(f"{source} is not a swavlab checkpoint (expected a dict with 'spec' and 'model')")
    return payload
