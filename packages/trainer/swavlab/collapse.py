"""Detects SwAV runs that collapsed, without crying wolf on healthy ones.

What collapse means for SwAV, in the signals of a log point (K prototypes, a batch of B samples):

* **one point**: the network maps every image to the same embedding, so the batch's L2-normalised
  embeddings have no spread (`embedding_spread` below ``SPREAD_COLLAPSED``; no recorded run came near it,
  healthy runs stay above 0.1). This warns on its own.
* **one prototype**: the batch's predictions fall on one prototype (or a handful when K and B are large:
  `prototype_usage` × K at most ``max(1, min(B, K) / 50)``);
* **uniform codes**: the codes are uniform over the prototypes (`code_entropy` within ``UNIFORM_TOLERANCE``
  of ln K) and the loss sits at ln K.

The last two are not collapse on their own. Recorded runs (tests/fixtures/collapse, written by
bench/collapse/record_signals.py and labelled by their k-NN against the same backbone at random init) show
healthy runs with both: at ε 0.05 with B < K a run sat at uniform codes and ln K while its k-NN beat random
init by 18 points, and hard codes from one Sinkhorn iteration put the batch on 1-3 of 100 prototypes while
its k-NN gained 20. A run on data it cannot learn shows the same numbers. So these symptoms, once they
have held for ``patience`` consecutive points, warn only when an evaluation then finds k-NN not above random
init (:meth:`CollapseDetector.evaluated`). Points taken while the prototypes are frozen are ignored, and the
warning fires once per run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ADVICE = [
    "lower the learning rate (optim.base_lr) or add warm-up epochs (optim.warmup_epochs)",
    "use a smaller Sinkhorn epsilon (swav.epsilon, e.g. 0.015-0.03) so that the codes are not uniform",
    "keep swav.prototypes at or below the samples Sinkhorn sees (optim.batch_size × ranks + swav.queue_length)",
    "freeze the prototypes for longer (swav.freeze_prototypes_iters)",
]

# Embeddings with less spread than this sit on one point (recorded runs, healthy or not, stayed above 0.05).
SPREAD_COLLAPSED = 0.02
# Relative distance to ln K within which the loss and the code entropy count as uniform.
UNIFORM_TOLERANCE = 0.01


@dataclass(frozen=True)
class CollapseWarning:
    """What the detector saw, ready to become a ``collapse_warning`` event."""

    step: int
    message: str
    advice: list[str]


class CollapseDetector:
    """Flags collapse after ``patience`` consecutive log points that show one of the symptoms above."""

    def __init__(self, prototypes: int, unfreeze_step: int, batch_size: int = 64, patience: int = 3) -> None:
        if prototypes < 2:
            raise ValueError("prototypes must be >= 2")
        if patience < 1:
            raise ValueError("patience must be >= 1")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.prototypes = prototypes
        self.unfreeze_step = unfreeze_step
        self.patience = patience
        self.uniform = math.log(prototypes)
        self.max_used = max(1.0, min(batch_size, prototypes) / 50.0)
        self.streak = 0
        self.suspect_streak = 0
        self.suspected: str | None = None
        self.warned = False

    def _suspect(self, loss: float, prototype_usage: float, code_entropy: float) -> str | None:
        """The symptom that needs an evaluation's confirmation, in words, or None."""
        used = prototype_usage * self.prototypes
        if used <= self.max_used + 1e-9:
            return f"the batch's predictions fell on {round(used)} of {self.prototypes} prototypes"
        near = UNIFORM_TOLERANCE * self.uniform
        if abs(loss - self.uniform) <= near and abs(code_entropy - self.uniform) <= near:
            return f"the codes were uniform with the loss at ln K = {self.uniform:.4f}"
        return None

    def _warn(self, step: int, seen: str) -> CollapseWarning:
        self.warned = True
        message = f"the run looks collapsed: {seen} (K = {self.prototypes})"
        return CollapseWarning(step=step, message=message, advice=list(ADVICE))

    def update(
        self, step: int, loss: float, prototype_usage: float, code_entropy: float, embedding_spread: float
    ) -> CollapseWarning | None:
        """Record one log point; warns the first time the embeddings have sat on one point for ``patience`` points."""
        if self.warned or step < self.unfreeze_step:
            return None
        seen = self._suspect(loss, prototype_usage, code_entropy)
        self.suspect_streak = self.suspect_streak + 1 if seen is not None else 0
        if self.suspect_streak >= self.patience and seen is not None:
            self.suspected = seen
        if embedding_spread >= SPREAD_COLLAPSED:
            self.streak = 0
            return None
        self.streak += 1
        if self.streak < self.patience:
            return None
        return self._warn(
            step, f"every image maps to the same embedding (spread {embedding_spread:.3f}) for {self.streak} log points"
        )

    def evaluated(self, step: int, knn: float, random_init: float) -> CollapseWarning | None:
        """An evaluation's k-NN and the random-init one beside it: confirms a suspected collapse."""
        if self.warned or self.suspected is None or knn > random_init:
            return None
        return self._warn(
            step,
            f"{self.suspected} for {self.patience}+ log points, and k-NN ({knn:.1%}) is not above the same "
            f"backbone at random init ({random_init:.1%})",
        )

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to keep counting (and not warn twice)."""
        return {
            "streak": self.streak,
            "suspect_streak": self.suspect_streak,
            "suspected": self.suspected,
            "warned": self.warned,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (checkpoints from before the suspected symptoms start without them)."""
        self.streak = int(state["streak"])
        self.suspect_streak = int(state.get("suspect_streak", 0))
        suspected = state.get("suspected")
        self.suspected = str(suspected) if suspected is not None else None
        self.warned = bool(state["warned"])
