"""One SwAV optimisation step, shared by the training loop and the train-step benchmark.

The step never synchronises with the device: it returns the loss as a device tensor and the
loop reads it only at log points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

from .amp import autocast
from .feature_queue import FeatureQueue
from .loss import swav_loss
from .models import SwAVModel, cancel_prototype_gradients


class GradScaler(Protocol):
    """The part of torch's GradScaler the step uses (torch.amp in 2.3+, torch.cuda.amp before)."""

    def scale(self, outputs: torch.Tensor) -> torch.Tensor: ...
    def step(self, optimizer: torch.optim.Optimizer) -> object: ...
    def update(self) -> None: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class StepOutput:
    """What a step leaves behind: the detached fp32 loss (on the device), the Sinkhorn codes of the
    first assignment crop, that crop's scores and its L2-normalised embeddings (for prototype usage,
    code entropy and embedding spread)."""

    loss: torch.Tensor
    codes: torch.Tensor
    scores: torch.Tensor
    embeddings: torch.Tensor


class SwAVStep:
    """Forward all crops, compute Eq. 6 with Sinkhorn codes, backward, update.

    ``model`` is what runs forward (the DDP wrapper in a multi-process run), ``core`` the SwAVModel
    inside it (prototypes, normalisation). The forward may run under autocast; scores are cast to
    fp32 before the loss, so Sinkhorn and the log-softmax always run in fp32.
    """

    def __init__(
        self,
        model: nn.Module,
        core: SwAVModel,
        optimizer: torch.optim.Optimizer,
        swav_spec: Mapping[str, Any],
        batch_size: int,
        device: torch.device,
        amp_dtype: torch.dtype | None = None,
        scaler: GradScaler | None = None,
    ) -> None:
        self.model = model
        self.core = core
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.device = device
        self.amp_dtype = amp_dtype
        self.scaler = scaler
        self.crops_for_assign = [int(c) for c in swav_spec["crops_for_assign"]]
        self.temperature = float(swav_spec["temperature"])
        self.epsilon = float(swav_spec["epsilon"])
        self.iterations = int(swav_spec["sinkhorn_iterations"])
        self.assignment = str(swav_spec["assignment"])
        self.memory_format = core.memory_format

    def to_device(self, groups: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Move a collated batch (one tensor per resolution) to the device without blocking."""
        return [g.to(self.device, non_blocking=True, memory_format=self.memory_format) for g in groups]

    def __call__(
        self,
        groups: Sequence[torch.Tensor],
        lr: float,
        freeze_prototypes: bool,
        queue: FeatureQueue | None = None,
    ) -> StepOutput:
        """One step at learning rate ``lr``; ``queue`` (when active) joins Sinkhorn once full and
        then receives this batch's embeddings of the assignment crops."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.core.normalize_prototypes()
        with autocast(self.device, self.amp_dtype):
            embeddings, scores = self.model(list(groups))
        scores = scores.float()
        queue_scores = None
        if queue is not None and queue.is_full:
            with torch.no_grad():
                queue_scores = queue.scores(self.core.prototypes)
        loss, codes = swav_loss(
            scores,
            self.crops_for_assign,
            self.batch_size,
            temperature=self.temperature,
            epsilon=self.epsilon,
            iterations=self.iterations,
            queue_scores=queue_scores,
            assignment="hard" if self.assignment == "hard" else "soft",
            return_codes=True,
        )
        if queue is not None:
            b = self.batch_size
            queue.push([embeddings[c * b : (c + 1) * b].detach().float() for c in self.crops_for_assign])
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()
        if freeze_prototypes:
            cancel_prototype_gradients(self.core)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        first = self.crops_for_assign[0]
        rows = slice(first * self.batch_size, (first + 1) * self.batch_size)
        return StepOutput(
            loss=loss.detach(), codes=codes[0], scores=scores.detach()[rows], embeddings=embeddings.detach()[rows]
        )
