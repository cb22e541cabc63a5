"""Evaluating the weights of a stored training checkpoint later, under an eval section that may differ
from the run's (the service's `POST /v1/runs/{id}/evaluations`, `python -m swavlab evaluate`).

The datasets come from the spec's `data` and `seed`, as in the run, so an evaluation of a run's last
checkpoint with the run's own eval section reproduces the run's final results (on the CPU, exactly).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .checkpoint import load_checkpoint
from .data import build_datasets, data_seed
from .evaluation import evaluate
from .evaluation.baseline import random_init_knn
from .events import Event, EventThrottle, eval_event, eval_progress_event
from .models import build_model
from .official import check_state
from .runtime import configure_threads, seed_everything, select_device
from .spec import SpecError, validate_spec

_EVALUATIONS = ("knn", "linear", "semisup")


def _load(checkpoint: str, field: str) -> dict[str, Any]:
    try:
        return load_checkpoint(checkpoint)
    except (OSError, ValueError) as error:
        raise SpecError([{"path": field, "message": str(error)}]) from error


def evaluate_checkpoint(
    spec: Mapping[str, Any],
    checkpoint: str | Path,
    on_event: Callable[[Event], object] | None = None,
    *,
    field: str = "checkpoint",
) -> dict[str, Any]:
    """Evaluates the model weights of `checkpoint` (written by :func:`swavlab.train`) as `spec["eval"]` asks.

    `spec` is the run's spec with the eval section to run. Emits `eval_progress` events while an
    evaluation trains and one `eval` event with the results, at the checkpoint's epoch and step. Returns
    `{"status": "succeeded", "epoch": E, "step": S, "evals": {...}}`. Raises SpecError for an invalid spec,
    an eval section that asks for nothing, data without labelled splits, and a checkpoint (named `field`
    in the error) that is missing, unreadable or does not hold this spec's model.
    """
    validated = validate_spec(spec)
    if all(validated["eval"][name] is None for name in _EVALUATIONS):
        message = "asks for no evaluation; set eval.knn, eval.linear or eval.semisup"
        raise SpecError([{"path": "eval", "message": message}])
    payload = _load(str(checkpoint), field)
    model = build_model(validated, channels_last=True)
    check_state(model.state_dict(), payload["model"], field, repr(str(checkpoint)))
    model.load_state_dict(payload["model"])
    # One process evaluates, whatever the run's ranks were.
    runtime = {**validated["runtime"], "gpus": 1, "processes": 1}
    device = select_device(runtime)
    configure_threads(int(runtime["threads"]))
    seed = int(validated["seed"])
    seed_everything(seed)
    datasets = build_datasets(validated["data"], data_seed(validated))
    if datasets.eval_train is None or datasets.eval_test is None:
        raise SpecError([{"path": "data", "message": "has no labelled images to evaluate on (no class folders)"}])
    events = EventThrottle(on_event)
    epoch, step = int(payload["epoch"]), int(payload["step"])
    values = evaluate(
        model.to(device).backbone,
        datasets.eval_train,
        datasets.eval_test,
        validated["eval"],
        device,
        seed,
        workers=int(runtime["workers"]),
        on_epoch=lambda evaluation, done, total, report: events.emit(
            eval_progress_event(evaluation, done, total, report)
        ),
    )
    if values:
        # As in a run: every k-NN result with the same backbone's at random init beside it (cached).
        values.update(random_init_knn(validated, datasets.eval_train, datasets.eval_test, device,
                                      workers=int(runtime["workers"])))
        events.emit(eval_event(epoch, step, values))
    events.flush()
    return {"status": "succeeded", "epoch": epoch, "step": step, "evals": {k: float(v) for k, v in values.items()}}
