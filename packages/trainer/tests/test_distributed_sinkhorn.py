"""Sinkhorn over two gloo processes equals single-process Sinkhorn on the concatenated batch."""

from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from conftest import free_port
from swavlab.distributed import all_reduce_sum, is_distributed, rank, world_size
from swavlab.sinkhorn import sinkhorn

WORLD_SIZE = 2
# (rows of rank 0, rows of rank 1): an even split as in data-parallel training, and an uneven one.
SPLITS = [(48, 48), (60, 36)]
N_PROTOTYPES = 40


def global_scores() -> torch.Tensor:
    generator = torch.Generator().manual_seed(11)
    embeddings = F.normalize(torch.randn(96, 16, generator=generator), dim=1)
    prototypes = F.normalize(torch.randn(N_PROTOTYPES, 16, generator=generator), dim=1)
    return embeddings @ prototypes.t()


def worker(process_rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=process_rank, world_size=WORLD_SIZE
    )
    try:
        scores = global_scores()
        results: dict[str, object] = {
            "is_distributed": is_distributed(),
            "rank": rank(),
            "world_size": world_size(),
            "sum_of_ranks": all_reduce_sum(torch.tensor([float(process_rank)])).item(),
        }
        for first, second in SPLITS:
            start = 0 if process_rank == 0 else first
            rows = first if process_rank == 0 else second
            results[f"codes_{first}_{second}"] = sinkhorn(scores[start : start + rows], 0.05, 3)
        torch.save(results, Path(out_dir) / f"rank{process_rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_processes_match_single_process_on_the_whole_batch(tmp_path: Path) -> None:
    mp.spawn(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD_SIZE, join=True)
    per_rank = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE)]

    for r, results in enumerate(per_rank):
        assert results["is_distributed"] is True
        assert results["rank"] == r
        assert results["world_size"] == WORLD_SIZE
        assert results["sum_of_ranks"] == 1.0

    expected = sinkhorn(global_scores(), 0.05, 3)
    assert not is_distributed()
    for first, second in SPLITS:
        codes = torch.cat([results[f"codes_{first}_{second}"] for results in per_rank])
        assert codes.shape == expected.shape
        torch.testing.assert_close(codes, expected, rtol=0, atol=1e-5)
    # Each rank alone would normalise to its own batch: the all-reduce is what makes the codes agree.
    alone = sinkhorn(global_scores()[:48], 0.05, 3)
    assert (alone - expected[:48]).abs().max().item() > 1e-3
