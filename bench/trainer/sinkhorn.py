"""Sinkhorn-Knopp: swavlab's scaling-vector form against the paper's Appendix A.1 pseudo-code.

Run from the repository root: `/usr/bin/python3 bench/trainer/sinkhorn.py`. Both run on the same
4096 x 3000 fp32 scores on the CPU with 2 threads (the paper's setting: 4K features to 3K codes),
interleaved so that load from other processes hits both alike; prints the median times, the largest
absolute difference between the two results, and `ratio` = pseudo-code time / swavlab time.
"""

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "trainer"))

from swavlab.sinkhorn import sinkhorn  # noqa: E402

BATCH, PROTOTYPES, FEAT_DIM = 4096, 3000, 128
EPSILON, ITERATIONS, REPEATS = 0.05, 3, 15


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

    oracle_times: list[float] = []
    ours_times: list[float] = []
    for _ in range(REPEATS):
        oracle_times.append(timed(lambda: appendix_a1(scores, EPSILON, ITERATIONS)))
        ours_times.append(timed(lambda: sinkhorn(scores, EPSILON, ITERATIONS)))
    oracle_ms = statistics.median(oracle_times) * 1e3
    ours_ms = statistics.median(ours_times) * 1e3

    print(f"sinkhorn {BATCH}x{PROTOTYPES} fp32 cpu, eps {EPSILON}, {ITERATIONS} iterations, threads 2")
    print(f"appendix A.1 pseudo-code: {oracle_ms:.2f} ms (median of {REPEATS})")
    print(f"swavlab scaling vectors:  {ours_ms:.2f} ms (median of {REPEATS})")
    print(f"max abs diff: {max_abs_diff:.3e}")
    print(f"ratio: {oracle_ms / ours_ms:.2f}")


if __name__ == "__main__":
    main()
