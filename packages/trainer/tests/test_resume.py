"""Resuming continues the same run: the losses after a resume equal the uninterrupted run's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import swavlab
from swavlab.checkpoint import load_checkpoint
from swavlab.spec import SpecError
from swavlab.step import StepOutput, SwAVStep
from conftest import SpecFactory, stop_after


@pytest.fixture
def step_losses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Records the loss of every training step (the real step runs; the test only reads its output)."""
    losses: list[float] = []
    real_call = SwAVStep.__call__

    def recording_call(self: SwAVStep, *args: Any, **kwargs: Any) -> StepOutput:
        output = real_call(self, *args, **kwargs)
        losses.append(float(output.loss))
        return output

    monkeypatch.setattr(SwAVStep, "__call__", recording_call)
    yield losses


def final_weights(result: dict[str, Any]) -> dict[str, torch.Tensor]:
    return load_checkpoint(result["last_checkpoint"]["path"])["model"]


@pytest.mark.parametrize("workers", [0, 2])
def test_mid_epoch_stop_then_resume_matches_uninterrupted(tiny_spec: SpecFactory, step_losses, tmp_path: Path, workers: int) -> None:
    spec = tiny_spec(
        runtime={"workers": workers},
        swav={"queue_length": 16, "queue_start_epoch": 1},
        eval={"knn": None},
    )
    full = swavlab.train(spec, out_dir=tmp_path / "full")
    reference = list(step_losses)
    assert len(reference) == 12
    step_losses.clear()

    stopped = swavlab.train(spec, should_stop=stop_after(8), out_dir=tmp_path / "split")
    assert stopped["status"] == "canceled" and stopped["steps"] == 8
    assert stopped["last_checkpoint"]["epoch"] == 1 and stopped["last_checkpoint"]["step"] == 8
    assert step_losses == pytest.approx(reference[:8], abs=1e-6)
    step_losses.clear()

    resumed = swavlab.train(spec, out_dir=tmp_path / "split", resume_from=stopped["last_checkpoint"]["path"])
    assert resumed["status"] == "succeeded" and resumed["steps"] == 12
    assert step_losses == pytest.approx(reference[8:], abs=1e-6)
    assert resumed["final_metrics"]["loss"] == pytest.approx(full["final_metrics"]["loss"], abs=1e-6)
    a, b = final_weights(full), final_weights(resumed)
    for name in a:
        assert torch.allclose(a[name].float(), b[name].float(), atol=1e-6), name


def test_resume_from_an_epoch_checkpoint(tiny_spec: SpecFactory, step_losses, tmp_path: Path) -> None:
    spec = tiny_spec(eval={"knn": None})
    swavlab.train(spec, out_dir=tmp_path / "full")
    reference = list(step_losses)
    step_losses.clear()
    first_epoch = tmp_path / "full" / "ckpt-e0001-s00000006.pt"
    resumed = swavlab.train(spec, out_dir=tmp_path / "again", resume_from=first_epoch)
    assert resumed["epochs_completed"] == 2
    assert step_losses == pytest.approx(reference[6:], abs=1e-6)


def test_resume_refuses_a_different_run(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec = tiny_spec(optim={"epochs": 1}, eval={"knn": None})
    result = swavlab.train(spec, out_dir=tmp_path)
    other = tiny_spec(optim={"epochs": 1}, swav={"prototypes": 20}, eval={"knn": None})
    with pytest.raises(SpecError) as info:
        swavlab.train(other, out_dir=tmp_path / "b", resume_from=result["last_checkpoint"]["path"])
    assert info.value.errors[0]["path"] == "swav"


def test_loss_window_survives_a_stop_between_log_points(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    # 20 steps per epoch, a log point every 2 steps: stopping after step 19 leaves a half-filled window.
    spec = tiny_spec(data={"num_images": 200}, optim={"epochs": 1}, eval={"knn": None})
    full = swavlab.train(spec, out_dir=tmp_path / "full")
    stopped = swavlab.train(spec, should_stop=stop_after(19), out_dir=tmp_path / "split")
    assert stopped["steps"] == 19
    resumed = swavlab.train(spec, out_dir=tmp_path / "split", resume_from=stopped["last_checkpoint"]["path"])
    assert resumed["final_metrics"]["loss"] == pytest.approx(full["final_metrics"]["loss"], abs=1e-6)
