"""Sinkhorn-Knopp codes for SwAV (Caron et al. 2020, Eq. 5 and Appendix A.1), in scaling-vector form.

The paper's pseudo-code rewrites the whole K x B matrix Q = exp(scores / eps)^T on every
iteration: divide by the total, then alternately divide rows by their sums (times K) and columns by
their sums (times B). Every one of those steps multiplies Q by a diagonal matrix on one side, so
after any number of iterations Q = diag(u) exp(scores / eps)^T diag(v) for a prototype vector u and a
sample vector v. Iterating only on u and v costs two matrix-vector
products per iteration instead of several full passes over the matrix, and the codes are formed once
at the end. The result is the same up to fp32 rounding.
"""

import contextlib

import torch

from .distributed import all_reduce_max, all_reduce_sum

# Floor of a prototype's mass: scales stay below 1e30 / K and sample masses below 1e30, far inside fp32.
_MIN_MASS = 1e-30


def _autocast_disabled(device: torch.device) -> contextlib.AbstractContextManager[None]:
    """Autocast off for this device type: exp(score / eps) reaches e^20 at eps = 0.05, beyond fp16."""
    if device.type in ("cpu", "cuda"):
        return torch.autocast(device_type=device.type, enabled=False)
    return contextlib.nullcontext()


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, epsilon: float = 0.05, iterations: int = 3) -> torch.Tensor:
    """Soft codes Q* for a batch of prototype scores (Eq. 5, solved with `iterations` Sinkhorn steps).

    `scores` is [B, K] (samples x prototypes), any float dtype; the computation runs in fp32 with
    autocast disabled and returns fp32 [B, K] codes whose rows sum to 1, each prototype receiving about
    B / K of the mass, for any epsilon > 0 (finite codes even where exp(score / eps) leaves fp32). Under
    an initialised torch.distributed group, B is the global batch: the per-prototype maxima and sums are
    all-reduced, per-sample sums stay local.
    """
    if scores.dim() != 2:
        raise ValueError(f"scores: expected a [batch, prototypes] matrix, got shape {tuple(scores.shape)}")
    if not epsilon > 0 or epsilon == float("inf"):
        raise ValueError(f"epsilon: must be a finite number > 0, got {epsilon}")
    if iterations < 1:
        raise ValueError(f"iterations: must be >= 1, got {iterations}")

    with _autocast_disabled(scores.device):
        scores = scores.float()
        n_samples, n_prototypes = scores.shape
        # exp(scores / eps) leaves fp32 beyond |score / eps| ~ 88, so each entry is shifted by its
        # prototype's best score a_k and then by its sample's largest remaining value b_i. Every exponent
        # is then <= 0 (no overflow) and every row and every column holds an entry of exactly 1 (a
        # prototype's best sample has b_i = 0), so neither a sample's codes nor a prototype's share
        # underflow to zeros, which a one-sided shift allows for epsilon below ~0.023 (cosines span 2):
        # NaN codes. The prototype shift must be global so that all ranks scale a prototype by the same
        # constant; it cancels in the first prototype normalisation.
        prototype_max = all_reduce_max(scores.amax(dim=0))
        # (scores - a) / eps with the shift and scale fused into the one pass that allocates.
        kernel = torch.add(prototype_max.div_(-epsilon), scores, alpha=1.0 / epsilon)
        sample_shift = kernel.amax(dim=1)
        kernel.sub_(sample_shift.unsqueeze(1)).exp_()
        # The sample shift multiplied row i by exp(-b_i); starting the sample scaling at exp(b_i) <= 1
        # undoes it, so the first prototype sums are the paper's.
        sample_scale = sample_shift.exp_()

        # The paper's division by the total sum is a uniform factor that cancels in the final per-sample
        # normalisation, so it is left out. The divisions by K and B stay: they keep the total mass at 1
        # after every step, without them the scales grow by a factor ~B/K per iteration and overflow.
        # B is counted rather than assumed equal on every rank. u = prototype_scale, v = sample_scale.
        global_batch = all_reduce_sum(torch.tensor(float(n_samples), device=scores.device))
        for _ in range(iterations):
            prototype_mass = all_reduce_sum(torch.mv(kernel.t(), sample_scale))
            # Where epsilon is tiny, a prototype may be liked only by samples whose starting scale underflowed
            # (b_i < ~-87): the floor keeps its scale finite instead of 0 * inf = NaN.
            prototype_scale = prototype_mass.clamp_(min=_MIN_MASS).mul_(n_prototypes).reciprocal_()
            sample_mass = torch.mv(kernel, prototype_scale)
            sample_scale = sample_mass.mul(global_batch).reciprocal_()

        # The last sample step, formed once: codes[i, k] = kernel[i, k] u[k] / sum_k' kernel[i, k'] u[k'].
        return kernel.mul_(prototype_scale).div_(sample_mass.unsqueeze(1))
