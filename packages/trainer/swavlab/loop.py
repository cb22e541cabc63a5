"""The training loop of one rank: epochs of steps, log points, stop votes, checkpoints, evaluation, export.

It drives the parts :func:`swavlab.components.build_components` built and advances a
:class:`swavlab.run_state.RunState`; the semantics a caller sees are described in :mod:`swavlab.train`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

from . import distributed
from .checkpoint import CheckpointWriter, SavedCheckpoint, file_sha256
from .code_stats import code_statistics, embedding_spread
from .components import RunComponents
from .events import (
    EventThrottle,
    artifact_event,
    checkpoint_event,
    collapse_warning_event,
    diverged_event,
    eval_event,
    eval_progress_event,
    metrics_event,
    progress_event,
    status_event,
)
from .run_state import RunState
from .runtime import peak_memory_bytes, reset_peak_memory
from .step import StepOutput
from .stop import STOP

# The export of the final weights, next to the checkpoints.
BACKBONE_FILE = "backbone.pt"


class TrainingLoop:
    """Trains ``parts`` from ``state`` to the last epoch, or until stopped or diverged.

    Only rank 0 has a ``writer`` and an ``events`` sink that reaches the caller; every rank takes part in
    the collectives (votes, checkpoint gathers, barriers), so all ranks run the same sequence of them.
    """

    def __init__(
        self,
        parts: RunComponents,
        state: RunState,
        events: EventThrottle,
        should_stop: Callable[[], bool] | None,
        writer: CheckpointWriter | None,
    ) -> None:
        self.parts = parts
        self.state = state
        self.events = events
        self.should_stop = should_stop
        self.writer = writer
        # The throughput window since the last log point, and this session's start (for the ETA), are not
        # checkpointed: a resumed run measures its own.
        self.window_start = time.perf_counter()
        self.window_steps = 0
        self.session_start_step = state.step
        self.session_start_time = time.perf_counter()
        self.diverged_message = ""
        self.backbone: dict[str, Any] | None = None

    # --- checkpoints -------------------------------------------------------------------------

    def _weights_finite(self) -> bool:
        core = self.parts.core
        tensors = list(core.parameters()) + [b for b in core.buffers() if b.is_floating_point()]
        flags = torch.stack([torch.isfinite(t).all() for t in tensors])
        window_ok = torch.isfinite(self.state.loss_sum)
        return bool((flags.all() & window_ok).item())

    def save_checkpoint(self) -> bool:
        """Write a checkpoint of the current state; False (and nothing written) if it is not finite."""
        finite = self._agree_all(self._weights_finite())
        if not finite:
            self.diverged_message = "non-finite weights or loss found before writing a checkpoint"
            return False
        mine = self.state.rank_state()
        ranks = distributed.all_gather_object(mine) if self.parts.info.distributed else [mine]
        step = self.state.step
        if self.writer is not None and (self.writer.last is None or self.writer.last.step != step):
            payload = self.state.to_training_state(self.parts, ranks).to_payload()
            saved = self.writer.save(payload, self.state.epochs_completed, step)
            self.events.emit(checkpoint_event(str(saved.path), saved.sha256, saved.bytes, saved.epoch, saved.step))
        distributed.barrier()
        return True

    # --- distributed agreement ---------------------------------------------------------------

    def _agree_all(self, flag: bool) -> bool:
        """True only if every rank says True (one tiny all-reduce in a multi-process run)."""
        if not self.parts.info.distributed:
            return flag
        votes = distributed.all_reduce_sum(torch.tensor([0.0 if flag else 1.0], device=self.parts.device))
        return bool(votes.item() == 0)

    def _stop_requested_locally(self) -> bool:
        return STOP.is_set() or (self.should_stop is not None and bool(self.should_stop()))

    # --- the loop ----------------------------------------------------------------------------

    def _progress(self, epoch_index: int) -> None:
        step, total = self.state.step, self.parts.total_steps
        done = step - self.session_start_step
        elapsed = time.perf_counter() - self.session_start_time
        eta = (total - step) * elapsed / done if done > 0 else math.inf
        self.events.emit(progress_event(epoch_index + 1, step, total, eta))

    def _log_point(self, epoch_index: int, output: StepOutput, stop_local: bool) -> str:
        """Read the loss window (the only host sync of the loop); returns continue/stop/diverged."""
        parts, state = self.parts, self.state
        window = torch.stack(
            [state.loss_sum, torch.tensor(float(state.loss_count), dtype=torch.float64, device=parts.device),
             torch.tensor(1.0 if stop_local else 0.0, dtype=torch.float64, device=parts.device)]
        )
        if parts.info.distributed:
            distributed.all_reduce_sum(window)
        loss_sum, count, stops = window.tolist()
        loss = loss_sum / max(count, 1.0)
        if not math.isfinite(loss):
            self.diverged_message = f"the loss became non-finite ({loss}) by step {state.step}"
            return "diverged"
        elapsed = time.perf_counter() - self.window_start
        images = self.window_steps * parts.batch_size * parts.info.world_size
        stats = code_statistics(output.codes, output.scores)
        values = {
            "loss": loss,
            "lr": float(parts.schedule[state.step - 1]),
            "images_per_sec": images / elapsed if elapsed > 0 else 0.0,
            "prototype_usage": stats["prototype_usage"],
            "code_entropy": stats["code_entropy"],
            "embedding_spread": embedding_spread(output.embeddings),
        }
        state.final_metrics.update(values)
        self.events.emit(metrics_event(epoch_index + 1, state.step, values))
        warning = state.collapse.update(
            state.step, loss, stats["prototype_usage"], stats["code_entropy"], values["embedding_spread"]
        )
        if warning is not None:
            self.events.emit(collapse_warning_event(epoch_index + 1, state.step, warning.message, warning.advice))
        state.loss_sum.zero_()
        state.loss_count = 0
        self.window_start = time.perf_counter()
        self.window_steps = 0
        return "stop" if stops > 0 else "continue"

    def _train_epoch(self, epoch: int) -> str:
        """Train the rest of ``epoch``; returns ``completed``, ``stopped`` or ``diverged``."""
        parts, state = self.parts, self.state
        done_in_epoch = state.step - epoch * parts.iters_per_epoch
        parts.sampler.start_epoch(epoch, done_in_epoch)
        if parts.queue_length > 0 and epoch >= parts.queue_start_epoch and state.queue is None:
            state.queue = parts.new_queue()
        self.window_start = time.perf_counter()
        self.window_steps = 0
        for groups in parts.loader:
            stop_local = self._stop_requested_locally()
            if stop_local and not parts.info.distributed:
                return "stopped"
            batch = parts.step_fn.to_device(groups)
            output = parts.step_fn(
                batch,
                lr=float(parts.schedule[state.step]),
                freeze_prototypes=state.step < parts.freeze_iters,
                queue=state.queue,
            )
            state.loss_sum += output.loss
            state.loss_count += 1
            state.step += 1
            self.window_steps += 1
            self._progress(epoch)
            position = state.step - epoch * parts.iters_per_epoch
            if position % parts.log_every == 0 or position == parts.iters_per_epoch:
                outcome = self._log_point(epoch, output, stop_local)
                if outcome == "diverged":
                    return "diverged"
                if outcome == "stop":
                    return "stopped"
        return "completed"

    def _end_epoch(self, epoch_seconds: float) -> None:
        values = {"epoch_seconds": epoch_seconds, "peak_memory_bytes": float(peak_memory_bytes(self.parts.device))}
        self.state.final_metrics.update(values)
        self.events.emit(metrics_event(self.state.epochs_completed, self.state.step, values))

    def _eval_progress(self, evaluation: str, epoch: int, epochs: int, values: Mapping[str, float]) -> None:
        self.events.emit(eval_progress_event(evaluation, epoch, epochs, values))

    def evaluate(self) -> None:
        """The evaluations of ``spec.eval`` on the backbone (rank 0; labelled sources only)."""
        parts, state = self.parts, self.state
        eval_train, eval_test = parts.datasets.eval_train, parts.datasets.eval_test
        if parts.info.is_main and eval_train is not None and eval_test is not None:
            from .evaluation import evaluate
            from .evaluation.baseline import random_init_knn

            workers = int(parts.spec["runtime"]["workers"])
            values = evaluate(
                parts.core.backbone,
                eval_train,
                eval_test,
                parts.spec["eval"],
                parts.device,
                parts.seed,
                workers=workers,
                on_epoch=self._eval_progress,
            )
            # Beside every k-NN result, the same backbone's at random init (cached): did the run learn anything?
            if values:
                values.update(random_init_knn(parts.spec, eval_train, eval_test, parts.device, workers=workers))
                state.evals = {k: float(v) for k, v in values.items()}
                self.events.emit(eval_event(state.epochs_completed, state.step, values))
                self._check_learning(values)
        distributed.barrier()

    def _check_learning(self, values: Mapping[str, float]) -> None:
        """Hands the collapse detector the smallest k's k-NN and its random-init baseline."""
        eval_spec, state = self.parts.spec["eval"], self.state
        ks = sorted(int(k) for k in eval_spec["knn"]["k"]) if eval_spec.get("knn") else []
        for k in ks:
            knn, baseline = values.get(f"knn_top1@{k}"), values.get(f"random_init_knn_top1@{k}")
            if knn is None or baseline is None:
                continue
            warning = state.collapse.evaluated(state.step, float(knn), float(baseline))
            if warning is not None:
                self.events.emit(
                    collapse_warning_event(state.epochs_completed, state.step, warning.message, warning.advice)
                )
            return

    def execute(self) -> dict[str, Any]:
        """Train to the last epoch (or until stopped/diverged); returns the result dict."""
        parts, state = self.parts, self.state
        self.events.emit(status_event("running"))
        checkpoint_every = int(parts.spec["checkpoint"]["every_epochs"])
        eval_every = int(parts.spec["eval"]["every_epochs"])
        self.session_start_time = time.perf_counter()
        for epoch in range(state.epochs_completed, parts.epochs):
            reset_peak_memory(parts.device)
            started = time.perf_counter()
            outcome = self._train_epoch(epoch)
            if outcome == "diverged":
                return self._finish("diverged")
            if outcome == "stopped":
                return self._finish("canceled" if self.save_checkpoint() else "diverged")
            state.epochs_completed = epoch + 1
            self._end_epoch(time.perf_counter() - started)
            last = state.epochs_completed == parts.epochs
            if (last or (checkpoint_every > 0 and state.epochs_completed % checkpoint_every == 0)) and not (
                self.save_checkpoint()
            ):
                return self._finish("diverged")
            if not last and eval_every > 0 and state.epochs_completed % eval_every == 0:
                self.evaluate()
        if parts.epochs == 0:
            # Nothing trains: the initial weights are the run's result, checkpointed before they are evaluated.
            self.events.emit(progress_event(0, 0, 0, 0.0))
            if not self.save_checkpoint():
                return self._finish("diverged")
        if state.step > self.session_start_step or not state.evals:
            self.evaluate()
        self.export_backbone()
        return self._finish("succeeded")

    def export_backbone(self) -> None:
        """Write ``backbone.pt`` (torchvision-loadable where the arch allows) from the last checkpoint (rank 0)."""
        if self.writer is None or self.writer.last is None:
            return
        from .export import export_backbone

        path = export_backbone(self.writer.last.path, self.writer.directory / BACKBONE_FILE)
        sha256, size = file_sha256(path), path.stat().st_size
        self.backbone = {"path": str(path), "sha256": sha256, "bytes": size, "step": self.state.step}
        self.events.emit(artifact_event("backbone", str(path), sha256, size, self.state.step))

    def _finish(self, status: str) -> dict[str, Any]:
        state = self.state
        error = None
        if status == "diverged":
            self.events.emit(diverged_event(state.epochs_completed + 1, state.step, self.diverged_message))
            error = {"kind": "diverged", "message": self.diverged_message, "traceback": None}
        self.events.emit(status_event(status))
        self.events.flush()
        last: SavedCheckpoint | None = self.writer.last if self.writer is not None else None
        return {
            "status": status,
            "epochs_completed": state.epochs_completed,
            "steps": state.step,
            "final_metrics": dict(state.final_metrics),
            "evals": dict(state.evals),
            "last_checkpoint": last.as_dict() if last is not None else None,
            "backbone": self.backbone,
            "error": error,
        }
