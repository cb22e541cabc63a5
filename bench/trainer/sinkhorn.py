"""Sinkhorn-Knopp: swavlab's implementation against the paper's Appendix A.1 pseudo-code.

Run from the repository root: `/usr/bin/python3 bench/trainer/sinkhorn.py`. Both run on the same
4096 x 3000 fp32 scores on the CPU with 2 threads (the paper's setting: 4K features to 3K codes),
interleaved in a random order every repeat so that load from other processes and the state each
call leaves behind (threads spinning, caches) hit both alike; prints the median times, the largest
absolute difference between the two results, and `ratio` = pseudo-code time / swavlab time.

Then the same again after `keep_freed_memory()`, the setting the training entry points give their process:
there both functions reuse freed memory instead of mapping fresh pages, which the pseudo-code,
allocating two such matrices per call, gains most from.
"""

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "trainer"))

from swavlab.cpu_memory import keep_freed_memory  # noqa: E402
from swavlab.sinkhorn import sinkhorn  # noqa: E402

BATCH, PROTOTYPES, FEAT_DIM = 4096, 3000, 128
EPSILON, ITERATIONS, REPEATS = 0.05, 3, 21


@torch.no_grad()
def appendix_a1(scores: torch.Tensor, epsilon: float, iterations: int) -> torch.Tensor:
    """The paper's pseudo-code: the whole K x B matrix is renormalised on every iteration."""
    q = torch.exp(scores / epsilon).t()
    q /= torch.sum(q)
    n_prototypes, n_samples = q.shape
    for _ in range(iterations):
        q /= torch.sum(q, dim=1, keepdim=True)
        q /= n_prototypes
        q /= torch.sum(q, dim=0, keepdim=True)
        q /= n_samples
    q *= n_samples
    return q.t()


def timed(fn: Callable[[], torch.Tensor]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(2)
    generator = torch.Generator().manual_seed(0)
    # Cosine scores, as SwAV produces them: L2-normalised embeddings against L2-normalised prototypes.
    embeddings = torch.nn.functional.normalize(torch.randn(BATCH, FEAT_DIM, generator=generator), dim=1)
    prototypes = torch.nn.functional.normalize(torch.randn(PROTOTYPES, FEAT_DIM, generator=generator), dim=1)
    scores = embeddings @ prototypes.t()

    reference = appendix_a1(scores, EPSILON, ITERATIONS)
    ours = sinkhorn(scores, EPSILON, ITERATIONS)
    max_abs_diff = (reference - ours).abs().max().item()

    print(f"sinkhorn {BATCH}x{PROTOTYPES} fp32 cpu, eps {EPSILON}, {ITERATIONS} iterations, threads 2")
    print(f"max abs diff: {max_abs_diff:.3e}")
    compare(scores)
    if keep_freed_memory():
        print("with freed memory kept in the heap (the training process's setting):")
        compare(scores, label="ratio (training process)")
    else:
        print("freed memory cannot be kept on this system: the training process runs as above")


def compare(scores: torch.Tensor, label: str = "ratio (fresh process)") -> None:
    """Prints the median times of both, interleaved in a random order, and their ratio."""
    candidates: dict[str, Callable[[], torch.Tensor]] = {
        "oracle": lambda: appendix_a1(scores, EPSILON, ITERATIONS),
        "ours": lambda: sinkhorn(scores, EPSILON, ITERATIONS),
    }
    times: dict[str, list[float]] = {name: [] for name in candidates}
    order = random.Random(0)
    for _ in range(REPEATS):
        for name in order.sample(list(candidates), len(candidates)):
            times[name].append(timed(candidates[name]))
    oracle_ms = statistics.median(times["oracle"]) * 1e3
    ours_ms = statistics.median(times["ours"]) * 1e3
    print(f"  appendix A.1 pseudo-code: {oracle_ms:.2f} ms (median of {REPEATS})")
    print(f"  swavlab sinkhorn:         {ours_ms:.2f} ms (median of {REPEATS})")
    print(f"  {label}: {oracle_ms / ours_ms:.2f}")


if __name__ == "__main__":
    main()
