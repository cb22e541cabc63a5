"""Training events and their delivery at a bounded rate.

Every event is a plain JSON-serialisable dict with a ``type``. The service reads them over the
pythonia bridge, where each callback is a blocking round trip and a NaN crashes Node, so events
are (1) built with finite numbers only and (2) throttled: ``progress`` and ``metrics`` are
coalesced to at most ``max_per_second`` deliveries, while ``status``, ``checkpoint``, ``artifact``,
``eval``, ``collapse_warning`` and ``diverged`` are never dropped (they flush what is pending first, so the
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


def eval_event(epoch: int, step: int, values: Mapping[str, float]) -> Event:
    """Evaluation results (k-NN / linear probe top-1 in [0, 1])."""
    return {"type": "eval", "epoch": epoch, "step": step, "values": finite_values(values)}


def collapse_warning_event(epoch: int, step: int, message: str, advice: list[str]) -> Event:
    """The run looks collapsed; ``advice`` lists what to try."""
    return {"type": "collapse_warning", "epoch": epoch, "step": step, "message": message, "advice": advice}


def diverged_event(epoch: int, step: int, message: str) -> Event:
    """The loss stopped being finite; the run stops without checkpointing the broken weights."""
    return {"type": "diverged", "epoch": epoch, "step": step, "message": message}


class EventThrottle:
    """Delivers events to a callback, coalescing progress/metrics to ``max_per_second``.

    A pending ``progress`` is replaced by a newer one. A pending ``metrics`` is merged into the
    newer one (newer values win, keys only the older one had are kept), so per-epoch values
    such as ``epoch_seconds`` survive coalescing.
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
        self._pending: dict[str, Event] = {}

    def emit(self, event: Event) -> None:
        """Deliver ``event`` now, or hold it for coalescing when it is progress/metrics."""
        if self._callback is None:
            return
        kind = event["type"]
        if kind not in COALESCED_TYPES:
            self._flush_pending()
            self._send(event)
            return
        previous = self._pending.get(kind)
        if previous is not None and kind == "metrics":
            event = {**event, "values": {**previous["values"], **event["values"]}}
        self._pending[kind] = event
        if self._clock() - self._last_sent >= self._interval:
            self._flush_pending(limit=1)

    def flush(self) -> None:
        """Deliver whatever is pending (call at the end of a run)."""
        if self._callback is not None:
            self._flush_pending()

    def _flush_pending(self, limit: int | None = None) -> None:
        # Oldest pending kind first (dicts keep first-insertion order, replacing a value keeps its place),
        # so a steady stream of metrics cannot starve progress, nor progress starve metrics.
        for sent, kind in enumerate(list(self._pending)):
            if limit is not None and sent >= limit:
                return
            self._send(self._pending.pop(kind))

    def _send(self, event: Event) -> None:
        assert self._callback is not None
        self._last_sent = self._clock()
        self._callback(event)
