"""The GPU path of multi-rank runs: NCCL, `runtime.gpus: 2`, torch's SyncBatchNorm.

Run from the repository root on a host with at least two GPUs:
`python3 bench/trainer/ddp_gpu.py [--epochs N] [--out DIR]`. Without two visible GPUs it says so and
exits 0 (CI and the CPU machines have none; the same code path runs there with gloo CPU ranks, which
packages/trainer/tests/test_ddp.py covers).

Three runs of `swavlab.train` on the synthetic dataset (resnet18 with the small stem, 2x32+4x16 crops,
K = 3000, LARS, fp32):

1. 2 GPUs x batch 64, started by rank 0 (this process) as the service starts it;
2. 1 GPU x batch 128: the same global batch and seed;
3. 1 GPU x batch 64: the same per-GPU work.

Checks that (1) succeeds with NCCL, that its losses equal (2)'s at the steps both logged (relative
1e-3: BatchNorm over the global batch, averaged gradients; the sums are reduced in another order),
and that its checkpoint holds one queue per rank. Prints images/s of (1) and (3) side by side and
`scaling` = 2-GPU images/s / 1-GPU images/s (2.0 would be perfect).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "trainer"))

import swavlab  # noqa: E402
from swavlab.checkpoint import load_checkpoint  # noqa: E402
from swavlab.events import metric_points  # noqa: E402


def spec(gpus: int, batch: int, epochs: int) -> dict[str, Any]:
    return {
        "seed": 11,
        "data": {"source": "synthetic", "num_images": 8192, "num_classes": 10, "image_size": 32},
        "model": {"arch": "resnet18", "small_stem": True},
        "swav": {"prototypes": 3000, "crops": "2x32+4x16", "queue_length": 0, "epsilon": 0.05},
        "optim": {"batch_size": batch, "epochs": epochs, "base_lr": 0.6, "final_lr": 0.0006, "warmup_epochs": 0},
        "runtime": {"device": "cuda", "gpus": gpus, "precision": "fp32", "workers": 4},
        "checkpoint": {"every_epochs": 1, "keep_last": 1},
        "eval": {"knn": None, "linear": None},
    }


def run(name: str, run_spec: dict[str, Any], out: Path) -> tuple[dict[str, Any], dict[int, float], float]:
    events: list[dict[str, Any]] = []
    result = swavlab.train(run_spec, on_event=events.append, out_dir=out / name)
    if result["status"] != "succeeded":
        raise SystemExit(f"{name}: {result['status']}: {result['error']}")
    points = [p for e in events for p in metric_points(e)]
    losses = {p["step"]: p["values"]["loss"] for p in points if "loss" in p["values"]}
    speeds = [p["values"]["images_per_sec"] for p in points if "images_per_sec" in p["values"]]
    # The first windows include cuDNN autotuning and loader start-up.
    steady = speeds[len(speeds) // 2 :] or speeds
    return result, losses, sum(steady) / len(steady)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if visible < 2:
        print(f"skipped: {visible} GPU(s) visible; the NCCL path needs 2 (torch {torch.__version__})")
        return 0
    print(f"{visible} GPUs: {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
    out = args.out or Path(tempfile.mkdtemp(prefix="swavlab-ddp-gpu-"))
    two, two_losses, two_speed = run("2gpu-b64", spec(2, 64, args.epochs), out)
    _, one_losses, _ = run("1gpu-b128", spec(1, 128, args.epochs), out)
    _, _, one_speed = run("1gpu-b64", spec(1, 64, args.epochs), out)

    common = sorted(two_losses.keys() & one_losses.keys())
    worst = max(abs(two_losses[s] - one_losses[s]) / abs(one_losses[s]) for s in common)
    print(f"losses at {len(common)} common steps: largest relative difference {worst:.2e}")
    saved = load_checkpoint(two["last_checkpoint"]["path"])
    print(f"checkpoint: world_size {saved['world_size']}, {len(saved['ranks'])} rank states")
    print(f"images/s: 2 GPUs {two_speed:.0f}, 1 GPU {one_speed:.0f}, scaling {two_speed / one_speed:.2f}")
    ok = common and worst < 1e-3 and saved["world_size"] == 2 and len(saved["ranks"]) == 2
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
