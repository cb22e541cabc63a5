"""Atomic checkpoint writes, hashes, retention and loading; the training state a checkpoint holds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from swavlab.checkpoint import (
    CHECKPOINT_FORMAT,
    CheckpointWriter,
    TrainingState,
    atomic_torch_save,
    checkpoint_name,
    list_checkpoints,
    load_checkpoint,
)
from swavlab.runtime import capture_rng_state, restore_rng_state
from swavlab.spec import SpecError


def payload(value: float) -> dict:
    return {"spec": {"seed": 1}, "model": {"w": torch.full((3,), value)}, "rng": capture_rng_state()}


def test_name_format() -> None:
    assert checkpoint_name(3, 1234) == "ckpt-e0003-s00001234.pt"


def test_atomic_save_hash_and_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "run" / "a.pt"
    sha, size = atomic_torch_save(payload(1.0), target)
    assert target.stat().st_size == size
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
    assert [p.name for p in target.parent.iterdir()] == ["a.pt"]


def test_failed_save_leaves_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.pt"
    atomic_torch_save(payload(1.0), target)
    before = target.read_bytes()

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        atomic_torch_save({"spec": {}, "model": {}, "bad": Unpicklable()}, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]


def test_keep_last_retention(tmp_path: Path) -> None:
    writer = CheckpointWriter(tmp_path, keep_last=2)
    saved = [writer.save(payload(float(i)), epoch=i, step=10 * i) for i in range(1, 5)]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [checkpoint_name(3, 30), checkpoint_name(4, 40)]
    assert writer.last == saved[-1]
    assert [step for step, _, _ in list_checkpoints(tmp_path)] == [30, 40]


def test_stale_temporaries_are_removed_on_start(tmp_path: Path) -> None:
    (tmp_path / ".ckpt-abc.tmp").write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("keep")
    CheckpointWriter(tmp_path, keep_last=1)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_load_round_trip_with_rng_state(tmp_path: Path) -> None:
    torch.manual_seed(5)
    writer = CheckpointWriter(tmp_path, keep_last=1)
    saved = writer.save(payload(2.5), epoch=1, step=7)
    expected = torch.rand(4)
    torch.manual_seed(99)
    loaded = load_checkpoint(saved.path)
    assert loaded["format"] == CHECKPOINT_FORMAT
    assert torch.equal(loaded["model"]["w"], torch.full((3,), 2.5))
    restore_rng_state(loaded["rng"])
    assert torch.equal(torch.rand(4), expected)


def test_load_rejects_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(ValueError, match="not a swavlab checkpoint"):
        load_checkpoint(other)


def test_keep_last_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keep_last"):
        CheckpointWriter(tmp_path, keep_last=0)


def state(ranks: int) -> TrainingState:
    return TrainingState(
        spec={"seed": 1},
        model={"w": torch.arange(3.0)},
        optimizer={"state": {}, "param_groups": []},
        scaler=None,
        epoch=2,
        step=17,
        schedule={"iteration": 17, "lr": 0.1},
        world_size=ranks,
        ranks=[{"queue": None, "rng": capture_rng_state()} for _ in range(ranks)],
        metrics={"loss_window": {"sum": 1.5, "count": 2}},
        torch_version=torch.__version__,
    )


def test_training_state_survives_a_checkpoint_file(tmp_path: Path) -> None:
    written = state(2)
    saved = CheckpointWriter(tmp_path, keep_last=1).save(written.to_payload(), written.epoch, written.step)
    loaded = load_checkpoint(saved.path)
    assert loaded["format"] == CHECKPOINT_FORMAT
    read = TrainingState.from_payload(loaded)
    assert (read.epoch, read.step, read.world_size, read.schedule) == (2, 17, 2, {"iteration": 17, "lr": 0.1})
    assert torch.equal(read.model["w"], written.model["w"])
    assert read.rank_state(1, 2, "c.pt")["queue"] is None


def test_format_1_checkpoints_are_migrated_to_one_rank_state() -> None:
    """Format 1 kept rank 0's queue and RNG streams at the top level and had no world size."""
    current = state(1).to_payload()
    old = {key: value for key, value in current.items() if key not in ("ranks", "world_size")}
    old.update(format=1, queue={"embeddings": torch.zeros(2, 3)}, rng=current["ranks"][0]["rng"])
    migrated = TrainingState.from_payload(old)
    assert migrated.world_size == 1
    assert torch.equal(migrated.rank_state(0, 1, "old.pt")["queue"]["embeddings"], torch.zeros(2, 3))


def test_a_checkpoint_of_another_number_of_ranks_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as raised:
        state(2).rank_state(0, 4, "c.pt")
    assert raised.value.errors == [
        {"path": "runtime", "message": "the checkpoint c.pt holds the state of 2 ranks; this run has 4"}
    ]
