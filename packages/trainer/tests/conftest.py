"""Makes `import swavlab` work from the tests, pins torch's thread count for the 2-core CI machine,
and provides the tiny training spec the trainer tests share."""

import random
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
torch.set_num_threads(2)

from swavlab.spec import overlay  # noqa: E402

SpecFactory = Callable[..., dict[str, Any]]

TINY_SPEC: dict[str, Any] = {
    "seed": 7,
    "data": {"source": "synthetic", "num_images": 60, "num_classes": 4, "image_size": 16, "test_fraction": 0.2},
    "model": {"arch": "tiny", "small_stem": True, "hidden_mlp": 32, "feat_dim": 16},
    "swav": {"prototypes": 12, "crops": "2x16+2x8", "freeze_prototypes_iters": 2},
    "optim": {"optimizer": "sgd", "base_lr": 0.1, "final_lr": 0.001, "warmup_epochs": 0, "batch_size": 8, "epochs": 2},
    "runtime": {"device": "cpu", "workers": 0, "threads": 1},
    "checkpoint": {"every_epochs": 1, "keep_last": 10},
    "eval": {"knn": {"k": [3]}, "linear": None},
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test its own cache folder (random-init baselines), so no test reads another's or the user's."""
    monkeypatch.setenv("SWAVLAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def tiny_spec() -> SpecFactory:
    """`tiny_spec(optim={"epochs": 1}, ...)`: a seconds-long CPU run (48 train images, 6 steps/epoch)."""

    def make(**changes: Any) -> dict[str, Any]:
        return overlay(TINY_SPEC, changes)

    return make


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for a process group's rendezvous.

    Chosen below the kernel's ephemeral range: a port from inside it can be handed to a
    client socket as its own source port, and a client that connects to itself there hangs
    the rendezvous (a rare flake seen in CI).
    """
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10_000, low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port found between 10000 and {low}")


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as handle:
            return max(10_001, int(handle.read().split()[0]))
    except (OSError, ValueError, IndexError):
        return 32_768


def stop_after(steps: int) -> Callable[[], bool]:
    """should_stop that answers True from the poll before step `steps + 1` on."""
    polls = 0

    def should_stop() -> bool:
        nonlocal polls
        polls += 1
        return polls > steps

    return should_stop
