"""Mixed precision with torch's own autocast and GradScaler (no external AMP package).

Only the forward pass runs under autocast; the loss (and so Sinkhorn, whose exp(score/ε) reaches
e^20 and overflows fp16) is computed in fp32 outside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from .spec import SpecError

_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``runtime.precision`` on ``device`` (None = plain fp32)."""
    if precision == "fp32":
        return None
    if precision == "fp16" and device.type != "cuda":
        raise SpecError([{"path": "runtime.precision", "message": "fp16 needs a CUDA device; use bf16 or fp32 on CPU"}])
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise SpecError([{"path": "runtime.precision", "message": "this GPU does not support bf16; use fp16 or fp32"}])
    return _DTYPES[precision]


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """``torch.autocast`` for ``dtype``, or nothing when running in fp32."""
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def make_grad_scaler(dtype: torch.dtype | None, device: torch.device) -> Any:
    """A GradScaler for fp16 on CUDA (bf16 has fp32's range and needs none); else None."""
    if dtype is not torch.float16 or device.type != "cuda":
        return None
    amp_scaler = getattr(getattr(torch, "amp", None), "GradScaler", None)
    if amp_scaler is not None:  # torch >= 2.3: the device-generic class
        return amp_scaler("cuda")
    return torch.cuda.amp.GradScaler()
