"""Does a recipe learn on small data it was not tuned on? k-NN after SwAV vs the same backbone at random init.

Run from the repository root:

    /usr/bin/python3 bench/learning/study.py --data letters [--recipe small-data] [--set swav.epsilon=0.03 ...]

`--data` is `digits` (scikit-learn's) or one of datasets.py's generators (`letters`, `objects`, `scenes`, `textures`,
`cells`, `waves`, `charts`; written into `--root`, default /tmp/swavlab-learning, on first use). Each run goes
through `swavlab.train` (the real loop, loader and evaluation); the baseline is
`swavlab.evaluation.baseline.random_init_knn` on the same splits. Prints the config, k-NN@20 of both, the gain in
points, the final loss against ln K, prototype usage, and the wall and CPU time of the training (CPU: this process
and its data-loader workers).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "trainer"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # noqa: E402
import swavlab  # noqa: E402
from swavlab.cpu_memory import keep_freed_memory  # noqa: E402
from swavlab.data import build_datasets  # noqa: E402
from swavlab.evaluation.baseline import random_init_knn  # noqa: E402

PER_CLASS = 300


def data_section(name: str, root: Path) -> dict[str, Any]:
    if name == "digits":
        return {"source": "digits", "image_size": 32}
    if not (root / name).is_dir():
        datasets.write(root, name, PER_CLASS)
    return {"source": "folder", "path": name}


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (the data loader's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def apply_set(spec: dict[str, Any], assignment: str) -> None:
    path, _, value = assignment.partition("=")
    *parents, leaf = path.split(".")
    node = spec
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = parse_value(value)


def main() -> None:
    keep_freed_memory()  # as the training entry points do (python -m swavlab, the bridge)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["digits", *datasets.GENERATORS], required=True)
    parser.add_argument("--root", type=Path, default=Path("/tmp/swavlab-learning"))
    parser.add_argument("--recipe", help="a recipe name (swavlab recipes); else the spec defaults")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    # One compute thread beside the two data-loader workers: on a 2-core machine more threads only spin and wait.
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    os.environ["SWAVLAB_DATA_ROOTS"] = str(args.root)
    spec: dict[str, Any] = {
        "data": data_section(args.data, args.root),
        "runtime": {"device": "cpu", "workers": 2, "threads": args.threads},
        "checkpoint": {"every_epochs": 0, "keep_last": 1},
        "eval": {"knn": {"k": [20], "temperature": 0.07}, "linear": None},
    }
    if args.recipe:
        spec["recipe"] = args.recipe
    for assignment in args.set:
        apply_set(spec, assignment)
    validated = swavlab.validate_spec(spec)
    print("config:", json.dumps(spec, sort_keys=True), flush=True)
    torch.set_num_threads(args.threads)
    splits = build_datasets(validated["data"], int(validated["seed"]))
    assert splits.eval_train is not None and splits.eval_test is not None
    with tempfile.TemporaryDirectory() as cache:
        baseline = random_init_knn(validated, splits.eval_train, splits.eval_test, torch.device("cpu"),
                                   cache=Path(cache))
    started, cpu_started = time.perf_counter(), cpu_seconds()
    with tempfile.TemporaryDirectory() as out_dir:
        result = swavlab.train(spec, out_dir=out_dir)
    minutes = (time.perf_counter() - started) / 60
    cpu_minutes = (cpu_seconds() - cpu_started) / 60
    trained, random_init = result["evals"]["knn_top1@20"], baseline["random_init_knn_top1@20"]
    final = result["final_metrics"]
    ln_k = math.log(int(validated["swav"]["prototypes"]))
    print(
        f"{args.data}: {result['status']}, {result['steps']} steps, {minutes:.1f} min ({cpu_minutes:.1f} CPU-min); "
        f"loss {final['loss']:.3f} (ln K {ln_k:.3f}), usage {final['prototype_usage']:.0%}; "
        f"knn@20 swav {trained:.1%} random init {random_init:.1%} gain {100 * (trained - random_init):+.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
