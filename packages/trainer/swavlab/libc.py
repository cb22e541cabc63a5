"""Functions of the C library on Linux, for the few process settings torch does not expose."""

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable


def _load() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _load()


def libc_function(name: str, argtypes: list[type]) -> Callable[..., int] | None:
    """`name` from the C library, taking `argtypes` and returning an int; None on another system or
    where this C library lacks it (callers then skip the setting)."""
    function = getattr(_LIBC, name, None) if _LIBC is not None else None
    if function is None:
        return None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``): an orphaned
    trainer would keep a GPU or CPU cores busy. A no-op where prctl is missing."""
    prctl = libc_function("prctl", [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong])
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
