"""SwAV's swapped prediction loss over multiple crops (Caron et al. 2020, Eq. 6).

For every assignment crop c, codes q_c come from Sinkhorn on that crop's scores (optionally with a
queue of past embeddings' scores in front). Every other crop v predicts them:
    loss_c = -1/(n_crops - 1) * sum_{v != c} mean_batch sum_k q_c[k] log softmax(s_v / tau)[k],
and the loss is the mean of loss_c over the assignment crops.
"""

from collections.abc import Sequence
from typing import Literal, overload

import torch
import torch.nn.functional as F

from .sinkhorn import sinkhorn

Assignment = Literal["soft", "hard"]


def _check_arguments(
    scores: torch.Tensor,
    crops_for_assign: Sequence[int],
    batch_size: int,
    queue_scores: Sequence[torch.Tensor | None] | None,
    assignment: str,
) -> int:
    """Validates the arguments and returns the number of crops."""
    if scores.dim() != 2:
        raise ValueError(f"scores: expected [n_crops * batch, prototypes], got shape {tuple(scores.shape)}")
    if batch_size < 1 or scores.shape[0] % batch_size != 0:
        raise ValueError(f"batch_size: {batch_size} does not divide the {scores.shape[0]} rows of scores")
    n_crops = scores.shape[0] // batch_size
    if n_crops < 2:
        raise ValueError(f"scores: the swapped prediction needs at least 2 crops, got {n_crops}")
    if len(crops_for_assign) == 0:
        raise ValueError("crops_for_assign: needs at least one crop index")
    for i, crop in enumerate(crops_for_assign):
        if not 0 <= crop < n_crops:
            raise ValueError(f"crops_for_assign[{i}]: {crop} is not a crop index in [0, {n_crops})")
    if queue_scores is not None:
        if len(queue_scores) != len(crops_for_assign):
            raise ValueError(
                f"queue_scores: expected {len(crops_for_assign)} entries (one per assignment crop), "
                f"got {len(queue_scores)}"
            )
        for i, entry in enumerate(queue_scores):
            if entry is not None and (entry.dim() != 2 or entry.shape[1] != scores.shape[1]):
                raise ValueError(
                    f"queue_scores[{i}]: expected [length, {scores.shape[1]}], got shape {tuple(entry.shape)}"
                )
    if assignment not in ("soft", "hard"):
        raise ValueError(f"assignment: must be 'soft' or 'hard', got {assignment!r}")
    return n_crops


@overload
def swav_loss(
    scores: torch.Tensor,
    crops_for_assign: Sequence[int],
    batch_size: int,
    temperature: float = ...,
    epsilon: float = ...,
    iterations: int = ...,
    queue_scores: Sequence[torch.Tensor | None] | None = ...,
    assignment: Assignment = ...,
    return_codes: Literal[False] = ...,
) -> torch.Tensor: ...


@overload
def swav_loss(
    scores: torch.Tensor,
    crops_for_assign: Sequence[int],
    batch_size: int,
    temperature: float = ...,
    epsilon: float = ...,
    iterations: int = ...,
    queue_scores: Sequence[torch.Tensor | None] | None = ...,
    assignment: Assignment = ...,
    *,
    return_codes: Literal[True],
) -> tuple[torch.Tensor, list[torch.Tensor]]: ...


def swav_loss(
    scores: torch.Tensor,
    crops_for_assign: Sequence[int],
    batch_size: int,
    temperature: float = 0.1,
    epsilon: float = 0.05,
    iterations: int = 3,
    queue_scores: Sequence[torch.Tensor | None] | None = None,
    assignment: Assignment = "soft",
    return_codes: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
    """SwAV loss (Eq. 6) for `scores` [n_crops * B, K], ordered crop by crop.

    `queue_scores[i]`, when given and not None, holds [L, K] scores of queued embeddings for the
    assignment crop `crops_for_assign[i]`: they are placed before the batch for Sinkhorn and only the
    batch's codes are kept. `assignment="hard"` replaces each code row by the one-hot of its arg-max
    (the paper's Table 13 ablation). With `return_codes=True` also returns the Sinkhorn codes, one
    [B, K] tensor per assignment crop, always the soft ones so that monitoring sees their entropy.
    The loss is computed in fp32; gradients flow through the predictions only, never the codes.
    """
    if not temperature > 0:
        raise ValueError(f"temperature: must be > 0, got {temperature}")
    n_crops = _check_arguments(scores, crops_for_assign, batch_size, queue_scores, assignment)

    # log softmax(s_v / tau) for every crop v at once: [n_crops, B, K].
    log_predictions = F.log_softmax(scores.float() / temperature, dim=1).view(n_crops, batch_size, -1)
    # sum over v != c of log_predictions[v] is the total minus crop c's own term.
    all_crops = log_predictions.sum(dim=0)

    codes_per_crop: list[torch.Tensor] = []
    loss = scores.new_zeros((), dtype=torch.float32)
    for i, crop in enumerate(crops_for_assign):
        crop_scores = scores.detach()[crop * batch_size : (crop + 1) * batch_size]
        queued = queue_scores[i] if queue_scores is not None else None
        if queued is not None:
            crop_scores = torch.cat((queued.detach().float(), crop_scores.float()))
        codes = sinkhorn(crop_scores, epsilon, iterations)[-batch_size:]
        codes_per_crop.append(codes)
        targets = codes
        if assignment == "hard":
            targets = F.one_hot(codes.argmax(dim=1), num_classes=codes.shape[1]).to(codes.dtype)
        others = all_crops - log_predictions[crop]
        loss = loss - (targets * others).sum(dim=1).mean() / (n_crops - 1)
    loss = loss / len(crops_for_assign)
    return (loss, codes_per_crop) if return_codes else loss
