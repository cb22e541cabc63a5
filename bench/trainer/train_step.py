"""Training-step throughput: swavlab's SwAV step against a plain loop written from the paper's Appendix A.1.

Run from the repository root: `/usr/bin/python3 bench/trainer/train_step.py [--rounds N] [--steps N]`.

Both loops train the same network (resnet18 with the small stem, hidden MLP 2048, 128-d
embeddings, 3000 prototypes, LARS) on the same synthetic `2x32+4x16` batches of 64 images on the
CPU with 2 threads, interleaved round by round in a random order in one process so that load from
other processes hits both alike.

* ours: `swavlab.step.SwAVStep`, the step `swavlab.train` runs, on the model as `swavlab.train`
  builds it (channels-last), fed what the training DataLoader produces (`collate_by_resolution`:
  one tensor per resolution, stacked in the loader workers), so the backbone runs once per
  resolution and Sinkhorn is `swavlab.sinkhorn`.
* plain: Algorithm 1 of the paper extended to multi-crop the obvious way: every crop goes through
  the model on its own, codes come from the pseudo-code Sinkhorn (bench/trainer/sinkhorn.py), the
  swapped prediction loss of Eq. 6 is summed crop pair by crop pair.

The process runs with the memory setting the training entry points apply (`keep_freed_memory`: freed
blocks stay in glibc's heap), which both loops share.

Prints images/s of each and `ratio` = ours / plain (medians over the rounds).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "packages" / "trainer"))

from swavlab.cpu_memory import keep_freed_memory  # noqa: E402
from swavlab.loader import collate_by_resolution  # noqa: E402
from swavlab.models import SwAVModel, build_model  # noqa: E402
from swavlab.optim import build_optimizer  # noqa: E402
from swavlab.spec import validate_spec  # noqa: E402
from swavlab.step import SwAVStep  # noqa: E402


def _appendix_a1_sinkhorn() -> Callable[[torch.Tensor, float, int], torch.Tensor]:
    spec = importlib.util.spec_from_file_location("sinkhorn_bench", HERE / "sinkhorn.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.appendix_a1


SPEC = validate_spec(
    {
        "model": {"arch": "resnet18", "small_stem": True, "hidden_mlp": 2048, "feat_dim": 128},
        "swav": {"prototypes": 3000, "crops": "2x32+4x16", "crops_for_assign": [0, 1]},
        "optim": {"optimizer": "lars", "base_lr": 0.6, "batch_size": 64},
        "runtime": {"device": "cpu", "threads": 2},
    }
)
BATCH = 64
CROP_SIZES = [32, 32, 16, 16, 16, 16]


class PlainLoop:
    """Appendix A.1, one crop at a time."""

    def __init__(self, model: SwAVModel, optimizer: torch.optim.Optimizer, sinkhorn: Callable[..., torch.Tensor]) -> None:
        self.model = model
        self.optimizer = optimizer
        self.sinkhorn = sinkhorn
        swav = SPEC["swav"]
        self.temperature = float(swav["temperature"])
        self.epsilon = float(swav["epsilon"])
        self.iterations = int(swav["sinkhorn_iterations"])
        self.crops_for_assign = list(swav["crops_for_assign"])

    def step(self, crops: list[torch.Tensor], lr: float) -> torch.Tensor:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with torch.no_grad():
            self.model.prototypes.weight.copy_(F.normalize(self.model.prototypes.weight, dim=1))
        scores = []
        for crop in crops:
            embedding = self.model.projection_head(self.model.backbone(crop))
            scores.append(self.model.prototypes(embedding))
        loss = torch.zeros(())
        for c in self.crops_for_assign:
            with torch.no_grad():
                q = self.sinkhorn(scores[c].detach(), self.epsilon, self.iterations)
            for v, s in enumerate(scores):
                if v != c:
                    loss = loss - torch.mean(torch.sum(q * F.log_softmax(s / self.temperature, dim=1), dim=1))
        loss = loss / ((len(crops) - 1) * len(self.crops_for_assign))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median reported)")
    parser.add_argument("--steps", type=int, default=2, help="steps per loop per round")
    args = parser.parse_args()
    torch.set_num_threads(2)
    kept = keep_freed_memory()

    torch.manual_seed(0)
    plain_model = build_model(SPEC)
    ours_model = build_model(SPEC, channels_last=True)  # as swavlab.train builds it
    ours_model.load_state_dict(plain_model.state_dict())
    ours_step = SwAVStep(
        ours_model, ours_model, build_optimizer(ours_model, SPEC["optim"]), SPEC["swav"], BATCH, torch.device("cpu")
    )
    plain = PlainLoop(plain_model, build_optimizer(plain_model, SPEC["optim"]), _appendix_a1_sinkhorn())

    generator = torch.Generator().manual_seed(1)
    batches = [[torch.randn(BATCH, 3, s, s, generator=generator) for s in CROP_SIZES] for _ in range(args.steps)]
    # What the DataLoader workers hand the training loop: stacked per resolution, off the critical path.
    collated = [collate_by_resolution([[crop[i] for crop in batch] for i in range(BATCH)]) for batch in batches]
    lr = 0.3

    def run_ours() -> float:
        start = time.perf_counter()
        for groups in collated:
            ours_step(groups, lr=lr, freeze_prototypes=False)
        return time.perf_counter() - start

    def run_plain() -> float:
        start = time.perf_counter()
        for crops in batches:
            plain.step(crops, lr)
        return time.perf_counter() - start

    run_ours()  # warm-up: allocator, oneDNN primitive caches
    run_plain()
    times: dict[str, list[float]] = {"ours": [], "plain": []}
    runners = {"ours": run_ours, "plain": run_plain}
    order = random.Random(0)
    for _ in range(args.rounds):
        for name in order.sample(list(runners), len(runners)):
            times[name].append(runners[name]())
    ours_times, plain_times = times["ours"], times["plain"]
    images = BATCH * args.steps
    ours_ips = images / statistics.median(ours_times)
    plain_ips = images / statistics.median(plain_times)
    print(f"torch {torch.__version__}, cpu, threads {torch.get_num_threads()}, freed memory kept: {kept}")
    print(f"resnet18 small stem, crops 2x32+4x16, batch {BATCH}, 3000 prototypes, LARS; {args.rounds} rounds x {args.steps} steps")
    print(f"plain Appendix A.1 loop (per-crop forward): {plain_ips:.1f} images/s")
    print(f"swavlab SwAVStep (grouped, channels-last):  {ours_ips:.1f} images/s")
    print(f"ratio: {ours_ips / plain_ips:.2f}")


if __name__ == "__main__":
    main()
