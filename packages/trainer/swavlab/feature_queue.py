"""The per-process FIFO of past embeddings that lets small batches use SwAV (Section 4.1, "queue").

With B < K a batch cannot be split equally over the prototypes; scoring the last L embeddings
against the current prototypes and running Sinkhorn on queue + batch fixes that. Embeddings, not
scores, are stored, because the prototypes move every step.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn


class FeatureQueue:
    """`length` embeddings of size `feat_dim` for each of `n_crops` assignment crops, newest first."""

    def __init__(
        self, n_crops: int, length: int, feat_dim: int, device: torch.device | str | None = None
    ) -> None:
        if n_crops < 1:
            raise ValueError(f"n_crops: must be >= 1, got {n_crops}")
        if length < 1:
            raise ValueError(f"queue_length: must be >= 1, got {length}")
        if feat_dim < 1:
            raise ValueError(f"feat_dim: must be >= 1, got {feat_dim}")
        self._embeddings = torch.zeros(n_crops, length, feat_dim, device=device)
        self._filled = 0

    @property
    def length(self) -> int:
        """Capacity L: how many embeddings are kept per assignment crop."""
        return self._embeddings.shape[1]

    @property
    def filled(self) -> int:
        """How many embeddings have been stored so far (at most `length`)."""
        return self._filled

    @property
    def is_full(self) -> bool:
        """True once `length` embeddings have been pushed: only then is the queue used."""
        return self._filled == self.length

    @torch.no_grad()
    def push(self, embeddings_per_assign_crop: Sequence[torch.Tensor]) -> None:
        """Store the batch's embeddings ([B, feat_dim] per assignment crop) in front, dropping the
        oldest."""
        n_crops, _, feat_dim = self._embeddings.shape
        if len(embeddings_per_assign_crop) != n_crops:
            raise ValueError(
                f"embeddings_per_assign_crop: expected {n_crops} tensors, "
                f"got {len(embeddings_per_assign_crop)}"
            )
        batch = embeddings_per_assign_crop[0].shape[0]
        for i, embeddings in enumerate(embeddings_per_assign_crop):
            if embeddings.shape != (batch, feat_dim):
                raise ValueError(
                    f"embeddings_per_assign_crop[{i}]: expected shape ({batch}, {feat_dim}), "
                    f"got {tuple(embeddings.shape)}"
                )
        newest = torch.stack([e.detach().to(self._embeddings) for e in embeddings_per_assign_crop])
        self._embeddings = torch.cat((newest, self._embeddings), dim=1)[:, : self.length].contiguous()
        self._filled = min(self.length, self._filled + batch)

    @torch.no_grad()
    def scores(self, prototypes: nn.Linear) -> list[torch.Tensor]:
        """Scores [L, K] of the queued embeddings against the current prototypes, one per assignment crop."""
        if not self.is_full:
            raise RuntimeError(
                f"feature queue holds {self._filled} of {self.length} embeddings; it is only used once full"
            )
        weight = prototypes.weight.detach()
        return [torch.mm(embeddings.to(weight.dtype), weight.t()) for embeddings in self._embeddings]

    def state_dict(self) -> dict[str, Any]:
        """The stored embeddings and fill level, for checkpoints."""
        return {"embeddings": self._embeddings.clone(), "filled": self._filled}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from `state_dict()`; the shape must match this queue's (crops, length, feat_dim)."""
        embeddings = state["embeddings"]
        if not isinstance(embeddings, torch.Tensor) or embeddings.shape != self._embeddings.shape:
            is_tensor = isinstance(embeddings, torch.Tensor)
            got = tuple(embeddings.shape) if is_tensor else type(embeddings).__name__
            raise ValueError(
                f"feature queue state: embeddings of shape {tuple(self._embeddings.shape)} expected, "
                f"got {got}"
            )
        filled = int(state["filled"])
        if not 0 <= filled <= self.length:
            raise ValueError(f"feature queue state: filled must be in [0, {self.length}], got {filled}")
        self._embeddings = embeddings.to(self._embeddings).clone()
        self._filled = filled
