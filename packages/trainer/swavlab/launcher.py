"""The other ranks of a multi-process run, started and watched by rank 0.

A run with ``runtime.gpus`` or ``runtime.processes`` N > 1 trains as N torch.distributed ranks on
one host. The process that calls :func:`swavlab.train` (the one the service's bridge drives, or
``python -m swavlab train``) is rank 0: it emits the events, writes the checkpoints and evaluates.
It opens the rendezvous store on a free port and starts ranks 1..N-1 as ``python -m
swavlab.rank`` children, each given the spec and options on stdin and its place in the group
in the environment (the variables torchrun sets). Every rank dies with the run:

* a child asks Linux to SIGKILL it when rank 0 dies (and exits at once if rank 0 is already gone);
* rank 0 polls its children; when one exits with an error it kills the others, and unless rank 0
  itself leaves the run within :data:`CRASH_GRACE_SECONDS` (gloo raises once a peer is gone; NCCL
  may block forever) it writes the failed rank's log tail to stderr and exits, so the caller sees a
  crash within seconds, never a hang;
* when rank 0 leaves the run for any reason, the children still alive are killed.

Each child writes its output to ``<out_dir>/ranks/rank-<r>.log``; a failure quotes its tail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CRASH_GRACE_SECONDS = 1.5
_POLL_SECONDS = 0.1
_LOG_TAIL_BYTES = 4000
# The children's own exit after a normal end of rank 0 (they finish their last collective first).
_JOIN_SECONDS = 120.0
_EXIT_VISIBLE_SECONDS = 0.5
# The folder that holds the swavlab package, so the children import the same code as rank 0.
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class RankFailed(RuntimeError):
    """Another rank of the run died; the message names it and quotes the end of its log."""


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - _LOG_TAIL_BYTES))
            return handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


class RankProcesses:
    """Ranks 1..N-1 of a run, started by rank 0 and watched by a monitor thread."""

    def __init__(
        self,
        world_size: int,
        port: int,
        spec: Mapping[str, Any],
        out_dir: Path,
        resume_from: str | None,
    ) -> None:
        self.log_dir = out_dir / "ranks"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._failure: str | None = None
        self._failure_by_signal = False
        self._lock = threading.Lock()
        self._rank_zero_left = threading.Event()
        self._children: list[tuple[int, subprocess.Popen[bytes], Path]] = []
        request = json.dumps({"spec": spec, "out_dir": str(out_dir), "resume_from": resume_from}).encode()
        try:
            for rank in range(1, world_size):
                self._children.append(self._start(rank, world_size, port, request))
        except BaseException:
            self.kill()
            raise
        self._monitor = threading.Thread(target=self._watch, name="swavlab-rank-monitor", daemon=True)
        self._monitor.start()

    def _start(self, rank: int, world_size: int, port: int, request: bytes) -> tuple[int, subprocess.Popen[bytes], Path]:
        env = {
            **os.environ,
            "WORLD_SIZE": str(world_size),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": str(world_size),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "SWAVLAB_PARENT_PID": str(os.getpid()),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")])),
        }
        log = self.log_dir / f"rank-{rank}.log"
        # Files, not pipes: a rank blocked on a full pipe nobody reads would stall every collective.
        with log.open("wb") as output:
            child = subprocess.Popen(
                [sys.executable, "-m", "swavlab.rank"],
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
            )
        assert child.stdin is not None
        child.stdin.write(request)
        child.stdin.close()
        return rank, child, log

    @property
    def pids(self) -> list[int]:
        """Process ids of ranks 1..N-1."""
        return [child.pid for _, child, _ in self._children]

    def failure(self) -> str | None:
        """What went wrong with another rank, or None."""
        with self._lock:
            return self._failure

    def _record(self, rank: int, code: int, log: Path, what: str | None = None) -> None:
        # A rank killed by a signal is the likelier cause than one that exited with an error, which is
        # what the others do once a peer is gone: it wins.
        with self._lock:
            if self._failure is not None and not (code < 0 and not self._failure_by_signal):
                return
        tail = _tail(log)
        message = f"rank {rank} of the run {what or _describe_exit(code)}"
        message += f"; the end of its log ({log}):\n{tail}" if tail else f" (its log {log} is empty)"
        with self._lock:
            self._failure = message
            self._failure_by_signal = code < 0

    def _record_exited(self) -> None:
        for rank, child, log in self._children:
            code = child.poll()
            if code is not None and code != 0:
                self._record(rank, code, log)

    def _watch(self) -> None:
        while not self._rank_zero_left.is_set():
            self._record_exited()
            if self.failure() is not None:
                self.kill()
                if not self._rank_zero_left.wait(CRASH_GRACE_SECONDS):
                    # Rank 0 is stuck in a collective with the dead rank: end the whole run now.
                    sys.stderr.write(f"swavlab: {self.failure()}\n")
                    sys.stderr.flush()
                    os._exit(1)
                return
            time.sleep(_POLL_SECONDS)

    def kill(self) -> None:
        """SIGKILL every child still running and reap them."""
        for _, child, _ in self._children:
            if child.poll() is None:
                child.kill()
        for _, child, _ in self._children:
            child.wait()

    def close(self, ok: bool) -> None:
        """Rank 0 leaves the run: after a normal end the children get time to finish, else they are killed.

        Raises :class:`RankFailed` when a child failed (also one that fails while finishing).
        """
        self._rank_zero_left.set()
        if not ok:
            # Rank 0 may have failed because a peer died: its socket closes a moment before its exit
            # shows, so give the children that moment before killing them, or the cause is lost.
            deadline = time.monotonic() + _EXIT_VISIBLE_SECONDS
            while time.monotonic() < deadline and all(child.poll() is None for _, child, _ in self._children):
                time.sleep(0.01)
        self._record_exited()
        if ok:
            deadline = time.monotonic() + _JOIN_SECONDS
            for rank, child, log in self._children:
                try:
                    code = child.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self._record(rank, 1, log, f"did not exit within {_JOIN_SECONDS:.0f} s of rank 0's end")
                    break
                if code != 0:
                    self._record(rank, code, log)
        self.kill()
        failure = self.failure()
        if failure is not None:
            raise RankFailed(failure)
