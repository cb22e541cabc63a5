"""`swavlab up` from Python: the whole service (API, worker, embedded database, a private redis-server) as a child
process on a free loopback port, for benchmarks, tests and notebooks on one machine.

    with local_service(cli, home, env) as url:
        client = Client(url, token)

``cli`` is the swavlab CLI's entry script (``apps/cli/bin/swavlab.mjs`` in a built checkout), run with Node.
The service keeps its database, logs and artifacts under ``home`` (``SWAVLAB_HOME``); its output goes to
``home/up.log``, which the error names when it does not start.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

# Variables that would point the child at another service instead of its own embedded one.
_INHERITED_ELSEWHERE = ("SWAVLAB_URL", "SWAVLAB_TOKEN", "DATABASE_URL", "REDIS_URL", "HOST", "PORT")
_READY = re.compile(r"swavlab is up at (http://\S+)")


class ServiceDidNotStart(RuntimeError):
    """`swavlab up` exited or did not announce its URL in time; the message holds its output."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_service(
    cli: str | os.PathLike[str],
    home: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    start_timeout: float = 120.0,
) -> Iterator[str]:
    """Runs ``swavlab up`` with ``SWAVLAB_HOME=home`` and the extra ``env`` (tokens, slots, log level) and yields
    its URL; on exit stops it with SIGTERM, and kills it if it has not stopped within 60 s."""
    node = shutil.which("node")
    if node is None:
        raise ServiceDidNotStart("swavlab up needs Node on the PATH")
    home_path = Path(home)
    child_env = {key: value for key, value in os.environ.items() if key not in _INHERITED_ELSEWHERE}
    child_env |= {"SWAVLAB_HOME": str(home_path), **(env or {})}
    with (home_path / "up.log").open("w+") as log:
        process = subprocess.Popen(
            [node, str(cli), "up", "--port", str(free_port())], cwd=home_path, env=child_env, stdout=log, stderr=log
        )
        try:
            yield _wait_for_url(process, log, start_timeout)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_url(process: subprocess.Popen[bytes], log: TextIO, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log.seek(0)
        found = _READY.search(log.read())
        if found:
            return found.group(1)
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            state = f"exit {process.returncode}" if process.returncode is not None else f"no URL after {timeout:.0f} s"
            raise ServiceDidNotStart(f"swavlab up did not start ({state}):\n{log.read()}")
        time.sleep(0.2)
