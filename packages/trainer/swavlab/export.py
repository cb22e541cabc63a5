"""Export trained weights for downstream use: the backbone as a torchvision state dict, or the whole
model in the authors' release format (see swavlab/official.py)."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torchvision

from .models.backbones import TORCHVISION_ARCHS, build_backbone
from .official import BACKBONE_PREFIX, DDP_PREFIX, to_release_keys


def _backbone_state(model_state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The `backbone.*` entries of a SwAVModel state dict, prefix removed (a DDP `module.` prefix too)."""
    state: dict[str, torch.Tensor] = {}
    for name, tensor in model_state.items():
        name = name.removeprefix(DDP_PREFIX)
        if name.startswith(BACKBONE_PREFIX):
            state[name.removeprefix(BACKBONE_PREFIX)] = tensor
    return state


def _read_checkpoint(checkpoint_path: Path) -> tuple[Mapping[str, Any], Mapping[str, torch.Tensor]]:
    # weights_only=False: checkpoints hold Python/numpy RNG states next to tensors, and torch >= 2.6
    # would refuse them by default. Only load checkpoints this service (or you) wrote.
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"checkpoint: {checkpoint_path} does not hold a dict")
    for key in ("spec", "model"):
        if not isinstance(checkpoint.get(key), Mapping):
            raise ValueError(f"checkpoint.{key}: missing from {checkpoint_path}")
    return checkpoint["spec"], checkpoint["model"]


def export_backbone(checkpoint_path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> Path:
    """Write the backbone of a training checkpoint as a plain state dict (`torch.save`) to `out_path`.

    For `resnet18` and `resnet50` with the standard stem, the file is a complete torchvision state dict:
    `torchvision.models.resnet50().load_state_dict(torch.load(out_path), strict=True)` succeeds. SwAV
    trains no classifier, so its `fc` is torchvision's freshly initialised one, to be replaced or
    trained downstream. Other archs (tiny, resnet50w2/w4/w5, any small stem) have no matching
    torchvision constructor: the file holds the backbone's weights under the same names, for
    `swavlab.models.build_backbone(arch, small_stem)`. The weights are verified by a strict load
    before anything is written; the file appears atomically.
    """
    checkpoint_path = Path(checkpoint_path)
    out_path = Path(out_path)
    spec, model_state = _read_checkpoint(checkpoint_path)
    arch = str(spec["model"]["arch"])
    small_stem = bool(spec["model"]["small_stem"])
    state = _backbone_state(model_state)
    if not state:
        raise ValueError(f"checkpoint.model: no backbone weights in {checkpoint_path}")

    if arch in TORCHVISION_ARCHS and not small_stem:
        target = getattr(torchvision.models, arch)()
        fresh_classifier = {"fc.weight": target.fc.weight, "fc.bias": target.fc.bias}
        target.load_state_dict(state | fresh_classifier, strict=True)
    else:
        target, _ = build_backbone(arch, small_stem)
        target.load_state_dict(state, strict=True)

    return _save(target.state_dict(), out_path)


def export_release(checkpoint_path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> Path:
    """Write the model of a training checkpoint in the release's format: ``{"state_dict": {"module.<key>": tensor}}``
    with the trunk under torchvision's names, ``projection_head.*`` and ``prototypes.weight``, as the
    authors' checkpoints are (``model.init_from`` reads it back tensor for tensor). Appears atomically."""
    checkpoint_path = Path(checkpoint_path)
    _, model_state = _read_checkpoint(checkpoint_path)
    if not model_state:
        raise ValueError(f"checkpoint.model: no weights in {checkpoint_path}")
    return _save({"state_dict": to_release_keys(model_state)}, Path(out_path))


def _save(content: Any, out_path: Path) -> Path:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.name}.partial")
    torch.save(content, partial)
    os.replace(partial, out_path)
    return out_path
