"""A run's progress, and its conversion to and from a checkpoint's :class:`TrainingState`.

What changes while a run trains and must survive a stop lives here: the step and epoch counters, the
open loss window, the metrics and evaluations so far, the collapse detector and this rank's feature
queue. Together with the model, optimiser and scaler of :class:`RunComponents` that is everything a
resumed run needs to train on exactly as the uninterrupted run would have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from .canonical import canonical_json
from .checkpoint import TrainingState, load_checkpoint
from .collapse import CollapseDetector
from .components import RunComponents
from .feature_queue import FeatureQueue
from .runtime import capture_rng_state, restore_rng_state
from .spec import TRAINING_SECTIONS, SpecError, training_hash


def check_resumable(spec: Mapping[str, Any], saved_spec: Mapping[str, Any], path: str) -> None:
    """A checkpoint resumes a spec with its training hash; otherwise the differing training sections are named."""
    if training_hash(spec) == training_hash(saved_spec):
        return
    differing = [
        name for name in TRAINING_SECTIONS if canonical_json(spec.get(name)) != canonical_json(saved_spec.get(name))
    ]
    if differing:
        raise SpecError(
            [
                {
                    "path": name,
                    "message": f"differs from the spec stored in the checkpoint {path}; resume needs the same run",
                }
                for name in differing
            ]
        )


@dataclass
class RunState:
    """The progress of one rank. ``loss_sum`` stays on the device (summed without a host sync) and, with
    ``loss_count``, is the loss window since the last log point; ``queue`` exists once the queue starts."""

    collapse: CollapseDetector
    loss_sum: torch.Tensor
    step: int = 0
    epochs_completed: int = 0
    loss_count: int = 0
    queue: FeatureQueue | None = None
    final_metrics: dict[str, float] = field(default_factory=dict)
    evals: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fresh(cls, parts: RunComponents) -> RunState:
        """The state before the first step."""
        collapse = CollapseDetector(
            int(parts.spec["swav"]["prototypes"]), unfreeze_step=parts.freeze_iters, batch_size=parts.batch_size
        )
        return cls(collapse=collapse, loss_sum=torch.zeros((), dtype=torch.float64, device=parts.device))

    @classmethod
    def from_checkpoint(cls, path: str, parts: RunComponents) -> RunState:
        """Load the checkpoint at ``path``, written by a run of the same spec, into ``parts`` and this process
        (its RNG streams); returns the progress it holds."""
        saved = TrainingState.from_payload(load_checkpoint(path))
        check_resumable(parts.spec, saved.spec, path)
        parts.core.load_state_dict(saved.model)
        parts.optimizer.load_state_dict(saved.optimizer)
        if parts.scaler is not None and saved.scaler is not None:
            parts.scaler.load_state_dict(saved.scaler)
        state = cls.fresh(parts)
        state.step = saved.step
        state.epochs_completed = saved.epoch
        mine = saved.rank_state(parts.info.rank, parts.info.world_size, path)
        if mine["queue"] is not None:
            state.queue = parts.new_queue()
            state.queue.load_state_dict(mine["queue"])
        restore_rng_state(mine["rng"])
        metrics = saved.metrics
        state.collapse.load_state_dict(metrics["collapse"])
        window = metrics["loss_window"]
        state.loss_sum.fill_(float(window["sum"]))
        state.loss_count = int(window["count"])
        state.final_metrics = dict(metrics["final_metrics"])
        state.evals = dict(metrics["evals"])
        return state

    def rank_state(self) -> dict[str, Any]:
        """This rank's own part of a checkpoint: its queue (on the CPU) and its RNG streams."""
        queue = self.queue.state_dict() if self.queue is not None else None
        if queue is not None:
            queue = {**queue, "embeddings": queue["embeddings"].cpu()}
        return {"queue": queue, "rng": capture_rng_state()}

    def to_training_state(self, parts: RunComponents, ranks: list[dict[str, Any]]) -> TrainingState:
        """The checkpoint of this state with ``parts``' weights; ``ranks`` holds every rank's :meth:`rank_state`."""
        return TrainingState(
            spec=parts.spec,
            model=parts.core.state_dict(),
            optimizer=parts.optimizer.state_dict(),
            scaler=parts.scaler.state_dict() if parts.scaler is not None else None,
            epoch=self.epochs_completed,
            step=self.step,
            schedule={
                "iteration": self.step,
                "lr": float(parts.schedule[min(self.step, parts.total_steps - 1)]) if parts.total_steps > 0 else None,
            },
            world_size=parts.info.world_size,
            ranks=ranks,
            metrics={
                "collapse": self.collapse.state_dict(),
                "loss_window": {"sum": float(self.loss_sum.item()), "count": self.loss_count},
                "final_metrics": {k: float(v) for k, v in self.final_metrics.items()},
                "evals": {k: float(v) for k, v in self.evals.items()},
            },
            torch_version=torch.__version__,
        )
