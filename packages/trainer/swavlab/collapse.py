"""Detects the classic SwAV failure: every sample gets the same (uniform) code.

When SwAV collapses, Sinkhorn's equipartition constraint forces uniform codes q = 1/K, the
predictions become uniform too and the swapped-prediction loss sits at ln K (8.006 for K = 3000);
the arg-max of the scores lands on one or two prototypes for the whole batch. Users otherwise find
out days later, so the loop feeds every log point to :class:`CollapseDetector`, which raises one
warning with concrete remedies once the symptoms persist after the prototypes unfreeze.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ADVICE = [
    "freeze the prototypes for longer (swav.freeze_prototypes_iters)",
    "use a smaller Sinkhorn epsilon (swav.epsilon, e.g. 0.03)",
    "start the queue later or make it shorter (swav.queue_start_epoch, swav.queue_length)",
    "use more prototypes, about 10x the number of classes (swav.prototypes)",
]


@dataclass(frozen=True)
class CollapseWarning:
    """What the detector saw, ready to become a ``collapse_warning`` event."""

    step: int
    message: str
    advice: list[str]


class CollapseDetector:
    """Flags collapse after ``patience`` consecutive suspicious log points.

    A log point is suspicious when the loss is within ``loss_tolerance`` (relative) of ln K, or
    when the batch's prototype usage is at most 2/K. Points taken while the prototypes are still
    frozen are ignored (the loss legitimately starts near ln K). The warning fires once per run.
    """

    def __init__(
        self,
        prototypes: int,
        unfreeze_step: int,
        patience: int = 3,
        loss_tolerance: float = 0.01,
    ) -> None:
        if prototypes < 2:
            raise ValueError("prototypes must be >= 2")
        if patience < 1:
            raise ValueError("patience must be >= 1")
        self.prototypes = prototypes
        self.unfreeze_step = unfreeze_step
        self.patience = patience
        self.loss_tolerance = loss_tolerance
        self.uniform_loss = math.log(prototypes)
        self.streak = 0
        self.warned = False

    def update(self, step: int, loss: float, prototype_usage: float) -> CollapseWarning | None:
        """Record one log point; returns a warning the first time the collapse criterion holds."""
        if self.warned or step < self.unfreeze_step:
            return None
        near_uniform = abs(loss - self.uniform_loss) <= self.loss_tolerance * self.uniform_loss
        few_prototypes = prototype_usage <= 2.0 / self.prototypes + 1e-12
        if not (near_uniform or few_prototypes):
            self.streak = 0
            return None
        self.streak += 1
        if self.streak < self.patience:
            return None
        self.warned = True
        used = round(prototype_usage * self.prototypes)
        message = (
            f"the run looks collapsed: loss {loss:.4f} vs ln K = {self.uniform_loss:.4f} "
            f"(K = {self.prototypes}), {used} of {self.prototypes} prototypes used by the batch, "
            f"for {self.streak} consecutive log points"
        )
        return CollapseWarning(step=step, message=message, advice=list(ADVICE))

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to keep counting (and not warn twice)."""
        return {"streak": self.streak, "warned": self.warned}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.streak = int(state["streak"])
        self.warned = bool(state["warned"])
