"""How the trainer's process uses CPU memory: huge-page buffers and glibc's policy for large blocks.

Both exist for the same cost: the first write to freshly mapped memory takes one page fault per
4 KiB page. A 33 MB activation (resnet18, 128 crops of 32 px, 64 channels) costs ~8,000 faults,
and glibc maps every block above 32 MB afresh and unmaps it when freed, so the grouped forward paid
that on every step (0.5 s of a 4.6 s step on the 2-core build machine). Elsewhere (other operating
systems or C libraries, CUDA tensors) both helpers do nothing.
"""

import ctypes

import torch

from .libc import libc_function

_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_MAX_INT = 2**31 - 1

_mallopt = libc_function("mallopt", [ctypes.c_int, ctypes.c_int])
_madvise = libc_function("madvise", [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int])


def keep_freed_memory() -> bool:
    """Serve every allocation from glibc's heap and keep freed memory there for the next one.

    A training step frees and re-allocates the same large tensors every iteration; kept in the heap
    they are reused without page faults (the resnet18 step of bench/trainer/train_step.py: 4.03 s
    instead of 4.56 s). The process keeps its peak memory instead of returning it to the system,
    which is what a training process needs anyway. Returns False where the C library has no such
    setting (not glibc); the process then runs as before.
    """
    if _mallopt is None:
        return False
    return _mallopt(_M_MMAP_MAX, 0) == 1 and _mallopt(_M_TRIM_THRESHOLD, _MAX_INT) == 1


def empty_hugepages(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """An uninitialised tensor; on Linux CPU, the whole 2 MiB pages inside it are marked for
    transparent huge pages before anything touches them (a 49 MB buffer: first write 9-10 ms instead
    of 16-18 ms). The kernel uses them where its setting is `madvise` or `always`; a refusal only
    costs the speed-up. torch 2.x can do this for every large allocation (THP_MEM_ALLOC_ENABLE=1).
    """
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
