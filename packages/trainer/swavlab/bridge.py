"""The entry points the Node worker calls through pythonia (``run`` a training job, ``evaluate`` a
stored checkpoint): JSON strings in, JSON strings out.

Hardened per docs/pythonia.md (repository root): at import this module offsets pythonia's request counter
(Python and JS ids could otherwise collide under two-way traffic), asks Linux to SIGKILL this
process when its parent dies (an orphaned trainer would keep a GPU busy), and routes SIGUSR1 to
the cooperative stop flag. Everything that crosses is a JSON string made with ``allow_nan=False``
(a NaN crashes Node); exceptions never cross as exceptions, because pythonia delivers them with
an empty message: they come back inside the result, traceback included.
"""

from __future__ import annotations

import json
import math
import os
import signal
import traceback
from collections.abc import Callable
from typing import Any

from .cpu_memory import keep_freed_memory
from .libc import die_with_parent
from .spec import SpecError
from .stop import STOP, install_stop_signal
from .train import train

_REQUEST_ID_OFFSET = 10**12
_OPTION_KEYS = frozenset({"out_dir", "resume_from"})
_EVALUATE_OPTION_KEYS = frozenset({"checkpoint"})


def _offset_pythonia_request_ids() -> None:
    bridge = vars(os).get("JSPyBridge")  # set by pythonia's Python side; absent when imported directly
    executor = getattr(bridge, "_exe", None) if bridge is not None else None
    if executor is not None and isinstance(getattr(executor, "i", None), int):
        executor.i = max(executor.i, _REQUEST_ID_OFFSET)


_offset_pythonia_request_ids()
die_with_parent()
install_stop_signal(signal.SIGUSR1)


def json_safe(value: Any) -> Any:
    """Copy of ``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """Strict JSON (``allow_nan=False``) of a sanitised copy of ``value``."""
    return json.dumps(json_safe(value), allow_nan=False)


def failure_result(kind: str, error: BaseException) -> dict[str, Any]:
    """A ``failed`` run result carrying the error's kind, message and traceback."""
    details: dict[str, Any] = {
        "kind": kind,
        "message": str(error) or type(error).__name__,
        "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
    }
    if isinstance(error, SpecError):
        details["errors"] = error.errors
    return {
        "status": "failed",
        "epochs_completed": 0,
        "steps": 0,
        "final_metrics": {},
        "evals": {},
        "last_checkpoint": None,
        "backbone": None,
        "error": details,
    }


def parse_options(
    options_json: str, keys: frozenset[str] = _OPTION_KEYS, required: frozenset[str] = frozenset()
) -> dict[str, str | None]:
    """Options with string-or-null values: by default run()'s ``{"out_dir", "resume_from"}``.

    Keys outside ``keys`` are rejected, and ``required`` ones must be strings.
    """
    try:
        options = json.loads(options_json or "{}")
    except json.JSONDecodeError as error:
        raise SpecError([{"path": "options", "message": f"not valid JSON: {error.msg}"}]) from error
    if not isinstance(options, dict):
        raise SpecError([{"path": "options", "message": "must be a JSON object"}])
    errors = [{"path": f"options.{key}", "message": "unknown option"} for key in options if key not in keys]
    errors += [
        {"path": f"options.{key}", "message": "is required"} for key in sorted(required) if options.get(key) is None
    ]
    errors += [
        {"path": f"options.{key}", "message": "must be a string or null"}
        for key in sorted(keys)
        if options.get(key) is not None and not isinstance(options.get(key), str)
    ]
    if errors:
        raise SpecError(errors)
    return {key: options.get(key) for key in keys}


def _parse_spec(spec_json: str) -> dict[str, Any]:
    try:
        spec = json.loads(spec_json)
    except json.JSONDecodeError as error:
        raise SpecError([{"path": "", "message": f"spec is not valid JSON: {error.msg}"}]) from error
    if not isinstance(spec, dict):
        raise SpecError([{"path": "", "message": "spec must be a JSON object"}])
    return spec


def run(spec_json: str, on_event: Callable[[str], object] | None, options_json: str = "{}") -> str:
    """Run one training job; returns the result dict of :func:`swavlab.train` as a JSON string.

    ``on_event`` receives each event as a JSON string; returning ``"stop"`` asks the run to stop
    cooperatively (it checkpoints and ends ``canceled``). Errors come back as ``status: failed``
    with ``error.kind`` = ``spec`` (invalid spec or options, ``error.errors`` lists the fields) or
    ``crashed`` (anything else), always with the traceback.
    """

    def deliver(event: dict[str, Any]) -> None:
        if on_event is not None and on_event(to_json(event)) == "stop":
            STOP.request("the event consumer asked to stop")

    keep_freed_memory()  # the job's process only trains: keep its large blocks (swavlab.cpu_memory)
    try:
        spec = _parse_spec(spec_json)
        options = parse_options(options_json)
        result = train(spec, on_event=deliver, out_dir=options["out_dir"], resume_from=options["resume_from"])
    except SpecError as error:
        result = failure_result("spec", error)
    except Exception as error:  # noqa: BLE001 - every failure must come back as JSON, never as an exception
        result = failure_result("crashed", error)
    return to_json(result)


def evaluate(spec_json: str, on_event: Callable[[str], object] | None, options_json: str) -> str:
    """Evaluate a stored checkpoint; returns the result of :func:`swavlab.checkpoint_eval.evaluate_checkpoint`
    as a JSON string: ``{"status": "succeeded", "epoch": E, "step": S, "evals": {...}}``.

    ``spec_json`` is the run's spec with the eval section to run; options are ``{"checkpoint": str}``, a
    checkpoint written by the run. ``on_event`` receives the ``eval_progress`` events and the ``eval``
    event as JSON strings (its return value is ignored: an evaluation runs to its end). Errors come back
    as run()'s ``status: failed`` results: ``error.kind`` ``spec`` (invalid spec or options, a checkpoint
    that is missing or holds another model, data without labels: ``error.errors`` names the fields) or
    ``crashed``.
    """

    def deliver(event: dict[str, Any]) -> None:
        if on_event is not None:
            on_event(to_json(event))

    try:
        spec = _parse_spec(spec_json)
        options = parse_options(options_json, _EVALUATE_OPTION_KEYS, required=_EVALUATE_OPTION_KEYS)
        from .checkpoint_eval import evaluate_checkpoint  # torchvision and the data pipeline: on first use

        result = evaluate_checkpoint(spec, str(options["checkpoint"]), deliver, field="options.checkpoint")
    except SpecError as error:
        result = failure_result("spec", error)
    except Exception as error:  # noqa: BLE001 - every failure must come back as JSON, never as an exception
        result = failure_result("crashed", error)
    return to_json(result)
