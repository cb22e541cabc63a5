"""Event construction and throttling."""

from __future__ import annotations

import json
import math

from swavlab.events import (
    EventThrottle,
    checkpoint_event,
    metric_points,
    metrics_event,
    progress_event,
    status_event,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_non_finite_values_become_null_and_serialise_strictly() -> None:
    event = metrics_event(1, 5, {"loss": math.nan, "lr": 0.5, "x": math.inf})
    assert event["values"] == {"loss": None, "lr": 0.5, "x": None}
    json.dumps(event, allow_nan=False)
    assert progress_event(1, 2, 10, math.inf)["eta_seconds"] is None
    assert progress_event(1, 2, 10, -3.0)["eta_seconds"] == 0.0


def test_progress_is_coalesced_to_the_rate_limit() -> None:
    clock = FakeClock()
    seen: list[dict] = []
    throttle = EventThrottle(seen.append, max_per_second=10, clock=clock)
    for step in range(1, 1001):  # 1000 steps over 1 simulated second
        clock.now = step / 1000
        throttle.emit(progress_event(0, step, 1000, 1.0))
    throttle.flush()
    assert 9 <= len(seen) <= 12
    assert seen[-1]["step"] == 1000  # the newest position always arrives at the end
    times = [e["step"] / 1000 for e in seen[:-1]]
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(times, times[1:]))


def test_important_events_are_never_dropped_and_keep_order() -> None:
    clock = FakeClock()
    seen: list[dict] = []
    throttle = EventThrottle(seen.append, max_per_second=10, clock=clock)
    throttle.emit(status_event("running"))
    throttle.emit(progress_event(0, 1, 10, 5.0))  # held: status was just sent
    for step in range(5):
        throttle.emit(checkpoint_event(f"/c{step}", "ab" * 32, 100, 1, step))
    kinds = [e["type"] for e in seen]
    assert kinds == ["status", "progress"] + ["checkpoint"] * 5


def test_every_metrics_point_is_delivered_batched_when_several_wait() -> None:
    clock = FakeClock()
    seen: list[dict] = []
    throttle = EventThrottle(seen.append, max_per_second=10, clock=clock)
    throttle.emit(metrics_event(1, 10, {"loss": 2.0}))
    throttle.emit(metrics_event(1, 10, {"epoch_seconds": 3.5}))
    throttle.emit(metrics_event(2, 20, {"loss": 1.5}))
    throttle.flush()
    assert seen[0] == {"type": "metrics", "epoch": 1, "step": 10, "values": {"loss": 2.0}}
    assert seen[1] == {
        "type": "metrics_batch",
        "points": [
            {"epoch": 1, "step": 10, "values": {"epoch_seconds": 3.5}},
            {"epoch": 2, "step": 20, "values": {"loss": 1.5}},
        ],
    }


def test_a_fast_run_keeps_every_logged_point_within_the_delivery_rate() -> None:
    clock = FakeClock()
    seen: list[dict] = []
    throttle = EventThrottle(seen.append, max_per_second=10, clock=clock)
    for step in range(1, 1001):
        clock.now = step / 1000
        throttle.emit(metrics_event(0, step, {"loss": float(step)}))
    throttle.flush()
    steps = [p["step"] for e in seen for p in metric_points(e)]
    assert steps == list(range(1, 1001))
    assert len(seen) <= 12


def test_no_callback_is_a_no_op() -> None:
    throttle = EventThrottle(None)
    throttle.emit(status_event("running"))
    throttle.flush()


def test_a_steady_metrics_stream_does_not_starve_progress() -> None:
    # Every step logs metrics and progress faster than the rate limit: both kinds must keep arriving.
    clock = FakeClock()
    seen: list[dict] = []
    throttle = EventThrottle(seen.append, max_per_second=10, clock=clock)
    for step in range(1, 1001):
        clock.now = step / 500
        throttle.emit(metrics_event(0, step, {"loss": 1.0}))
        throttle.emit(progress_event(0, step, 1000, 1.0))
    progress_steps = [e["step"] for e in seen if e["type"] == "progress"]
    metrics_steps = [metric_points(e)[-1]["step"] for e in seen if metric_points(e)]
    assert len(progress_steps) >= 8 and len(metrics_steps) >= 8
    assert progress_steps[-1] > 900
