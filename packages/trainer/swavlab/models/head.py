"""SwAV's projection head: backbone features to L2-normalised embeddings on the unit sphere."""

import torch
import torch.nn.functional as F
from torch import nn


class ProjectionHead(nn.Sequential):
    """Linear -> BatchNorm -> ReLU -> Linear (a single Linear when `hidden_mlp` is 0), then L2-normalise.

    The output lies on the unit sphere so that scores against the normalised prototypes are cosines,
    which bounds exp(score / eps) in Sinkhorn. Sub-module indices (0, 1, 3) match SwAV's release.
    """

    def __init__(self, in_dim: int, hidden_mlp: int, feat_dim: int) -> None:
        if hidden_mlp < 0:
            raise ValueError(f"hidden_mlp: must be >= 0, got {hidden_mlp}")
        if hidden_mlp == 0:
            super().__init__(nn.Linear(in_dim, feat_dim))
        else:
            super().__init__(
                nn.Linear(in_dim, hidden_mlp),
                nn.BatchNorm1d(hidden_mlp),
                nn.ReLU(inplace=True),
                nn.Linear(hidden_mlp, feat_dim),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(super().forward(x), dim=1)
