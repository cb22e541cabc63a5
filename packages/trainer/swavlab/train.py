"""The SwAV training run: from a spec to checkpoints, events, evaluations and a result dict.

Semantics a caller can rely on (details in packages/trainer/README.md):

* ``epoch`` in checkpoints and ``eval`` events counts *completed* epochs; in ``progress`` and
  ``metrics`` it is the 1-based epoch the step belongs to (the two agree at epoch boundaries).
  ``step`` always counts completed optimiser steps (global iterations).
* Checkpoints are written every ``checkpoint.every_epochs`` epochs, at the end and when stopped,
  never with non-finite weights. ``resume_from`` continues the same run: model, optimiser, scaler,
  schedule position, queue, RNG states, the collapse detector and the open loss window are
  restored, and the epoch's data order and augmentations are functions of (seed, epoch, index), so
  a resumed run (also from a mid-epoch stop, whose done batches are skipped) trains on exactly the
  batches the uninterrupted run would have.
* Stopping (``should_stop()``, SIGUSR1/SIGINT via :mod:`swavlab.stop`) is checked before every
  step (at every log point in a multi-process run, where the ranks must agree), writes a
  checkpoint and returns ``canceled``. A non-finite loss returns ``diverged`` without a checkpoint.
* A fresh run starts from ``model.init_from`` when the spec names one (a checkpoint in the authors'
  release format, :mod:`swavlab.official`); a resumed run from its own checkpoint.
* ``optim.epochs`` 0 trains nothing: the run checkpoints, evaluates and exports its initial weights.
* Invalid specs raise :class:`swavlab.spec.SpecError`; :func:`swavlab.bridge.run` turns exceptions
  into ``failed`` results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from . import distributed
from .amp import autocast_dtype, make_grad_scaler
from .canonical import canonical_json
from .checkpoint import CheckpointWriter, SavedCheckpoint, TrainingState, file_sha256, load_checkpoint
from .code_stats import code_statistics, embedding_spread
from .collapse import CollapseDetector
from .events import (
    Event,
    EventThrottle,
    artifact_event,
    collapse_warning_event,
    dataset_event,
    diverged_event,
    eval_event,
    eval_progress_event,
    metrics_event,
    progress_event,
    status_event,
)
from .feature_queue import FeatureQueue
from .launcher import RankFailed, RankProcesses
from .loader import build_train_loader
from .models import SwAVModel, build_model
from .optim import build_optimizer, lr_schedule
from .runtime import (
    capture_rng_state,
    configure_threads,
    peak_memory_bytes,
    reset_peak_memory,
    restore_rng_state,
    seed_everything,
    select_device,
)
from .spec import TRAINING_SECTIONS, SpecError, rank_count, spec_hash, training_hash, validate_spec
from .step import StepOutput, SwAVStep
from .stop import STOP

# The export of the final weights, next to the checkpoints.
BACKBONE_FILE = "backbone.pt"


def default_out_dir(spec: Mapping[str, Any]) -> Path:
    """``./.swavlab/runs/<first 16 hex digits of the spec hash>``."""
    return Path(".swavlab") / "runs" / spec_hash(spec)[:16]


def log_interval(iters_per_epoch: int) -> int:
    """Steps between log points: about 8 per epoch, at most every 50 steps, at least every step."""
    return max(1, min(50, iters_per_epoch // 8))


def _check_resumable(spec: Mapping[str, Any], saved_spec: Mapping[str, Any], path: str) -> None:
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


def _data_module() -> Any:
    # Imported on first use: it pulls in torchvision and PIL, which `import swavlab` should not pay for.
    from . import data

    return data


class _Run:
    """State of one training run (one process of it under torchrun)."""

    def __init__(
        self,
        spec: dict[str, Any],
        device: torch.device,
        info: distributed.LaunchInfo,
        on_event: Callable[[Event], object] | None,
        should_stop: Callable[[], bool] | None,
        out_dir: Path,
        *,
        fresh: bool,
    ) -> None:
        self.spec = spec
        self.device = device
        self.info = info
        self.should_stop = should_stop
        self.events = EventThrottle(on_event if info.is_main else None)
        optim, swav, runtime = spec["optim"], spec["swav"], spec["runtime"]
        self.seed = int(spec["seed"])
        self.epochs = int(optim["epochs"])
        self.batch_size = int(optim["batch_size"])

        configure_threads(int(runtime["threads"]), info.local_world_size)
        seed_everything(self.seed)
        data = _data_module()
        self.datasets = data.build_datasets(spec["data"], data.data_seed(spec))
        self.events.emit(dataset_event(self.datasets.summary()))
        crops = data.MultiCropDataset(self.datasets.pretrain, swav["crops"], self.seed, spec["data"]["augment"])
        self.loader, self.sampler = build_train_loader(
            crops,
            self.batch_size,
            self.seed,
            int(runtime["workers"]),
            info.rank,
            info.world_size,
            pin_memory=device.type == "cuda",
        )
        self.iters_per_epoch = self.sampler.batches_per_epoch
        if self.iters_per_epoch < 1 and self.epochs > 0:
            raise SpecError(
                [
                    {
                        "path": "optim.batch_size",
                        "message": f"{self.batch_size} is larger than the {self.sampler.num_samples} training "
                        "images each process sees; lower it or add images",
                    }
                ]
            )
        self.total_steps = self.epochs * self.iters_per_epoch
        self.log_every = log_interval(self.iters_per_epoch)

        self.core: SwAVModel = build_model(spec, channels_last=True)
        if fresh and "init_from" in spec["model"]:
            from .official import load_release_weights

            load_release_weights(self.core, str(spec["model"]["init_from"]))
        self.core.to(device)
        self.model = distributed.wrap_model(self.core, info, device, bool(runtime["sync_bn"]))
        self.optimizer = build_optimizer(self.core, optim)
        # Without epochs there is nothing to schedule.
        self.schedule = np.zeros(0) if self.epochs == 0 else lr_schedule(
            float(optim["base_lr"]),
            float(optim["final_lr"]),
            self.epochs,
            self.iters_per_epoch,
            int(optim["warmup_epochs"]),
            float(optim["start_warmup"]),
        )
        amp = autocast_dtype(str(runtime["precision"]), device)
        self.scaler = make_grad_scaler(amp, device)
        self.step_fn = SwAVStep(self.model, self.core, self.optimizer, swav, self.batch_size, device, amp, self.scaler)
        self.freeze_iters = int(swav["freeze_prototypes_iters"])
        self.queue_start_epoch = int(swav["queue_start_epoch"])
        self.queue_length = int(swav["queue_length"]) // info.world_size
        self.queue: FeatureQueue | None = None
        self.collapse = CollapseDetector(
            int(swav["prototypes"]), unfreeze_step=self.freeze_iters, batch_size=self.batch_size
        )

        self.step = 0
        self.epochs_completed = 0
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self.loss_count = 0
        self.window_start = time.perf_counter()
        self.window_steps = 0
        self.final_metrics: dict[str, float] = {}
        self.evals: dict[str, float] = {}
        self.diverged_message = ""
        self.backbone: dict[str, Any] | None = None
        self.session_start_step = 0
        self.session_start_time = time.perf_counter()

        self.writer: CheckpointWriter | None = None
        if info.is_main:
            self.writer = CheckpointWriter(out_dir, int(spec["checkpoint"]["keep_last"]))

    # --- checkpoints -------------------------------------------------------------------------

    def _rank_states(self) -> list[dict[str, Any]]:
        """Every rank's own state (its queue and RNG streams), gathered from all ranks (a collective)."""
        queue = self.queue.state_dict() if self.queue is not None else None
        if queue is not None:
            queue = {**queue, "embeddings": queue["embeddings"].cpu()}
        state = {"queue": queue, "rng": capture_rng_state()}
        if not self.info.distributed:
            return [state]
        gathered: list[Any] = [None] * self.info.world_size
        dist.all_gather_object(gathered, state)
        return gathered

    def _state(self, rank_states: list[dict[str, Any]]) -> TrainingState:
        return TrainingState(
            spec=self.spec,
            model=self.core.state_dict(),
            optimizer=self.optimizer.state_dict(),
            scaler=self.scaler.state_dict() if self.scaler is not None else None,
            epoch=self.epochs_completed,
            step=self.step,
            schedule={
                "iteration": self.step,
                "lr": float(self.schedule[min(self.step, self.total_steps - 1)]) if self.total_steps > 0 else None,
            },
            world_size=self.info.world_size,
            ranks=rank_states,
            metrics={
                "collapse": self.collapse.state_dict(),
                "loss_window": {"sum": float(self.loss_sum.item()), "count": self.loss_count},
                "final_metrics": {k: float(v) for k, v in self.final_metrics.items()},
                "evals": {k: float(v) for k, v in self.evals.items()},
            },
            torch_version=torch.__version__,
        )

    def _weights_finite(self) -> bool:
        tensors = list(self.core.parameters()) + [b for b in self.core.buffers() if b.is_floating_point()]
        flags = torch.stack([torch.isfinite(t).all() for t in tensors])
        window_ok = torch.isfinite(self.loss_sum)
        return bool((flags.all() & window_ok).item())

    def save_checkpoint(self) -> bool:
        """Write a checkpoint of the current state; False (and nothing written) if it is not finite."""
        finite = self._agree_all(self._weights_finite())
        if not finite:
            self.diverged_message = "non-finite weights or loss found before writing a checkpoint"
            return False
        rank_states = self._rank_states()
        if self.writer is not None and (self.writer.last is None or self.writer.last.step != self.step):
            saved = self.writer.save(self._state(rank_states).to_payload(), self.epochs_completed, self.step)
            self.events.emit({"type": "checkpoint", **saved.as_dict()})
        distributed.barrier()
        return True

    def resume(self, path: str) -> None:
        """Continue from a checkpoint written by a run of the same spec."""
        state = TrainingState.from_payload(load_checkpoint(path))
        _check_resumable(self.spec, state.spec, path)
        self.core.load_state_dict(state.model)
        self.optimizer.load_state_dict(state.optimizer)
        if self.scaler is not None and state.scaler is not None:
            self.scaler.load_state_dict(state.scaler)
        self.step = state.step
        self.epochs_completed = state.epoch
        mine = state.rank_state(self.info.rank, self.info.world_size, path)
        if mine["queue"] is not None:
            self.queue = self._new_queue()
            self.queue.load_state_dict(mine["queue"])
        restore_rng_state(mine["rng"])
        metrics = state.metrics
        self.collapse.load_state_dict(metrics["collapse"])
        window = metrics["loss_window"]
        self.loss_sum.fill_(float(window["sum"]))
        self.loss_count = int(window["count"])
        self.final_metrics = dict(metrics["final_metrics"])
        self.evals = dict(metrics["evals"])
        self.session_start_step = self.step

    # --- distributed agreement ---------------------------------------------------------------

    def _agree_all(self, flag: bool) -> bool:
        """True only if every rank says True (one tiny all-reduce in a multi-process run)."""
        if not self.info.distributed:
            return flag
        votes = distributed.all_reduce_sum(torch.tensor([0.0 if flag else 1.0], device=self.device))
        return bool(votes.item() == 0)

    def _stop_requested_locally(self) -> bool:
        return STOP.is_set() or (self.should_stop is not None and bool(self.should_stop()))

    # --- the loop ----------------------------------------------------------------------------

    def _new_queue(self) -> FeatureQueue:
        return FeatureQueue(
            len(self.step_fn.crops_for_assign),
            self.queue_length,
            int(self.spec["model"]["feat_dim"]),
            device=self.device,
        )

    def _progress(self, epoch_index: int) -> None:
        done = self.step - self.session_start_step
        elapsed = time.perf_counter() - self.session_start_time
        eta = (self.total_steps - self.step) * elapsed / done if done > 0 else math.inf
        self.events.emit(progress_event(epoch_index + 1, self.step, self.total_steps, eta))

    def _log_point(self, epoch_index: int, output: StepOutput, stop_local: bool) -> str:
        """Read the loss window (the only host sync of the loop); returns continue/stop/diverged."""
        window = torch.stack(
            [self.loss_sum, torch.tensor(float(self.loss_count), dtype=torch.float64, device=self.device),
             torch.tensor(1.0 if stop_local else 0.0, dtype=torch.float64, device=self.device)]
        )
        if self.info.distributed:
            distributed.all_reduce_sum(window)
        loss_sum, count, stops = window.tolist()
        loss = loss_sum / max(count, 1.0)
        if not math.isfinite(loss):
            self.diverged_message = f"the loss became non-finite ({loss}) by step {self.step}"
            return "diverged"
        elapsed = time.perf_counter() - self.window_start
        images = self.window_steps * self.batch_size * self.info.world_size
        stats = code_statistics(output.codes, output.scores)
        values = {
            "loss": loss,
            "lr": float(self.schedule[self.step - 1]),
            "images_per_sec": images / elapsed if elapsed > 0 else 0.0,
            "prototype_usage": stats["prototype_usage"],
            "code_entropy": stats["code_entropy"],
            "embedding_spread": embedding_spread(output.embeddings),
        }
        self.final_metrics.update(values)
        self.events.emit(metrics_event(epoch_index + 1, self.step, values))
        warning = self.collapse.update(
            self.step, loss, stats["prototype_usage"], stats["code_entropy"], values["embedding_spread"]
        )
        if warning is not None:
            self.events.emit(collapse_warning_event(epoch_index + 1, self.step, warning.message, warning.advice))
        self.loss_sum.zero_()
        self.loss_count = 0
        self.window_start = time.perf_counter()
        self.window_steps = 0
        return "stop" if stops > 0 else "continue"

    def _train_epoch(self, epoch: int) -> str:
        """Train the rest of ``epoch``; returns ``completed``, ``stopped`` or ``diverged``."""
        done_in_epoch = self.step - epoch * self.iters_per_epoch
        self.sampler.start_epoch(epoch, done_in_epoch)
        if self.queue_length > 0 and epoch >= self.queue_start_epoch and self.queue is None:
            self.queue = self._new_queue()
        self.window_start = time.perf_counter()
        self.window_steps = 0
        for groups in self.loader:
            stop_local = self._stop_requested_locally()
            if stop_local and not self.info.distributed:
                return "stopped"
            batch = self.step_fn.to_device(groups)
            output = self.step_fn(
                batch,
                lr=float(self.schedule[self.step]),
                freeze_prototypes=self.step < self.freeze_iters,
                queue=self.queue,
            )
            self.loss_sum += output.loss
            self.loss_count += 1
            self.step += 1
            self.window_steps += 1
            self._progress(epoch)
            position = self.step - epoch * self.iters_per_epoch
            if position % self.log_every == 0 or position == self.iters_per_epoch:
                outcome = self._log_point(epoch, output, stop_local)
                if outcome == "diverged":
                    return "diverged"
                if outcome == "stop":
                    return "stopped"
        return "completed"

    def _end_epoch(self, epoch_seconds: float) -> None:
        values = {"epoch_seconds": epoch_seconds, "peak_memory_bytes": float(peak_memory_bytes(self.device))}
        self.final_metrics.update(values)
        self.events.emit(metrics_event(self.epochs_completed, self.step, values))

    def _eval_progress(self, evaluation: str, epoch: int, epochs: int, values: Mapping[str, float]) -> None:
        self.events.emit(eval_progress_event(evaluation, epoch, epochs, values))

    def evaluate(self) -> None:
        """The evaluations of ``spec.eval`` on the backbone (rank 0; labelled sources only)."""
        eval_train, eval_test = self.datasets.eval_train, self.datasets.eval_test
        if self.info.is_main and eval_train is not None and eval_test is not None:
            from .evaluation import evaluate
            from .evaluation.baseline import random_init_knn

            workers = int(self.spec["runtime"]["workers"])
            values = evaluate(
                self.core.backbone,
                eval_train,
                eval_test,
                self.spec["eval"],
                self.device,
                self.seed,
                workers=workers,
                on_epoch=self._eval_progress,
            )
            # Beside every k-NN result, the same backbone's at random init (cached): did the run learn anything?
            if values:
                values.update(random_init_knn(self.spec, eval_train, eval_test, self.device, workers=workers))
                self.evals = {k: float(v) for k, v in values.items()}
                self.events.emit(eval_event(self.epochs_completed, self.step, values))
                self._check_learning(values)
        distributed.barrier()

    def _check_learning(self, values: Mapping[str, float]) -> None:
        """Hands the collapse detector the smallest k's k-NN and its random-init baseline."""
        ks = sorted(int(k) for k in self.spec["eval"]["knn"]["k"]) if self.spec["eval"].get("knn") else []
        for k in ks:
            knn, baseline = values.get(f"knn_top1@{k}"), values.get(f"random_init_knn_top1@{k}")
            if knn is None or baseline is None:
                continue
            warning = self.collapse.evaluated(self.step, float(knn), float(baseline))
            if warning is not None:
                self.events.emit(
                    collapse_warning_event(self.epochs_completed, self.step, warning.message, warning.advice)
                )
            return

    def execute(self) -> dict[str, Any]:
        """Train to the last epoch (or until stopped/diverged); returns the result dict."""
        self.events.emit(status_event("running"))
        checkpoint_every = int(self.spec["checkpoint"]["every_epochs"])
        eval_every = int(self.spec["eval"]["every_epochs"])
        self.session_start_time = time.perf_counter()
        for epoch in range(self.epochs_completed, self.epochs):
            reset_peak_memory(self.device)
            started = time.perf_counter()
            outcome = self._train_epoch(epoch)
            if outcome == "diverged":
                return self._finish("diverged")
            if outcome == "stopped":
                return self._finish("canceled" if self.save_checkpoint() else "diverged")
            self.epochs_completed = epoch + 1
            self._end_epoch(time.perf_counter() - started)
            last = self.epochs_completed == self.epochs
            if (last or (checkpoint_every > 0 and self.epochs_completed % checkpoint_every == 0)) and not (
                self.save_checkpoint()
            ):
                return self._finish("diverged")
            if not last and eval_every > 0 and self.epochs_completed % eval_every == 0:
                self.evaluate()
        if self.epochs == 0:
            # Nothing trains: the initial weights are the run's result, checkpointed before they are evaluated.
            self.events.emit(progress_event(0, 0, 0, 0.0))
            if not self.save_checkpoint():
                return self._finish("diverged")
        if self.step > self.session_start_step or not self.evals:
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
        self.backbone = {"path": str(path), "sha256": sha256, "bytes": size, "step": self.step}
        self.events.emit(artifact_event("backbone", str(path), sha256, size, self.step))

    def _finish(self, status: str) -> dict[str, Any]:
        error = None
        if status == "diverged":
            self.events.emit(diverged_event(self.epochs_completed + 1, self.step, self.diverged_message))
            error = {"kind": "diverged", "message": self.diverged_message, "traceback": None}
        self.events.emit(status_event(status))
        self.events.flush()
        last: SavedCheckpoint | None = self.writer.last if self.writer is not None else None
        return {
            "status": status,
            "epochs_completed": self.epochs_completed,
            "steps": self.step,
            "final_metrics": dict(self.final_metrics),
            "evals": dict(self.evals),
            "last_checkpoint": last.as_dict() if last is not None else None,
            "backbone": self.backbone,
            "error": error,
        }


