"""A stand-in trainer for the event-rate benchmark: sends metrics events as fast as the bridge takes them.

The worker calls ``run(spec_json, on_event, options_json)`` like the real ``swavlab.bridge.run``; the spec is
ignored and ``FLOOD_EVENTS`` (environment) says how many ``metrics`` events to send, each with the five
per-step training metrics, so that the benchmark measures the path runner → worker → database alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable

# Applies the bridge's import-time rules (pythonia request-id offset, parent-death signal, SIGUSR1 handler).
from swavlab.bridge import to_json

METRIC_NAMES = ("loss", "lr", "images_per_sec", "prototype_usage", "code_entropy")


def run(spec_json: str, on_event: Callable[[str], object] | None, options_json: str = "{}") -> str:
    """Send ``FLOOD_EVENTS`` metrics events (steps 1..N), then return a succeeded result."""
    del spec_json, options_json
    events = int(os.environ.get("FLOOD_EVENTS", "0"))
    for step in range(1, events + 1):
        values = {name: 1.0 / (step + index) for index, name in enumerate(METRIC_NAMES)}
        if on_event is not None:
            on_event(to_json({"type": "metrics", "epoch": 1, "step": step, "values": values}))
    return to_json({"status": "succeeded", "error": None, "steps": events, "final_metrics": {}, "evals": {}})
