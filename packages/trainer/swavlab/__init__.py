"""swavlab: SwAV self-supervised pretraining (Caron et al., NeurIPS 2020).

Public API: :func:`sinkhorn`, :func:`swav_loss`, :func:`train`, :func:`validate_spec` and
:func:`export_backbone`. ``import swavlab`` stays light: torchvision and the data pipeline load
when a run (or an export) needs them.

``sinkhorn`` and ``train`` share their names with their modules, so they are bound eagerly here:
importing the submodule first would otherwise leave the package attribute pointing at the module.
"""

from typing import Any

from .loss import swav_loss
from .sinkhorn import sinkhorn
from .spec import SpecError, validate_spec
from .train import train

__all__ = ["SpecError", "export_backbone", "sinkhorn", "swav_loss", "train", "validate_spec"]


def __getattr__(name: str) -> Any:
    # export pulls in torchvision; load it on first use only.
    if name == "export_backbone":
        from .export import export_backbone

        return export_backbone
    raise AttributeError(f"module 'swavlab' has no attribute {name!r}")
