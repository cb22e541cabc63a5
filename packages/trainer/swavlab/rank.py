"""Entry of ranks 1..N-1 of a multi-process run: ``python -m swavlab.rank``, started by rank 0.

See :mod:`swavlab.launcher`. The request (spec, out_dir, resume_from) arrives as JSON on stdin, the
place in the group in the environment (WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT, ...).
"""

from __future__ import annotations

import json
import os
import signal
import sys

from .libc import die_with_parent


def main() -> int:
    """Train as the rank the environment names; exit 0 after any result rank 0 decided on."""
    die_with_parent()
    if os.getppid() != int(os.environ["SWAVLAB_PARENT_PID"]):
        return 1  # rank 0 died before the signal was armed
    # Ctrl-C and the service's cancel go to rank 0, which tells the others at the next log point.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    request = json.loads(sys.stdin.read())
    from .cpu_memory import keep_freed_memory
    from .train import train

    keep_freed_memory()  # a rank's process only trains: keep its large blocks, as rank 0's entry point does
    result = train(request["spec"], out_dir=request["out_dir"], resume_from=request["resume_from"])
    print(json.dumps({"rank": int(os.environ["RANK"]), "status": result["status"], "steps": result["steps"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
