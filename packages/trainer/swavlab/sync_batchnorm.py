"""Batch normalisation over the global batch of a multi-process CPU run (gloo).

SwAV normalises with statistics of the whole batch across devices (``sync_bn``; the authors use
apex's SyncBatchNorm). torch's ``nn.SyncBatchNorm`` only runs on CUDA tensors in torch 1.13, so a
CPU run with several processes would otherwise normalise each rank's slice on its own and train a
different model than one process with the same global batch. This module computes the same
statistics with two differentiable all-reduces (sums, then centred squares: the two-pass form,
as stable as the single-process one); their backward passes all-reduce the gradients, which is what
makes the input gradients those of the global batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class ProcessGroupBatchNorm(_BatchNorm):
    """BatchNorm whose training statistics span every rank of ``group`` (any input rank >= 2)."""

    def __init__(self, num_features: int, eps: float, momentum: float | None, affine: bool,
                 track_running_stats: bool, group: dist.ProcessGroup | None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats)
        self.group = group

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected an input of at least 2 dimensions, got {input.dim()}")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(input)
        if not self.training and self.track_running_stats:
            return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        dims = [0, *range(2, input.dim())]
        shape = [1, -1] + [1] * (input.dim() - 2)
        local_count = input.numel() // input.shape[1]
        packed = torch.cat([input.sum(dims), input.new_full((1,), float(local_count))])
        packed = dist_nn.all_reduce(packed, group=self.group)
        count = packed[-1]
        mean = packed[:-1] / count
        centred = input - mean.view(shape)
        var = dist_nn.all_reduce((centred * centred).sum(dims), group=self.group) / count
        output = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            output = output * self.weight.view(shape) + self.bias.view(shape)
        if self.training and self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), float(count.item()))
        return output

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, count: float) -> None:
        assert self.num_batches_tracked is not None and self.running_mean is not None and self.running_var is not None
        self.num_batches_tracked += 1
        # The same factor as _BatchNorm: a cumulative average when momentum is None.
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        unbiased = var * (count / max(count - 1.0, 1.0))
        self.running_mean.mul_(1.0 - factor).add_(mean, alpha=factor)
        self.running_var.mul_(1.0 - factor).add_(unbiased, alpha=factor)


def convert_to_process_group_batchnorm(module: nn.Module, group: dist.ProcessGroup | None) -> nn.Module:
    """Replace every BatchNorm layer of ``module`` by a :class:`ProcessGroupBatchNorm` with the same state."""
    converted = module
    if isinstance(module, _BatchNorm) and not isinstance(module, ProcessGroupBatchNorm):
        converted = ProcessGroupBatchNorm(
            module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats, group
        )
        converted.load_state_dict(module.state_dict())
        converted.train(module.training)
        if module.affine:
            converted.weight.requires_grad_(module.weight.requires_grad)
            converted.bias.requires_grad_(module.bias.requires_grad)
    for name, child in module.named_children():
        converted.add_module(name, convert_to_process_group_batchnorm(child, group))
    return converted