def train(
    spec: Mapping[str, Any],
    on_event: Callable[[Event], object] | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    out_dir: str | Path | None = None,
    resume_from: str | Path | None = None,
) -> dict[str, Any]:
    """Run SwAV pretraining for ``spec``; returns the result dict (see the module docstring).

    ``on_event`` receives event dicts (at most ~10 per second; checkpoint, eval, collapse_warning,
    diverged and status events are never dropped). ``should_stop`` is polled before every step.
    ``out_dir`` holds the checkpoints (default ``./.swavlab/runs/<spec hash>``); ``resume_from``
    is a checkpoint of the same spec to continue from.
    """
    validated = validate_spec(spec)
    ranks = rank_count(validated["runtime"])
    info = distributed.launch_info_from_env()
    launching = ranks > 1 and not info.distributed
    if launching:
        info = distributed.LaunchInfo(world_size=ranks, rank=0, local_rank=0, local_world_size=ranks)
    elif info.world_size != ranks:
        field = "runtime.gpus" if int(validated["runtime"]["gpus"]) > 1 else "runtime.processes"
        raise SpecError(
            [{"path": field, "message": f"the spec asks for {ranks} ranks but the launcher started {info.world_size}"}]
        )
    device = select_device(validated["runtime"], info.local_rank)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # crop sizes are fixed: pick the fastest kernels once
    autocast_dtype(str(validated["runtime"]["precision"]), device)  # reject unusable precisions first
    directory = Path(out_dir) if out_dir is not None else default_out_dir(validated)
    owns_group = info.distributed and not dist.is_initialized()
    store: dist.TCPStore | None = None
    others: RankProcesses | None = None
    if launching:
        # Port 0: the store binds a free port itself, so two runs on one host never race for one.
        store = dist.TCPStore("127.0.0.1", 0, ranks, True, distributed.COLLECTIVE_TIMEOUT, wait_for_workers=False)
        resume = str(resume_from) if resume_from is not None else None
        others = RankProcesses(ranks, int(store.port), validated, directory, resume)
    try:
        distributed.init_process_group(info, device, store)
        run = _Run(validated, device, info, on_event, should_stop, directory, fresh=resume_from is None)
        if resume_from is not None:
            run.resume(str(resume_from))
        result = run.execute()
    except BaseException as error:
        if others is not None:
            try:
                others.close(ok=False)
            except RankFailed as failed:
                # Every rank checks the spec alike: rank 0's SpecError is the cause, not the others' exit.
                if not isinstance(error, SpecError):
                    raise failed from error
        raise
    else:
        if others is not None:
            others.close(ok=True)
        return result
    finally:
        STOP.clear()
        if owns_group:
            distributed.destroy_process_group()
