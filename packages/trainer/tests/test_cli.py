"""`python -m swavlab`: exit codes, output and export."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
from conftest import SpecFactory

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def swavlab_cli(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "swavlab", *args],
        cwd=PACKAGE_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def write_spec(path: Path, spec: dict[str, Any]) -> str:
    path.write_text(json.dumps(spec))
    return str(path)


def test_train_json_then_export(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path / "spec.json", tiny_spec(optim={"epochs": 1}))
    proc = swavlab_cli("train", "--spec", spec_file, "--out", str(tmp_path / "run"), "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["type"] == "dataset" and lines[1] == {"type": "status", "status": "running"}
    result = lines[-1]
    assert result["type"] == "result" and result["status"] == "succeeded"

    exported = tmp_path / "backbone.pt"
    proc = swavlab_cli("export", "--checkpoint", result["last_checkpoint"]["path"], "--out", str(exported))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "backbone" in out
    assert all(isinstance(t, torch.Tensor) for t in torch.load(exported).values())


def test_invalid_spec_exits_2_naming_the_field(tmp_path: Path) -> None:
    spec_file = write_spec(tmp_path / "spec.json", {"optim": {"batch_size": 0}})
    proc = swavlab_cli("train", "--spec", spec_file, "--out", str(tmp_path / "run"))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "optim.batch_size" in err


def test_missing_checkpoint_for_export_exits_1(tmp_path: Path) -> None:
    proc = swavlab_cli("export", "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "b.pt"))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "nope.pt" in err


def test_sigint_checkpoints_and_exits_130(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec = tiny_spec(data={"num_images": 2000}, optim={"epochs": 1})  # 200 steps: long enough to interrupt
    spec_file = write_spec(tmp_path / "spec.json", spec)
    proc = swavlab_cli("train", "--spec", spec_file, "--out", str(tmp_path / "run"), "--json")
    assert proc.stdout is not None
    for line in proc.stdout:
        if json.loads(line)["type"] == "progress":
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = [json.loads(line) for line in out.splitlines()]
    result = lines[-1]
    assert result["status"] == "canceled"
    assert 0 < result["steps"] < 200
    assert Path(result["last_checkpoint"]["path"]).is_file()
    assert any(e["type"] == "checkpoint" for e in lines[:-1])


def test_human_lines_cover_every_event() -> None:
    from swavlab.__main__ import human_line
    from swavlab.events import (
        checkpoint_event,
        collapse_warning_event,
        diverged_event,
        eval_event,
        metrics_event,
        progress_event,
        status_event,
    )

    lines = [
        human_line(status_event("running")),
        human_line(progress_event(1, 5, 10, 65.0)),
        human_line(metrics_event(1, 5, {"loss": 2.5, "lr": float("nan")})),
        human_line(eval_event(1, 10, {"knn_top1@20": 0.5})),
        human_line(checkpoint_event("/x/ckpt.pt", "ab" * 32, 123, 1, 10)),
        human_line(collapse_warning_event(1, 5, "looks collapsed", ["freeze longer"])),
        human_line(diverged_event(1, 5, "loss is nan")),
    ]
    assert lines[0] == "status: running"
    assert "step 5/10" in lines[1] and "00:01:05" in lines[1]
    assert "loss=2.5" in lines[2] and "lr=nan" in lines[2]
    assert "knn_top1@20=0.5" in lines[3]
    assert "/x/ckpt.pt" in lines[4] and "123 bytes" in lines[4]
    assert lines[5].startswith("WARNING: looks collapsed") and "freeze longer" in lines[5]
    assert lines[6].startswith("DIVERGED")
