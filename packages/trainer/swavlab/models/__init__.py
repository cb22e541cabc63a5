"""SwAV networks: backbones, projection head, prototypes."""

from .backbones import ARCHS, TORCHVISION_ARCHS, build_backbone
from .head import ProjectionHead
from .swav_model import SwAVModel, build_model, cancel_prototype_gradients

__all__ = [
    "ARCHS",
    "TORCHVISION_ARCHS",
    "ProjectionHead",
    "SwAVModel",
    "build_backbone",
    "build_model",
    "cancel_prototype_gradients",
]
