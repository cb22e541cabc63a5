"""Evaluating a stored checkpoint later: bridge.evaluate (the service's entry) and `python -m swavlab evaluate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import swavlab
from swavlab import bridge
from swavlab.__main__ import main
from swavlab.checkpoint import file_sha256
from swavlab.spec import overlay
from conftest import TINY_SPEC

EVAL = {"knn": {"k": [3]}, "linear": {"protocol": "fast", "epochs": 2, "batch_size": 16}}
LATER_EVAL = {
    "knn": None,
    "linear": {"protocol": "paper", "epochs": 2, "batch_size": 16, "lr": 0.1},
    "semisup": {"fraction": 0.1, "epochs": 1, "batch_size": 4},
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(spec, result) of a 1-epoch tiny run that evaluated k-NN and the fast probe at its end."""
    spec = overlay(TINY_SPEC, {"optim": {"epochs": 1}, "eval": EVAL})
    result = swavlab.train(spec, out_dir=tmp_path_factory.mktemp("run"))
    assert result["status"] == "succeeded"
    return spec, result


def _evaluate(spec: dict[str, Any], options: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    received: list[str] = []
    result = json.loads(bridge.evaluate(json.dumps(spec), received.append, json.dumps(options)))
    return result, [json.loads(text) for text in received]


def test_evaluating_the_last_checkpoint_with_the_runs_eval_reproduces_its_results(
    finished_run: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    spec, run = finished_run
    result, events = _evaluate(spec, {"checkpoint": run["last_checkpoint"]["path"]})
    assert result == {"status": "succeeded", "epoch": 1, "step": 6, "evals": run["evals"]}
    assert events == [{"type": "eval", "epoch": 1, "step": 6, "values": run["evals"]}]


def test_another_eval_section_runs_the_paper_protocols_and_leaves_the_checkpoint_alone(
    finished_run: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    spec, run = finished_run
    checkpoint = run["last_checkpoint"]
    result, events = _evaluate({**spec, "eval": LATER_EVAL}, {"checkpoint": checkpoint["path"]})
    assert result["status"] == "succeeded" and (result["epoch"], result["step"]) == (1, 6)
    assert set(result["evals"]) == {"linear_top1", "linear_top5", "semisup_top1", "semisup_top5"}
    assert all(0.0 <= value <= 1.0 for value in result["evals"].values())
    progress = [e for e in events if e["type"] == "eval_progress"]
    assert [(e["evaluation"], e["epoch"], e["epochs"]) for e in progress] == [
        ("linear_paper", 1, 2),
        ("linear_paper", 2, 2),
        ("semisup", 1, 1),
    ]
    assert all(set(e["values"]) == {"loss", "lr", "top1", "top5"} for e in progress)
    assert events[-1] == {"type": "eval", "epoch": 1, "step": 6, "values": result["evals"]}
    assert file_sha256(Path(checkpoint["path"])) == checkpoint["sha256"]


@pytest.mark.parametrize(
    ("changes", "options", "paths"),
    [
        ({}, {}, {"options.checkpoint"}),
        ({}, {"checkpoint": "/nonexistent/ckpt.pt", "out_dir": "x"}, {"options.out_dir"}),
        ({}, {"checkpoint": "/nonexistent/ckpt.pt"}, {"options.checkpoint"}),
        ({"swav": {"prototypes": 20}}, None, {"options.checkpoint"}),
        ({"eval": {"knn": None, "linear": None}}, None, {"eval"}),
        ({"eval": {"linear": {"protocol": "best"}}}, None, {"eval.linear.protocol"}),
    ],
)
def test_bad_requests_come_back_as_spec_failures(
    finished_run: tuple[dict[str, Any], dict[str, Any]], changes: dict[str, Any], options: Any, paths: set[str]
) -> None:
    spec, run = finished_run
    result, events = _evaluate(
        overlay(spec, changes), {"checkpoint": run["last_checkpoint"]["path"]} if options is None else options
    )
    assert result["status"] == "failed" and result["error"]["kind"] == "spec", result["error"]
    assert {e["path"] for e in result["error"]["errors"]} == paths
    assert events == []


def test_a_different_model_is_named_key_by_key(finished_run: tuple[dict[str, Any], dict[str, Any]]) -> None:
    spec, run = finished_run
    result, _ = _evaluate(overlay(spec, {"swav": {"prototypes": 20}}), {"checkpoint": run["last_checkpoint"]["path"]})
    assert "shape mismatches: prototypes.weight (file [12, 16], model [20, 16])" in result["error"]["message"]


def test_the_cli_evaluates_a_checkpoint(
    finished_run: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, run = finished_run
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    checkpoint = run["last_checkpoint"]["path"]
    assert main(["evaluate", "--spec", str(tmp_path / "spec.json"), "--checkpoint", checkpoint, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1] == {"type": "result", "status": "succeeded", "epoch": 1, "step": 6, "evals": run["evals"]}
    assert main(["evaluate", "--spec", str(tmp_path / "spec.json"), "--checkpoint", str(tmp_path / "no.pt")]) == 2
    assert "--checkpoint: checkpoint not found" in capsys.readouterr().err
