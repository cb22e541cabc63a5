"""The authors' checkpoint format (facebookresearch/swav: src/resnet50.py, main_swav.py, hubconf.py).

A release checkpoint is a ``torch.save``d dict whose ``state_dict`` entry (or the dict itself) maps
parameter names, usually with DistributedDataParallel's ``module.`` prefix, to tensors: the trunk
under torchvision's ResNet names at the top level (``conv1.weight``, ``bn1.*``, ``layer1.0.conv1.weight``
...), then ``projection_head.{0,1,3}.*`` and ``prototypes.weight``. swavlab's SwAVModel holds the same
tensors with the trunk under ``backbone.``, so the two formats map one to one, key for key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from .checkpoint import torch_load
from .data.roots import resolve_data_file
from .spec import SpecError

DDP_PREFIX = "module."
BACKBONE_PREFIX = "backbone."
_HEAD_PREFIXES = ("projection_head.", "prototypes.")
# Keys listed per kind of mismatch in an error message before "and N more".
_LISTED = 8


def release_state(content: Any, field: str, source: str) -> dict[str, Tensor]:
    """The tensors of a loaded release checkpoint, ``module.`` prefixes removed.

    Raises SpecError at ``field`` when ``content`` is not a mapping of names to tensors.
    """
    state = content.get("state_dict", content) if isinstance(content, Mapping) else None
    if not isinstance(state, Mapping) or not state:
        message = f"{source} holds no state dict (a dict of tensors, or one under 'state_dict')"
        raise SpecError([{"path": field, "message": message}])
    not_tensors = [str(key) for key, value in state.items() if not isinstance(value, Tensor)]
    if not_tensors:
        message = f"{source}: entries that are not tensors: {_listing(not_tensors)}"
        raise SpecError([{"path": field, "message": message}])
    return {str(key).removeprefix(DDP_PREFIX): value for key, value in state.items()}


def to_model_keys(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Release names → SwAVModel names: the trunk's keys get the ``backbone.`` prefix."""
    return {key if key.startswith(_HEAD_PREFIXES) else BACKBONE_PREFIX + key: value for key, value in state.items()}


def to_release_keys(model_state: Mapping[str, Tensor], prefix: str = DDP_PREFIX) -> dict[str, Tensor]:
    """SwAVModel names → release names, each after ``prefix`` (the authors' checkpoints carry ``module.``)."""
    return {
        prefix + key.removeprefix(DDP_PREFIX).removeprefix(BACKBONE_PREFIX): value
        for key, value in model_state.items()
    }


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown if len(names) <= _LISTED else f"{shown} and {len(names) - _LISTED} more"


def check_state(expected: Mapping[str, Tensor], given: Mapping[str, Tensor], field: str, source: str) -> None:
    """Raises SpecError at ``field`` unless ``given`` has exactly the keys of ``expected``, with its shapes.

    The message lists the missing and unexpected keys and each shape mismatch with both shapes, which
    is how a different arch, projection head or number of prototypes shows.
    """
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    shapes = [
        f"{key} (file {list(given[key].shape)}, model {list(tensor.shape)})"
        for key, tensor in expected.items()
        if key in given and given[key].shape != tensor.shape
    ]
    problems = [
        f"{label}: {_listing(keys)}"
        for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes))
        if keys
    ]
    if problems:
        raise SpecError(
            [{"path": field, "message": f"{source} does not match the model of this spec; " + "; ".join(problems)}]
        )


def load_release_weights(model: nn.Module, path: str, field: str = "model.init_from") -> None:
    """Copy the weights of the release checkpoint ``path`` (inside SWAVLAB_DATA_ROOTS) into ``model``.

    Strict: every key of the model and no other, with equal shapes (see :func:`check_state`).
    """
    resolved = resolve_data_file(path, field)
    try:
        content = torch_load(resolved)
    except Exception as error:  # torch.load raises pickle, zip and runtime errors alike
        message = f"cannot read {str(resolved)!r}: {type(error).__name__}: {error}"
        raise SpecError([{"path": field, "message": message}]) from error
    state = release_state(content, field, repr(str(resolved)))
    # Compared under the release's names, the ones the file and its user know.
    check_state(to_release_keys(model.state_dict(), prefix=""), state, field, repr(str(resolved)))
    model.load_state_dict(to_model_keys(state), strict=True)
