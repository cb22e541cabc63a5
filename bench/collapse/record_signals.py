"""Records the collapse signals of a labelled set of runs, as fixtures for the collapse detector's test.

Run from the repository root: `/usr/bin/python3 bench/collapse/record_signals.py [--only NAME]`.

Each run trains through `swavlab.train` with the demo's backbone, on the demo's synthetic data unless it says
otherwise. Its label comes from what it learned, not from the signals the detector reads: `healthy` when its
k-NN beats the same backbone at random init by at least 5 points, `collapsed` when it is not above it; runs in
between are reported and not written. The runs are the demo's cells, the quality benchmark's recipe and
provocations: a learning rate far too high, epsilon far too large, hard codes from one Sinkhorn iteration, a
two-dimensional embedding with frozen prototypes, the paper's epsilon and crops on bench/learning's `objects`.
A provocation that still learned is a healthy fixture the detector must leave alone. Every log point's loss,
prototype usage, code entropy and embedding spread goes into
`packages/trainer/tests/fixtures/collapse/<name>.json` with the run's K, batch, freeze steps, class count and
both k-NN values.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packages" / "trainer"))

import swavlab  # noqa: E402
from swavlab.cpu_memory import keep_freed_memory  # noqa: E402
from swavlab.spec import overlay  # noqa: E402

OUT = ROOT / "packages" / "trainer" / "tests" / "fixtures" / "collapse"
SIGNALS = ("loss", "prototype_usage", "code_entropy", "embedding_spread")

# The demo's cell (apps/cli/src/demo-grid.ts), 12 epochs of 1024 synthetic 32 px images.
BASE: dict[str, Any] = {
    "seed": 1,
    "data": {"source": "synthetic", "num_images": 1024, "num_classes": 10, "image_size": 32, "test_fraction": 0.25},
    "model": {"arch": "tiny", "small_stem": True, "hidden_mlp": 128, "feat_dim": 32},
    "swav": {"prototypes": 100, "crops": "2x32+2x16", "freeze_prototypes_iters": 20, "epsilon": 0.015},
    "optim": {"optimizer": "sgd", "base_lr": 0.1, "final_lr": 0.001, "warmup_epochs": 0, "start_warmup": 0,
              "weight_decay": 1e-5, "batch_size": 64, "epochs": 12},
    "runtime": {"device": "cpu", "workers": 1, "threads": 2},
    "checkpoint": {"every_epochs": 0, "keep_last": 1},
    "eval": {"knn": {"k": [20], "temperature": 0.07}, "linear": None},
}

LEARNING_ROOT = Path("/tmp/swavlab-learning")
OBJECTS = {"source": "folder", "path": "objects", "test_fraction": 0.2}

RUNS: dict[str, dict[str, Any]] = {
    "healthy-demo-k30-it1": {"swav": {"prototypes": 30, "sinkhorn_iterations": 1}},
    "healthy-demo-k100-it3": {"swav": {"prototypes": 100, "sinkhorn_iterations": 3}},
    "healthy-demo-k300-it3": {"swav": {"prototypes": 300, "sinkhorn_iterations": 3}, "seed": 2},
    "healthy-demo-k300-it1": {"swav": {"prototypes": 300, "sinkhorn_iterations": 1}},
    "healthy-quality": {"model": {"hidden_mlp": 512, "feat_dim": 64}, "swav": {"crops": "2x32+4x16", "freeze_prototypes_iters": 50}},
    "healthy-paper-epsilon": {"swav": {"epsilon": 0.05}, "seed": 3},
    "provoked-lr-too-high": {"optim": {"base_lr": 8.0, "final_lr": 8.0}},
    "provoked-epsilon-too-large": {"swav": {"epsilon": 5.0}},
    "provoked-hard-one-iteration": {"swav": {"assignment": "hard", "sinkhorn_iterations": 1, "epsilon": 0.05}},
    "provoked-tied-embedding": {"model": {"feat_dim": 2, "hidden_mlp": 0},
                                 "swav": {"freeze_prototypes_iters": 1000000, "prototypes": 300}},
    # On the demo's synthetic data each provocation above still beat random init by 11-22 points (its backbone
    # learns even when the codes misbehave), so they are labelled healthy; on bench/learning's `objects` the
    # paper's epsilon and crops leave the codes uniform and the loss at ln K (packages/trainer/docs/learning.md).
    # bench/learning/study.py's configuration there (K 30, epsilon 0.05: the loss sat at exactly ln 30).
    "objects-paper-epsilon": {
        "data": OBJECTS,
        "model": {"hidden_mlp": 512, "feat_dim": 64},
        "swav": {"prototypes": 30, "epsilon": 0.05, "crops": "2x32+4x16", "freeze_prototypes_iters": 50},
        "optim": {"epochs": 20},
    },
}


def record(name: str, changes: dict[str, Any]) -> None:
    spec = overlay(BASE, changes)
    points: list[dict[str, float]] = []

    def on_event(event: dict[str, Any]) -> None:
        batches = event["points"] if event["type"] == "metrics_batch" else [event] if event["type"] == "metrics" else []
        for point in batches:
            if "loss" in point["values"]:
                points.append({"step": point["step"], **{k: point["values"][k] for k in SIGNALS}})

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out_dir, tempfile.TemporaryDirectory() as cache:
        os.environ["SWAVLAB_CACHE_DIR"] = cache
        result = swavlab.train(spec, on_event=on_event, out_dir=out_dir)
    knn, random_init = result["evals"].get("knn_top1@20"), result["evals"].get("random_init_knn_top1@20")
    gain = None if knn is None or random_init is None else 100 * (knn - random_init)
    label = "healthy" if gain is not None and gain >= 5 else "collapsed" if gain is None or gain <= 0 else None
    minutes = (time.perf_counter() - started) / 60
    print(f"{name}: {result['status']}, knn {knn} vs random init {random_init} (gain {gain}), label {label}, "
          f"{len(points)} points, {minutes:.1f} min", flush=True)
    if label is None:
        print("  not written: between the two labels", flush=True)
        return
    validated = swavlab.validate_spec(spec)
    fixture = {
        "name": name,
        "label": label,
        "status": result["status"],
        "prototypes": validated["swav"]["prototypes"],
        "batch_size": validated["optim"]["batch_size"],
        "freeze_prototypes_iters": validated["swav"]["freeze_prototypes_iters"],
        "classes": validated["data"]["num_classes"],
        "knn_top1@20": knn,
        "random_init_knn_top1@20": random_init,
        "changes": changes,
        "points": points,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")


def main() -> None:
    keep_freed_memory()  # as the training entry points do (python -m swavlab, the bridge)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(RUNS), action="append")
    args = parser.parse_args()
    torch.set_num_threads(2)
    sys.path.insert(0, str(ROOT / "bench" / "learning"))
    import datasets

    if not (LEARNING_ROOT / "objects").is_dir():
        datasets.write(LEARNING_ROOT, "objects", 300)
    os.environ["SWAVLAB_DATA_ROOTS"] = str(LEARNING_ROOT)
    for name, changes in RUNS.items():
        if args.only is None or name in args.only:
            record(name, changes)


if __name__ == "__main__":
    main()
