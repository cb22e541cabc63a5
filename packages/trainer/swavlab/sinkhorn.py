"""Sinkhorn-Knopp codes for SwAV (Caron et al. 2020, Eq. 5 and Appendix A.1).

The paper's pseudo-code builds Q = exp(scores / eps)^T, divides it by its total, then alternately
divides every prototype row by its sum (and K) and every sample column by its sum (and B), and
finally multiplies by B. This module performs the same normalisations on the [B, K] matrix, with
less work per iteration:

* Constant factors are left out (the total, K, B): every normalisation is followed by one along the
  other axis, which cancels them, and the last one makes every sample's codes sum to 1, which is
  what the final multiplication by B gives.
* One buffer is allocated (with huge pages on Linux: see cpu_memory.py) and written once by exp; each
  iteration rewrites it twice, in place, as multiplications by reciprocals. The pseudo-code allocates
  two such matrices and rewrites the matrix with a division four times per iteration.
* On the CPU the rows are processed in blocks that fit the core's cache: a sample normalisation and
  the next iteration's prototype sums read a block once.

* exp(scores / eps) leaves fp32 beyond |scores / eps| ~ 88, so the exponents are shifted: by the
  largest score when the scores span at most 80 eps (cosines at the usual eps), else per prototype,
  with the rare samples that would underflow lifted by their own best value (see _exponentiate).

All element-wise work stays on one threading runtime (no BLAS mat-vecs in the common case): on a
small CPU, switching between OpenMP and OpenBLAS threads costs more than the passes it saves.
"""

import contextlib

import torch

from .cpu_memory import empty_hugepages
from .distributed import all_reduce_max, all_reduce_sum

# Floor of a prototype's mass, so that a prototype whose entries all underflowed keeps a finite scale.
_MIN_MASS = 1e-30
# Scores spanning at most 80 eps: one shift by the largest score keeps every entry above e^-80, a
# normal fp32 number (the smallest is e^-87.3).
_ONE_SHIFT_RANGE = 80.0
# Otherwise a sample whose best entry exp(b) is below e^-40 is lifted by its own b (see _exponentiate).
_LIFT_BELOW = -40.0
# Size of the CPU row blocks: the 2 MiB L2 of a recent x86 core.
_CPU_BLOCK_BYTES = 2 << 20


def _autocast_disabled(device: torch.device) -> contextlib.AbstractContextManager[None]:
    """Autocast off for this device type: exp(score / eps) reaches e^20 at eps = 0.05, beyond fp16."""
    if device.type in ("cpu", "cuda"):
        return torch.autocast(device_type=device.type, enabled=False)
    return contextlib.nullcontext()


def _row_blocks(codes: torch.Tensor) -> list[torch.Tensor]:
    """Views of consecutive rows: cache-sized blocks on the CPU, the whole matrix elsewhere."""
    if codes.device.type != "cpu":
        return [codes]
    rows = max(1, _CPU_BLOCK_BYTES // max(1, codes.shape[1] * codes.element_size()))
    return list(codes.split(rows))


def _one_shift(scores: torch.Tensor, epsilon: float) -> torch.Tensor | None:
    """-max(scores) / eps when that one shift keeps every entry representable (the scores span at most
    80 eps, as cosines do for eps >= 0.025), else None. Decided on the CPU only: free there, while
    on a GPU reading the range would wait for the device. Under torch.distributed the range is the
    global one, so that every rank takes the same path."""
    if scores.device.type != "cpu":
        return None
    lowest, highest = torch.aminmax(scores)
    extremes = all_reduce_max(torch.stack((highest, -lowest)))
    if float(extremes.sum()) > _ONE_SHIFT_RANGE * epsilon:
        return None
    return extremes[0].div(-epsilon)


def _exponentiate(
    block: torch.Tensor, scores: torch.Tensor, shift: torch.Tensor, epsilon: float, may_underflow: bool
) -> torch.Tensor:
    """Writes exp(scores / eps + shift) into `block` and returns its prototype sums (the first
    Sinkhorn step); a shift that is constant per prototype cancels in the first normalisation.

    Where entries may underflow, `shift` is -a / eps with a_k the largest score of prototype k over
    the (global) batch: every exponent is <= 0 and every prototype has an entry of exactly 1, so its
    sum is >= 1. A sample far from every prototype (best exponent b < -40) would still lose its whole
    row at small eps; it is lifted by -b instead. Its true weight in the prototype sums is e^b < e^-40
    against sums >= 1, below fp32's resolution, so it is left out of them, and from the first sample
    normalisation on the lift cancels.
    """
    torch.add(shift, scores, alpha=1.0 / epsilon, out=block)
    if may_underflow:
        best = block.amax(dim=1)
        lifted = best < _LIFT_BELOW
        # On the CPU the check is free and almost always false; on a GPU it would wait for the device.
        if block.device.type != "cpu" or bool(lifted.any()):
            block.sub_(best.mul_(lifted).unsqueeze(1)).exp_()
            return torch.mv(block.t(), lifted.logical_not_().to(block.dtype))
    return block.exp_().sum(dim=0)


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, epsilon: float = 0.05, iterations: int = 3) -> torch.Tensor:
    """Soft codes Q* for a batch of prototype scores (Eq. 5, solved with `iterations` Sinkhorn steps).

    `scores` is [B, K] (samples x prototypes), any float dtype; the computation runs in fp32 with
    autocast disabled and returns fp32 [B, K] codes whose rows sum to 1, each prototype receiving about
    B / K of the mass, for any epsilon > 0 (finite codes even where exp(score / eps) leaves fp32). Under
    an initialised torch.distributed group, B is the global batch: the score range (or per-prototype
    maxima) and the prototype sums are all-reduced, per-sample sums stay local.
    """
    if scores.dim() != 2:
        raise ValueError(f"scores: expected a [batch, prototypes] matrix, got shape {tuple(scores.shape)}")
    if not epsilon > 0 or epsilon == float("inf"):
        raise ValueError(f"epsilon: must be a finite number > 0, got {epsilon}")
    if iterations < 1:
        raise ValueError(f"iterations: must be >= 1, got {iterations}")

    with _autocast_disabled(scores.device):
        scores = scores.float()
        shift = _one_shift(scores, epsilon)
        may_underflow = shift is None
        if shift is None:
            # Global, so that every rank scales a prototype by the same constant.
            shift = all_reduce_max(scores.amax(dim=0)).div_(-epsilon)
        codes = empty_hugepages(tuple(scores.shape), torch.float32, scores.device)
        blocks = _row_blocks(codes)
        mass = torch.zeros(scores.shape[1], device=scores.device)
        for block, block_scores in zip(blocks, scores.split(blocks[0].shape[0])):
            mass += _exponentiate(block, block_scores, shift, epsilon, may_underflow)

        for iteration in range(iterations):
            inverse_mass = all_reduce_sum(mass).clamp_(min=_MIN_MASS).reciprocal_()
            more = iteration < iterations - 1
            mass = torch.zeros_like(inverse_mass)
            for block in blocks:
                block.mul_(inverse_mass)  # prototype step
                block.mul_(block.sum(dim=1, keepdim=True).reciprocal_())  # sample step: rows sum to 1
                if more:  # the next prototype step's sums, while the block is in cache
                    mass += block.sum(dim=0)
        return codes
