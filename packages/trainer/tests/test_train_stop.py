"""Cooperative stops (callback and signal) and divergence handling."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import torch

import swavlab
from swavlab import step as step_module
from swavlab.checkpoint import list_checkpoints, load_checkpoint
from swavlab.events import metric_points
from swavlab.stop import STOP, install_stop_signal
from conftest import SpecFactory


def test_should_stop_checkpoints_and_cancels(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    events: list[dict] = []
    polls = 0

    def should_stop() -> bool:
        nonlocal polls
        polls += 1
        return polls > 3

    result = swavlab.train(tiny_spec(), on_event=events.append, should_stop=should_stop, out_dir=tmp_path)
    assert result["status"] == "canceled" and result["error"] is None
    assert result["steps"] == 3 and result["epochs_completed"] == 0
    assert result["last_checkpoint"]["step"] == 3
    assert [e["type"] for e in events][-2:] == ["checkpoint", "status"]
    assert events[-1]["status"] == "canceled"
    payload = load_checkpoint(result["last_checkpoint"]["path"])
    assert payload["step"] == 3 and payload["epoch"] == 0


def test_sigusr1_stops_the_run(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    previous = signal.getsignal(signal.SIGUSR1)
    assert install_stop_signal(signal.SIGUSR1)
    try:
        sent = False

        def on_event(event: dict) -> None:
            nonlocal sent
            if metric_points(event) and not sent:
                sent = True
                os.kill(os.getpid(), signal.SIGUSR1)

        result = swavlab.train(tiny_spec(), on_event=on_event, out_dir=tmp_path)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert result["status"] == "canceled"
    assert result["steps"] < 12
    assert result["last_checkpoint"] is not None
    assert not STOP.is_set()  # cleared for the next run in this process


def test_non_finite_loss_diverges_and_keeps_the_last_good_checkpoint(
    tiny_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inject a NaN into the loss from step 8 on (in epoch 2, after the epoch-1 checkpoint).
    real_loss = step_module.swav_loss
    calls = 0

    def poisoned_loss(*args: Any, **kwargs: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
        nonlocal calls
        calls += 1
        loss, codes = real_loss(*args, **kwargs)
        return (loss * math.nan if calls >= 8 else loss), codes

    monkeypatch.setattr(step_module, "swav_loss", poisoned_loss)
    events: list[dict] = []
    result = swavlab.train(tiny_spec(optim={"epochs": 3}), on_event=events.append, out_dir=tmp_path)

    assert result["status"] == "diverged"
    assert result["error"]["kind"] == "diverged"
    assert "non-finite" in result["error"]["message"]
    diverged = [e for e in events if e["type"] == "diverged"]
    assert len(diverged) == 1 and diverged[0]["step"] == 8
    assert events[-1] == {"type": "status", "status": "diverged"}
    assert [step for step, _, _ in list_checkpoints(tmp_path)] == [6]
    assert result["last_checkpoint"]["step"] == 6
    payload = load_checkpoint(result["last_checkpoint"]["path"])
    assert all(torch.isfinite(t).all() for t in payload["model"].values() if t.is_floating_point())


def test_stop_with_nan_weights_writes_no_checkpoint(tiny_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Log points only every few steps in long epochs: a stop between them must still not save NaN weights.
    real_loss = step_module.swav_loss

    def poisoned_loss(*args: Any, **kwargs: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
        loss, codes = real_loss(*args, **kwargs)
        return loss * math.nan, codes

    monkeypatch.setattr(step_module, "swav_loss", poisoned_loss)
    spec = tiny_spec(data={"num_images": 400}, optim={"epochs": 1})  # 40 steps per epoch: log every 5 steps
    polls = 0

    def should_stop() -> bool:
        nonlocal polls
        polls += 1
        return polls > 2

    result = swavlab.train(spec, should_stop=should_stop, out_dir=tmp_path)
    assert result["status"] == "diverged"
    assert result["last_checkpoint"] is None
    assert list_checkpoints(tmp_path) == []
