"""CPU buffers backed by transparent huge pages, for large tensors written once and read many times.

Writing a fresh 49 MB tensor costs one page fault per 4 KiB page (~12,000 faults, 16 ms on the
2-core build machine, a third of a 4096 x 3000 Sinkhorn); with 2 MiB pages it costs ~7 ms. Linux
backs anonymous memory with huge pages only where asked (`madvise`) unless the system-wide setting
is `always`. torch 2.x can do this for every large allocation (THP_MEM_ALLOC_ENABLE=1); this module
asks for one buffer at a time and works on torch 1.13 too. Elsewhere (other systems, CUDA, small
tensors) it is plain `torch.empty`.
"""

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

import torch

_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14


def _load_madvise() -> Callable[[int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        madvise = libc.madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


_madvise = _load_madvise()


def empty_hugepages(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """An uninitialised tensor; on Linux CPU, the whole 2 MiB pages inside it are marked for huge pages
    before anything touches them. A refusal by the kernel only costs the speed-up."""
    tensor = torch.empty(shape, dtype=dtype, device=device)
    if _madvise is None or device.type != "cpu":
        return tensor
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    first = -(-start // _HUGE_PAGE) * _HUGE_PAGE
    last = end // _HUGE_PAGE * _HUGE_PAGE
    if last > first:
        _madvise(first, last - first, _MADV_HUGEPAGE)
    return tensor
