"""Multi-process CPU runs (gloo): started by rank 0 from runtime.processes, or by torchrun's variables."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

import swavlab
from swavlab.checkpoint import list_checkpoints, load_checkpoint
from swavlab.events import metric_points
from conftest import SpecFactory, free_port, stop_after

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _losses(events: list[dict[str, Any]]) -> dict[int, float]:
    points = [p for e in events for p in metric_points(e)]
    return {p["step"]: p["values"]["loss"] for p in points if "loss" in p["values"]}


def _max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_two_processes_train_like_one_with_the_global_batch(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    """Same seed, 2 ranks x batch 8 vs 1 process x batch 16: the same images per step, BatchNorm over the
    global batch, averaged gradients, so the same losses and the same weights up to float rounding."""
    runs = {}
    for processes, batch in ((2, 8), (1, 16)):
        events: list[dict[str, Any]] = []
        spec = tiny_spec(optim={"epochs": 1, "batch_size": batch}, runtime={"processes": processes})
        result = swavlab.train(spec, on_event=events.append, out_dir=tmp_path / f"p{processes}")
        assert result["status"] == "succeeded" and result["steps"] == 3
        runs[processes] = (_losses(events), load_checkpoint(result["last_checkpoint"]["path"]), result)
    (two, two_ckpt, two_result), (one, one_ckpt, _) = runs[2], runs[1]
    common = sorted(two.keys() & one.keys())
    assert common, (two, one)
    for step in common:
        assert abs(two[step] - one[step]) < 1e-4 * abs(one[step]), (step, two[step], one[step])
    assert _max_difference(two_ckpt["model"], one_ckpt["model"]) < 1e-3
    # Rank 0 evaluates once and is the only one to report.
    assert sorted(two_result["evals"]) == ["knn_top1@3", "random_init_knn_top1@3"]
    assert two_ckpt["world_size"] == 2 and len(two_ckpt["ranks"]) == 2


def test_each_rank_resumes_its_own_queue_and_rng(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec = tiny_spec(swav={"queue_length": 16, "queue_start_epoch": 0}, runtime={"processes": 2}, eval={"knn": None})
    full = swavlab.train(spec, out_dir=tmp_path / "full")
    assert full["status"] == "succeeded" and full["steps"] == 6

    # Ranks agree on a stop at the next log point (every step here): asked before step 5, stopped after it.
    stopped = swavlab.train(spec, should_stop=stop_after(4), out_dir=tmp_path / "stopped")
    assert stopped["status"] == "canceled" and stopped["steps"] == 5
    saved = load_checkpoint(stopped["last_checkpoint"]["path"])
    queues = [state["queue"]["embeddings"] for state in saved["ranks"]]
    assert queues[0].shape == queues[1].shape == (2, 8, 16)  # queue_length / 2 ranks each
    assert not torch.equal(queues[0], queues[1])  # each rank's own embeddings

    resumed = swavlab.train(spec, out_dir=tmp_path / "resumed", resume_from=stopped["last_checkpoint"]["path"])
    assert resumed["status"] == "succeeded" and resumed["steps"] == 6
    # Step 6 scores each rank's queue: equal weights need every rank to have reloaded its own.
    full_ckpt, resumed_ckpt = (load_checkpoint(r["last_checkpoint"]["path"]) for r in (full, resumed))
    assert _max_difference(full_ckpt["model"], resumed_ckpt["model"]) < 1e-6
    for rank in range(2):
        assert torch.equal(full_ckpt["ranks"][rank]["queue"]["embeddings"], resumed_ckpt["ranks"][rank]["queue"]["embeddings"])


def test_a_checkpoint_of_another_world_size_is_refused(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    single = swavlab.train(tiny_spec(eval={"knn": None}), should_stop=stop_after(6), out_dir=tmp_path / "one")
    two = tiny_spec(runtime={"processes": 2}, eval={"knn": None})
    try:
        swavlab.train(two, out_dir=tmp_path / "two", resume_from=single["last_checkpoint"]["path"])
    except swavlab.SpecError as error:
        assert [e["path"] for e in error.errors] == ["runtime"]
        assert "holds the state of 1 ranks; this run has 2" in error.errors[0]["message"]
    else:
        raise AssertionError("resuming across world sizes must fail")


def _start_cli(spec: dict[str, Any], tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "swavlab", "train", "--spec", str(spec_file), "--out", str(out), "--json"]
    stderr = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(cmd, cwd=PACKAGE_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    return proc, out


def _wait_for_first_metrics(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if metric_points(json.loads(line)):
            return
    raise AssertionError("the run ended before its first metrics")


def test_a_rank_that_dies_fails_the_run_within_seconds_and_leaves_no_process(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec = tiny_spec(optim={"epochs": 200}, runtime={"processes": 3}, eval={"knn": None})
    proc, _ = _start_cli(spec, tmp_path)
    try:
        _wait_for_first_metrics(proc)
        ranks = _children_of(proc.pid)
        assert len(ranks) == 2, ranks
        os.kill(ranks[1], signal.SIGKILL)
        killed_at = time.monotonic()
        code = proc.wait(timeout=30)
        assert time.monotonic() - killed_at < 5
    finally:
        proc.kill()
        proc.wait()
    assert code == 1
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "of the run was killed by SIGKILL" in stderr, stderr[-2000:]
    assert all(not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2] for pid in ranks)


def test_sigint_to_rank_zero_checkpoints_once_and_every_rank_exits(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    # No epoch checkpoints: an epoch can end before the signal arrives, and only the cancel's is counted.
    spec = tiny_spec(
        optim={"epochs": 200}, runtime={"processes": 2}, eval={"knn": None}, checkpoint={"every_epochs": 0}
    )
    proc, out = _start_cli(spec, tmp_path)
    try:
        _wait_for_first_metrics(proc)
        ranks = _children_of(proc.pid)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.stdout is not None
        lines = [json.loads(line) for line in proc.stdout]
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert code == 130
    assert lines[-1]["status"] == "canceled"
    assert [e["type"] for e in lines].count("checkpoint") == 1
    assert len(list_checkpoints(out)) == 1
    assert json.loads((out / "ranks" / "rank-1.log").read_text().splitlines()[-1])["status"] == "canceled"
    assert not _children_of(proc.pid) and all(not Path(f"/proc/{pid}/cmdline").exists() for pid in ranks)


def test_two_gloo_processes_launched_the_torchrun_way(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec = tiny_spec(optim={"epochs": 1}, swav={"queue_length": 16, "queue_start_epoch": 0}, runtime={"processes": 2})
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
    checkpoint = load_checkpoint(main_result["last_checkpoint"]["path"])
    assert checkpoint["step"] == 3
    assert [state["queue"]["embeddings"].shape[1] for state in checkpoint["ranks"]] == [8, 8]  # length / ranks
    assert other_result["last_checkpoint"] is None  # only rank 0 writes
    assert "knn_top1@3" in main_result["evals"]


def test_a_launcher_that_disagrees_with_the_spec_is_refused(tiny_spec: SpecFactory, monkeypatch: Any) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    try:
        swavlab.train(tiny_spec())
    except swavlab.SpecError as error:
        assert error.errors == [
            {"path": "runtime.processes", "message": "the spec asks for 1 ranks but the launcher started 2"}
        ]
    else:
        raise AssertionError("a WORLD_SIZE that differs from the spec must be refused")


def test_rank_zero_stuck_in_a_collective_is_ended_with_the_failed_rank_named(tmp_path: Path) -> None:
    """The hang NCCL can cause when a peer dies: rank 0 never returns, so its monitor ends the process."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from swavlab.launcher import RankProcesses\n"
        "RankProcesses(2, 1, {'optim': {'epochs': -1}}, Path(sys.argv[1]), None)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and time.monotonic() - started < 15
    assert "swavlab: rank 1 of the run exited with code 1" in done.stderr
    assert "SpecError: optim.epochs: must be an integer between 0 and 10000; got -1" in done.stderr
