"""Optimisation as in SwAV: SGD with momentum wrapped in LARS, and the per-iteration lr schedule."""

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn


class LARS(torch.optim.Optimizer):
    """SGD with momentum whose per-parameter gradients are rescaled by a layer-wise trust ratio.

    As SwAV's LARC(clip=False) wrapper around SGD, applied to every parameter: with w the weights
    and g the gradient, ratio = trust_coefficient * |w| / (|g| + weight_decay * |w|), the step uses
    (g + weight_decay * w) * ratio, then momentum and the global lr. A parameter whose weights or
    gradient are all zero (e.g. a freshly zeroed bias) gets the plain gradient, without weight decay.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust_coefficient: float = 0.001,
    ) -> None:
        if not lr >= 0:
            raise ValueError(f"lr: must be >= 0, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum: must be in [0, 1), got {momentum}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay: must be >= 0, got {weight_decay}")
        if not trust_coefficient > 0:
            raise ValueError(f"trust_coefficient: must be > 0, got {trust_coefficient}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "trust_coefficient": trust_coefficient,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One LARS step; `closure` re-evaluates the loss as in torch.optim."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr: float = group["lr"]
            momentum: float = group["momentum"]
            weight_decay: float = group["weight_decay"]
            trust_coefficient: float = group["trust_coefficient"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad
                weight_norm = torch.linalg.vector_norm(param)
                grad_norm = torch.linalg.vector_norm(grad)
                # torch.where instead of Python branching: no device-to-host synchronisation per tensor.
                adapt = (weight_norm > 0) & (grad_norm > 0)
                ratio = torch.where(
                    adapt,
                    trust_coefficient * weight_norm / (grad_norm + weight_decay * weight_norm),
                    torch.ones_like(weight_norm),
                )
                decay = adapt.to(param.dtype) * weight_decay
                update = (grad + decay * param) * ratio
                if momentum > 0:
                    state = self.state[param]
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = update.clone()
                    else:
                        buffer.mul_(momentum).add_(update)
                    update = buffer
                param.add_(update, alpha=-lr)
        return loss


def build_optimizer(model: nn.Module, optim_spec: Mapping[str, Any]) -> torch.optim.Optimizer:
    """LARS or plain SGD (`optim.optimizer`) over the trainable parameters, starting at `base_lr`.

    The training loop overwrites each group's lr every iteration from `lr_schedule`. Parameters that
    do not require gradients (fixed prototypes) are left out.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    name = optim_spec["optimizer"]
    lr = float(optim_spec["base_lr"])
    momentum = float(optim_spec["momentum"])
    weight_decay = float(optim_spec["weight_decay"])
    if name == "lars":
        return LARS(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"optimizer: must be 'lars' or 'sgd', got {name!r}")


def lr_schedule(
    base_lr: float,
    final_lr: float,
    epochs: int,
    iters_per_epoch: int,
    warmup_epochs: int,
    start_warmup: float,
) -> np.ndarray:
    """Learning rate for every iteration (length epochs * iters_per_epoch), as SwAV schedules it.

    Linear warm-up from `start_warmup` towards `base_lr` over `warmup_epochs`, then a cosine from
    `base_lr` down to `final_lr`, per iteration. The last iteration lands exactly on `final_lr`
    (SwAV's release stops one step short of it).
    """
    if epochs < 1:
        raise ValueError(f"epochs: must be >= 1, got {epochs}")
    if iters_per_epoch < 1:
        raise ValueError(f"iters_per_epoch: must be >= 1, got {iters_per_epoch}")
    if not 0 <= warmup_epochs <= epochs:
        raise ValueError(f"warmup_epochs: must be in [0, epochs={epochs}], got {warmup_epochs}")
    warmup_iters = warmup_epochs * iters_per_epoch
    cosine_iters = (epochs - warmup_epochs) * iters_per_epoch
    warmup = start_warmup + (base_lr - start_warmup) * np.arange(warmup_iters) / max(warmup_iters, 1)
    progress = np.arange(cosine_iters) / max(cosine_iters - 1, 1)
    cosine = final_lr + 0.5 * (base_lr - final_lr) * (1 + np.cos(math.pi * progress))
    return np.concatenate((warmup, cosine))
