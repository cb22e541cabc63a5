"""Cooperative stop requests: a flag set by signals or callbacks and polled by the training loop.

Signal handlers must not raise into the middle of a training step (a half-applied optimiser
update or a half-written checkpoint is worse than a late stop), so SIGUSR1 (the service's
cancel) and SIGINT (Ctrl-C in the CLI) only set a flag; the loop checks it once per step, writes a
checkpoint and returns ``canceled``.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


class StopFlag:
    """A process-wide "please stop" flag with an optional reason."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str) -> None:
        """Ask the current run to stop at the next step boundary."""
        if not self._event.is_set():
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        """True once a stop was requested."""
        return self._event.is_set()

    def clear(self) -> None:
        """Forget a previous request (a new run starts)."""
        self._event.clear()
        self.reason = ""


STOP = StopFlag()


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    STOP.request(f"received {signal.Signals(signum).name}")


def install_stop_signal(signum: int) -> bool:
    """Route ``signum`` to :data:`STOP`; only possible from the main thread (returns False otherwise)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signum, _on_signal)
    return True
