"""Training events and their delivery at a bounded rate.

Every event is a plain JSON-serialisable dict with a ``type``. The service reads them over the
pythonia bridge, where each callback is a blocking round trip and a NaN crashes Node, so events
are (1) built with finite numbers only and (2) throttled to at most ``max_per_second`` deliveries of
``progress`` and ``metrics``: a pending ``progress`` is replaced by a newer one, while every ``metrics``
point is kept and the points logged since the last delivery go out together (one ``metrics_batch``
event); ``status``, ``checkpoint``, ``artifact``, ``eval``, ``eval_progress`` (one per epoch of an
evaluation), ``collapse_warning``, ``diverged`` and ``dataset`` (once per attempt: what the run reads) are delivered at once (after what is pending, so the
consumer still sees events in the order they happened).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

Event = dict[str, Any]
EventCallback = Callable[[Event], object]

COALESCED_TYPES = frozenset({"progress", "metrics"})


def finite_or_none(value: float) -> float | None:
    """Return ``value`` as a float, or None when it is NaN/inf (JSON has no such numbers)."""
    number = float(value)
    return number if math.isfinite(number) else None


def finite_values(values: Mapping[str, float]) -> dict[str, float | None]:
    """Map every metric value through :func:`finite_or_none`."""
    return {name: finite_or_none(v) for name, v in values.items()}


def status_event(status: str) -> Event:
    """``{"type": "status", "status": ...}``: the run's lifecycle changed."""
    return {"type": "status", "status": status}


def progress_event(epoch: int, step: int, total_steps: int, eta_seconds: float) -> Event:
    """Where the run is; ``eta_seconds`` estimates the time to the last step."""
    eta = finite_or_none(eta_seconds)
    return {
        "type": "progress",
        "epoch": epoch,
        "step": step,
        "total_steps": total_steps,
        "eta_seconds": None if eta is None else max(0.0, eta),
    }


def metrics_event(epoch: int, step: int, values: Mapping[str, float]) -> Event:
    """Training metrics (loss, lr, ...) measured at ``step``."""
    return {"type": "metrics", "epoch": epoch, "step": step, "values": finite_values(values)}


def checkpoint_event(path: str, sha256: str, size: int, epoch: int, step: int) -> Event:
    """A checkpoint was written atomically and is complete on disk."""
    return {"type": "checkpoint", "path": path, "sha256": sha256, "bytes": size, "epoch": epoch, "step": step}


def artifact_event(name: str, path: str, sha256: str, size: int, step: int) -> Event:
    """A file exported besides the checkpoints (``backbone``) is complete on disk."""
    return {"type": "artifact", "name": name, "path": path, "sha256": sha256, "bytes": size, "step": step}


def metrics_batch_event(points: list[Event]) -> Event:
    """Several ``metrics`` events logged since the last delivery, oldest first, in one delivery:
    ``{"type": "metrics_batch", "points": [{"epoch", "step", "values"}, ...]}``."""
    return {"type": "metrics_batch", "points": [{k: v for k, v in point.items() if k != "type"} for point in points]}


def metric_points(event: Event) -> list[Event]:
    """The ``metrics`` events an event carries: itself, the points of a batch, or none."""
    if event["type"] == "metrics":
        return [event]
    if event["type"] == "metrics_batch":
        return [{"type": "metrics", **point} for point in event["points"]]
    return []


def eval_event(epoch: int, step: int, values: Mapping[str, float]) -> Event:
    """Evaluation results (k-NN / linear probe top-1 in [0, 1])."""
    return {"type": "eval", "epoch": epoch, "step": step, "values": finite_values(values)}


def eval_progress_event(evaluation: str, epoch: int, epochs: int, values: Mapping[str, float]) -> Event:
    """An evaluation that trains (``linear_paper``, ``semisup``) finished its ``epoch``-th of ``epochs``
    epochs; ``values`` holds its mean training ``loss``, ``lr`` and the ``top1`` / ``top5`` on the test split."""
    return {
        "type": "eval_progress",
        "evaluation": evaluation,
        "epoch": epoch,
        "epochs": epochs,
        "values": finite_values(values),
    }


def dataset_event(summary: Mapping[str, Any]) -> Event:
    """What the run reads (`swavlab.data.DatasetSplits.summary()`): source, class and image counts per
    split, and the files skipped as unreadable (a count and the first few with their reasons)."""
    return {"type": "dataset", **summary}


def collapse_warning_event(epoch: int, step: int, message: str, advice: list[str]) -> Event:
    """The run looks collapsed; ``advice`` lists what to try."""
    return {"type": "collapse_warning", "epoch": epoch, "step": step, "message": message, "advice": advice}


def diverged_event(epoch: int, step: int, message: str) -> Event:
    """The loss stopped being finite; the run stops without checkpointing the broken weights."""
    return {"type": "diverged", "epoch": epoch, "step": step, "message": message}


class EventThrottle:
    """Delivers events to a callback, at most ``max_per_second`` deliveries of progress and metrics.

    A pending ``progress`` is replaced by a newer one. ``metrics`` events are never merged nor dropped:
    those pending when their turn comes are delivered together, as one ``metrics`` event when there is
    one and as a ``metrics_batch`` when there are several.
    """

    def __init__(
        self,
        callback: EventCallback | None,
        max_per_second: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self._interval = 1.0 / max_per_second
        self._clock = clock
        self._last_sent = -math.inf
        # Kind → what is pending: the newest progress, or the list of metrics not yet delivered. The order of
        # the keys is the order in which the kinds became pending.
        self._pending: dict[str, Event | list[Event]] = {}

    def emit(self, event: Event) -> None:
        """Deliver ``event`` now, or hold it until the next delivery when it is progress/metrics."""
        if self._callback is None:
            return
        kind = event["type"]
        if kind not in COALESCED_TYPES:
            self._flush_pending()
            self._send(event)
            return
        if kind == "metrics":
            held = self._pending.setdefault("metrics", [])
            assert isinstance(held, list)
            held.append(event)
        else:
            self._pending[kind] = event
        if self._clock() - self._last_sent >= self._interval:
            self._flush_pending(limit=1)

    def flush(self) -> None:
        """Deliver whatever is pending (call at the end of a run)."""
        if self._callback is not None:
            self._flush_pending()

    def _flush_pending(self, limit: int | None = None) -> None:
        # Oldest pending kind first, so that a steady stream of metrics cannot starve progress, nor progress
        # starve metrics.
        for sent, kind in enumerate(list(self._pending)):
            if limit is not None and sent >= limit:
                return
            held = self._pending.pop(kind)
            if isinstance(held, list):
                self._send(held[0] if len(held) == 1 else metrics_batch_event(held))
            else:
                self._send(held)

    def _send(self, event: Event) -> None:
        assert self._callback is not None
        self._last_sent = self._clock()
        self._callback(event)
