"""The SwAV network: backbone, projection head and prototypes, with multi-crop forwarding."""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import build_backbone
from .head import ProjectionHead


class SwAVModel(nn.Module):
    """Backbone -> projection head (unit-norm embeddings) -> prototypes (bias-free linear, K outputs).

    With `fixed_prototypes` the prototypes are random unit vectors that never train (the paper's
    Table 13 ablation). With `channels_last` parameters and inputs use the NHWC memory format, which
    is faster for convolutions on recent GPUs and, through oneDNN, on CPUs (resnet18 step on the build
    machine: 13 % faster than NCHW, bench/trainer/train_step.py).
    """

    def __init__(
        self,
        backbone: nn.Module,
        out_dim: int,
        hidden_mlp: int,
        feat_dim: int,
        n_prototypes: int,
        fixed_prototypes: bool = False,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        if n_prototypes < 1:
            raise ValueError(f"prototypes: must be >= 1, got {n_prototypes}")
        self.backbone = backbone
        self.projection_head = ProjectionHead(out_dim, hidden_mlp, feat_dim)
        self.prototypes = nn.Linear(feat_dim, n_prototypes, bias=False)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if fixed_prototypes:
            with torch.no_grad():
                self.prototypes.weight.normal_()
            self.normalize_prototypes()
            self.prototypes.weight.requires_grad_(False)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    @torch.no_grad()
    def normalize_prototypes(self) -> None:
        """L2-normalise the prototype rows in place; SwAV does this before every forward pass."""
        weight = self.prototypes.weight
        weight.copy_(F.normalize(weight, dim=1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features [N, out_dim]: what evaluation (k-NN, linear probe) reads."""
        return self.backbone(x.contiguous(memory_format=self.memory_format))

    def forward(self, crops: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings [n_crops * B, feat_dim] and scores [n_crops * B, K], ordered crop by crop.

        Consecutive crops of the same resolution go through the backbone in one call (one call per
        resolution for the usual 2 global + V small crops), which keeps BatchNorm statistics per
        resolution and the number of kernel launches low.
        """
        if len(crops) == 0:
            raise ValueError("crops: expected at least one crop tensor")
        pooled: list[torch.Tensor] = []
        start = 0
        while start < len(crops):
            end = start + 1
            while end < len(crops) and crops[end].shape[-2:] == crops[start].shape[-2:]:
                end += 1
            pooled.append(self.features(torch.cat(crops[start:end])))
            start = end
        embeddings = self.projection_head(torch.cat(pooled))
        return embeddings, self.prototypes(embeddings)


def cancel_prototype_gradients(model: SwAVModel) -> None:
    """Drop the prototypes' gradients (SwAV's freezing for the first iterations); call between
    backward and the optimiser step. Pass the unwrapped model (`ddp.module`) under DistributedDataParallel."""
    model.prototypes.weight.grad = None


def build_model(spec: Mapping[str, Any], channels_last: bool = False) -> SwAVModel:
    """SwAVModel from a validated spec: `model.{arch, small_stem, hidden_mlp, feat_dim}` and
    `swav.{prototypes, prototypes_mode}`."""
    model_spec = spec["model"]
    swav_spec = spec["swav"]
    backbone, out_dim = build_backbone(model_spec["arch"], bool(model_spec["small_stem"]))
    return SwAVModel(
        backbone,
        out_dim,
        hidden_mlp=int(model_spec["hidden_mlp"]),
        feat_dim=int(model_spec["feat_dim"]),
        n_prototypes=int(swav_spec["prototypes"]),
        fixed_prototypes=swav_spec["prototypes_mode"] == "fixed",
        channels_last=channels_last,
    )
