"""Determinism on CPU (issue 7): the same spec and seed give the same metrics, so a regression suite of an
unchanged commit compares identical numbers and cannot raise a false alarm. See "Determinism" in README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import swavlab
from swavlab.checkpoint import list_checkpoints, load_checkpoint
from conftest import SpecFactory

# What the regression contract promises; in practice the values below are bit-identical.
TOLERANCE = 1e-6
# Timings and memory readings differ from run to run by nature; they are not compared.
MEASURED = {"images_per_sec", "epoch_seconds", "peak_memory_bytes"}


def _run(spec: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    result = swavlab.train(spec, on_event=events.append, out_dir=out_dir)
    assert result["status"] == "succeeded", result["error"]
    checkpoints = [load_checkpoint(path) for _, _, path in list_checkpoints(out_dir)]
    return {
        "final": {k: v for k, v in result["final_metrics"].items() if k not in MEASURED},
        "evals": result["evals"],
        "eval_events": [(e["epoch"], e["values"]) for e in events if e["type"] == "eval"],
        "epoch_losses": [c["metrics"]["loss_window"] for c in checkpoints],
        "weights": [c["model"] for c in checkpoints],
    }


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["final"].keys() == b["final"].keys()
    for name, value in a["final"].items():
        assert abs(value - b["final"][name]) <= TOLERANCE, (name, value, b["final"][name])
    assert a["evals"].keys() == b["evals"].keys() and a["evals"]
    for name, value in a["evals"].items():
        assert abs(value - b["evals"][name]) <= TOLERANCE, (name, value, b["evals"][name])
    assert a["eval_events"] == b["eval_events"]
    assert a["epoch_losses"] == b["epoch_losses"]
    assert len(a["weights"]) == len(b["weights"]) > 0
    for weights_a, weights_b in zip(a["weights"], b["weights"]):
        assert weights_a.keys() == weights_b.keys()
        for key, tensor in weights_a.items():
            assert torch.equal(tensor, weights_b[key]), key


@pytest.mark.parametrize("threads", [1, 2])
def test_same_spec_and_seed_give_identical_losses_knn_and_fast_linear_probe(
    tiny_spec: SpecFactory, tmp_path: Path, threads: int
) -> None:
    spec = tiny_spec(
        runtime={"threads": threads},
        eval={"every_epochs": 1, "knn": {"k": [3, 10]}, "linear": {"epochs": 2, "batch_size": 16}},
    )
    first = _run(spec, tmp_path / "a")
    second = _run(spec, tmp_path / "b")
    assert {"knn_top1@3", "knn_top1@10", "linear_fast_top1", "linear_fast_top5"} <= first["evals"].keys()
    _assert_same(first, second)


def test_the_evaluations_that_train_on_images_are_deterministic_too(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    # The paper's linear protocol and fine-tuning draw their order, crops and heads from the run's seed.
    spec = tiny_spec(
        optim={"epochs": 1},
        eval={
            "knn": None,
            "linear": {"protocol": "paper", "epochs": 2, "batch_size": 16},
            "semisup": {"epochs": 2, "batch_size": 4},
        },
    )
    first = _run(spec, tmp_path / "a")
    assert first["evals"].keys() == {"linear_top1", "linear_top5", "semisup_top1", "semisup_top5"}
    _assert_same(first, _run(spec, tmp_path / "b"))


def test_data_loader_workers_do_not_change_the_result(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    # Augmentations are functions of (seed, epoch, index), not of the process that draws them.
    in_process = _run(tiny_spec(runtime={"workers": 0}), tmp_path / "w0")
    with_workers = _run(tiny_spec(runtime={"workers": 2}), tmp_path / "w2")
    _assert_same(in_process, with_workers)


def test_another_seed_gives_other_numbers(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    # Guards the comparisons above against comparing something that never changes.
    a = _run(tiny_spec(seed=7), tmp_path / "s7")
    b = _run(tiny_spec(seed=8), tmp_path / "s8")
    assert a["final"]["loss"] != b["final"]["loss"]
    assert not torch.equal(a["weights"][-1]["prototypes.weight"], b["weights"][-1]["prototypes.weight"])
