"""Two data-parallel CPU processes (gloo) launched the way torchrun does, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from swavlab.checkpoint import load_checkpoint
from conftest import SpecFactory, free_port

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def test_two_gloo_processes_train_one_epoch(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec = tiny_spec(optim={"epochs": 1}, swav={"queue_length": 16, "queue_start_epoch": 0}, runtime={"gpus": 2})
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    port = free_port()
    procs = []
    logs = []
    for rank in range(2):
        env = {
            **os.environ,
            "WORLD_SIZE": "2",
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        cmd = [sys.executable, "-m", "swavlab", "train", "--spec", str(spec_file), "--out", str(tmp_path / "run"), "--json"]
        # Files, not pipes: a rank blocked on a full pipe that nobody reads would stall the other
        # rank's collectives too.
        out, err = tmp_path / f"rank{rank}.out", tmp_path / f"rank{rank}.err"
        logs.append((out, err))
        with out.open("w") as stdout, err.open("w") as stderr:
            procs.append(subprocess.Popen(cmd, cwd=PACKAGE_ROOT, env=env, stdout=stdout, stderr=stderr, text=True))
    try:
        for p in procs:
            p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        # A hung rendezvous or collective: stop both ranks and fail with what each printed, so the cause shows.
        for p in procs:
            p.kill()
            p.wait()
        raise AssertionError(
            "the two ranks did not finish within 120 s:\n"
            + "\n".join(f"rank {rank} stderr:\n{err.read_text()[-4000:]}" for rank, (_, err) in enumerate(logs))
        ) from None
    outputs = [(out.read_text(), err.read_text()) for out, err in logs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err

    main_lines = [json.loads(line) for line in outputs[0][0].splitlines()]
    other_lines = [json.loads(line) for line in outputs[1][0].splitlines()]
    assert other_lines == [other_lines[-1]]  # rank 1 emits no events, only its own result
    main_result, other_result = main_lines[-1], other_lines[-1]
    # 48 training images sharded over 2 ranks at batch 8: 3 steps per epoch on each rank.
    assert main_result["status"] == other_result["status"] == "succeeded"
    assert main_result["steps"] == other_result["steps"] == 3
    assert main_result["final_metrics"]["loss"] == other_result["final_metrics"]["loss"]  # all-reduced
    metrics = [e for e in main_lines if e["type"] == "metrics" and "images_per_sec" in e["values"]]
    assert metrics
    checkpoint = load_checkpoint(main_result["last_checkpoint"]["path"])
    assert checkpoint["step"] == 3
    assert checkpoint["queue"]["embeddings"].shape[1] == 8  # queue_length / world size per process
    assert other_result["last_checkpoint"] is None  # only rank 0 writes
    assert "knn_top1@3" in main_result["evals"]
