"""Backbones: ResNets whose parameter names match torchvision's (so exported weights load into
`torchvision.models.resnet50()`), SwAV's widened ResNet-50s, and a tiny CNN for tests.

Every backbone maps images [N, 3, H, W] to globally average-pooled features [N, out_dim]; there is
no classification layer. Widening follows SwAV's `widen`: every stage, the stem included, gets
`widen` times the channels, so resnet50wN ends in 2048 * N features (torchvision's wide_resnet50_2
only widens the bottleneck interiors, hence no matching torchvision constructor).
"""

from collections.abc import Callable

import torch
from torch import nn


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Sequential | None:
    """Projection shortcut when the shape changes (torchvision's `downsample`: conv 1x1 then BN)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(_conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_channels, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _shortcut(in_channels, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride, as torchvision's ResNet v1.5), 1x1 expand by 4."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = _conv1x1(in_channels, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """ResNet trunk without `fc`: conv1, bn1, relu, maxpool, layer1..layer4, avgpool (torchvision's names).

    `small_stem` replaces the 7x7 stride-2 conv and the max-pool by a 3x3 stride-1 conv, which keeps
    enough resolution for 16-64 px images.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: list[int],
        widen: int = 1,
        small_stem: bool = False,
    ) -> None:
        super().__init__()
        stem_channels = 64 * widen
        if small_stem:
            self.conv1 = _conv3x3(3, stem_channels)
        else:
            self.conv1 = nn.Conv2d(3, stem_channels, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool: nn.Module = (
            nn.Identity() if small_stem else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        )
        in_channels = stem_channels
        stages: list[nn.Sequential] = []
        for index, blocks in enumerate(layers):
            planes = stem_channels * 2**index
            stride = 1 if index == 0 else 2
            stage = [block(in_channels, planes, stride)]
            in_channels = planes * block.expansion
            stage += [block(in_channels, planes) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.out_dim = in_channels
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


class TinyCNN(nn.Module):
    """Four conv-BN-ReLU layers (~110k parameters) for tests and CPU smoke runs on 16-32 px images."""

    channels = (24, 48, 64, 128)

    def __init__(self, small_stem: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for index, out_channels in enumerate(self.channels):
            stride = 1 if index == 0 and small_stem else 2
            conv = _conv3x3(in_channels, out_channels, stride)
            layers += [conv, nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.out_dim = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.avgpool(self.features(x)), 1)


_BUILDERS: dict[str, Callable[[bool], nn.Module]] = {
    "tiny": lambda small_stem: TinyCNN(small_stem),
    "resnet18": lambda small_stem: ResNet(BasicBlock, [2, 2, 2, 2], small_stem=small_stem),
    "resnet50": lambda small_stem: ResNet(Bottleneck, [3, 4, 6, 3], small_stem=small_stem),
    "resnet50w2": lambda small_stem: ResNet(Bottleneck, [3, 4, 6, 3], widen=2, small_stem=small_stem),
    "resnet50w4": lambda small_stem: ResNet(Bottleneck, [3, 4, 6, 3], widen=4, small_stem=small_stem),
    "resnet50w5": lambda small_stem: ResNet(Bottleneck, [3, 4, 6, 3], widen=5, small_stem=small_stem),
}

ARCHS = tuple(_BUILDERS)

# Archs whose trunk, with the standard stem, has exactly torchvision's parameter names and shapes.
TORCHVISION_ARCHS = ("resnet18", "resnet50")


def build_backbone(arch: str, small_stem: bool = False) -> tuple[nn.Module, int]:
    """The backbone for `arch` (one of ARCHS) and the dimension of its pooled features."""
    if arch not in _BUILDERS:
        raise ValueError(f"arch: unknown architecture {arch!r}, expected one of {', '.join(ARCHS)}")
    backbone = _BUILDERS[arch](small_stem)
    return backbone, int(backbone.out_dim)
