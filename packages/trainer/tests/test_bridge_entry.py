"""swavlab.bridge.run: the JSON-in/JSON-out entry the Node worker calls through pythonia."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from swavlab import bridge
from swavlab.events import metric_points
from swavlab.stop import STOP
from conftest import SpecFactory

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def test_run_returns_json_and_sends_json_events(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    received: list[str] = []
    spec = tiny_spec(optim={"epochs": 1})
    out = bridge.run(json.dumps(spec), received.append, json.dumps({"out_dir": str(tmp_path)}))
    result = json.loads(out)
    assert result["status"] == "succeeded"
    assert result["last_checkpoint"]["path"].startswith(str(tmp_path))
    events = [json.loads(text) for text in received]
    assert events[0]["type"] == "dataset" and events[1] == {"type": "status", "status": "running"}
    assert events[-1] == {"type": "status", "status": "succeeded"}
    assert any(e["type"] == "checkpoint" for e in events)


def test_callback_returning_stop_cancels_after_a_checkpoint(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    def on_event(text: str) -> str | None:
        return "stop" if metric_points(json.loads(text)) else None

    result = json.loads(bridge.run(json.dumps(tiny_spec()), on_event, json.dumps({"out_dir": str(tmp_path)})))
    assert result["status"] == "canceled"
    assert result["last_checkpoint"]["step"] == result["steps"] < 12
    assert not STOP.is_set()


def test_spec_errors_come_back_as_json_with_paths() -> None:
    result = json.loads(bridge.run(json.dumps({"swav": {"prototypes": 0, "bogus": 1}}), None))
    assert result["status"] == "failed"
    assert result["error"]["kind"] == "spec"
    assert {e["path"] for e in result["error"]["errors"]} == {"swav.prototypes", "swav.bogus"}
    assert "swav.prototypes" in result["error"]["message"]
    assert "SpecError" in result["error"]["traceback"]


def test_bad_json_and_bad_options_are_spec_errors() -> None:
    assert json.loads(bridge.run("{not json", None))["error"]["kind"] == "spec"
    result = json.loads(bridge.run("{}", None, json.dumps({"out": "x", "resume_from": 3})))
    assert {e["path"] for e in result["error"]["errors"]} == {"options.out", "options.resume_from"}


def test_crashes_come_back_with_the_traceback(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    options = {"out_dir": str(tmp_path), "resume_from": str(tmp_path / "missing.pt")}
    result = json.loads(bridge.run(json.dumps(tiny_spec()), None, json.dumps(options)))
    assert result["status"] == "failed"
    assert result["error"]["kind"] == "crashed"
    assert "missing.pt" in result["error"]["message"]
    assert "FileNotFoundError" in result["error"]["traceback"]


def test_json_safe_replaces_non_finite_numbers() -> None:
    text = bridge.to_json({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}})
    assert json.loads(text) == {"a": None, "b": [1.0, None], "c": {"d": None}}


def test_import_offsets_the_pythonia_request_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    executor = SimpleNamespace(i=41)
    monkeypatch.setattr(os, "JSPyBridge", SimpleNamespace(_exe=executor), raising=False)
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        importlib.reload(bridge)
        assert executor.i == 10**12
        os.kill(os.getpid(), signal.SIGUSR1)
        assert STOP.is_set()
    finally:
        STOP.clear()
        signal.signal(signal.SIGUSR1, previous)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_import_sets_the_parent_death_signal() -> None:
    code = (
        "import ctypes, signal, swavlab.bridge\n"
        "value = ctypes.c_int()\n"
        "ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0)\n"  # PR_GET_PDEATHSIG
        "print(value.value == signal.SIGKILL)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
