"""Backbones, projection head and SwAVModel: shapes per arch, torchvision names, multi-crop grouping."""

from typing import Any

import pytest
import torch
import torchvision
from torch import nn

from swavlab.loss import swav_loss
from swavlab.models import (
    ARCHS,
    ProjectionHead,
    SwAVModel,
    build_backbone,
    build_model,
    cancel_prototype_gradients,
)


def spec(arch: str = "tiny", **overrides: Any) -> dict[str, Any]:
    model = {"arch": arch, "small_stem": True, "hidden_mlp": 64, "feat_dim": 16}
    swav = {"prototypes": 30, "prototypes_mode": "learned"}
    for key, value in overrides.items():
        (swav if key in swav else model)[key] = value
    return {"model": model, "swav": swav}


def images(n: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("arch", "small_stem", "size", "out_dim"),
    [
        ("tiny", True, 16, 128),
        ("tiny", False, 32, 128),
        ("resnet18", True, 16, 512),
        ("resnet18", False, 32, 512),
        ("resnet50", False, 32, 2048),
    ],
)
def test_backbone_pooled_features(arch: str, small_stem: bool, size: int, out_dim: int) -> None:
    backbone, dim = build_backbone(arch, small_stem)
    assert dim == out_dim
    assert backbone(images(2, size)).shape == (2, out_dim)


def test_tiny_is_small() -> None:
    backbone, _ = build_backbone("tiny")
    assert 50_000 < sum(p.numel() for p in backbone.parameters()) < 200_000


def test_widened_resnet50_matches_swav() -> None:
    backbone, dim = build_backbone("resnet50w2")
    assert dim == 4096
    # The wide-model comparison of the paper lists ResNet-50-w2 at 94M parameters (trunk, no classifier).
    assert round(sum(p.numel() for p in backbone.parameters()) / 1e6) == 94
    assert backbone.conv1.out_channels == 128
    backbone.eval()
    assert backbone(images(1, 32)).shape == (1, 4096)


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_resnet_parameter_names_are_torchvision_names(arch: str) -> None:
    ours = build_backbone(arch)[0].state_dict()
    reference = getattr(torchvision.models, arch)().state_dict()
    assert set(reference) - set(ours) == {"fc.weight", "fc.bias"}
    assert set(ours) <= set(reference)
    assert all(ours[name].shape == reference[name].shape for name in ours)


def test_small_stem_keeps_resolution() -> None:
    backbone, _ = build_backbone("resnet18", small_stem=True)
    assert backbone.conv1.kernel_size == (3, 3) and backbone.conv1.stride == (1, 1)
    assert isinstance(backbone.maxpool, nn.Identity)
    trunk = nn.Sequential(backbone.conv1, backbone.maxpool, backbone.layer1)
    assert trunk(images(1, 16)).shape[-2:] == (16, 16)


def test_unknown_arch_is_named() -> None:
    with pytest.raises(ValueError, match="arch"):
        build_backbone("vgg16")
    assert "resnet50w5" in ARCHS


@pytest.mark.parametrize(("hidden_mlp", "n_layers"), [(0, 1), (32, 4)])
def test_projection_head_outputs_unit_vectors(hidden_mlp: int, n_layers: int) -> None:
    head = ProjectionHead(20, hidden_mlp, 8)
    assert len(head) == n_layers
    out = head(torch.randn(5, 20))
    assert out.shape == (5, 8)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(5))


def test_forward_multi_crop_shapes_and_cosine_scores() -> None:
    model = build_model(spec())
    model.normalize_prototypes()
    crops = [images(4, 16, 1), images(4, 16, 2), images(4, 8, 3), images(4, 8, 4), images(4, 8, 5)]
    embeddings, scores = model(crops)
    assert embeddings.shape == (20, 16)
    assert scores.shape == (20, 30)
    torch.testing.assert_close(model.prototypes.weight.norm(dim=1), torch.ones(30))
    assert model.prototypes.bias is None
    assert float(scores.abs().max()) <= 1.0 + 1e-6
    torch.testing.assert_close(scores, embeddings @ model.prototypes.weight.t())


def test_crops_of_one_resolution_share_a_backbone_call_and_keep_their_order() -> None:
    model = build_model(spec()).eval()
    calls: list[int] = []
    model.backbone.register_forward_hook(lambda _m, inputs, _o: calls.append(inputs[0].shape[0]))
    crops = [images(3, 16, 1), images(3, 16, 2), images(3, 8, 3), images(3, 16, 4)]
    embeddings, _ = model(crops)
    assert calls == [6, 3, 3]
    calls.clear()
    one_by_one = torch.cat([model.projection_head(model.features(crop)) for crop in crops])
    torch.testing.assert_close(embeddings, one_by_one, rtol=1e-5, atol=1e-6)


def test_features_are_pooled_backbone_outputs() -> None:
    model = build_model(spec("resnet18"))
    assert model.features(images(2, 16)).shape == (2, 512)


def test_fixed_prototypes_are_random_unit_vectors_that_never_train() -> None:
    fixed = build_model(spec(prototypes_mode="fixed"))
    weight = fixed.prototypes.weight
    assert not weight.requires_grad
    torch.testing.assert_close(weight.norm(dim=1), torch.ones(30))
    _, scores = fixed([images(4, 16, 1), images(4, 16, 2)])
    swav_loss(scores, [0, 1], 4).backward()
    assert weight.grad is None
    assert fixed.projection_head[0].weight.grad is not None


def test_cancel_prototype_gradients() -> None:
    model = build_model(spec())
    _, scores = model([images(4, 16, 1), images(4, 16, 2)])
    swav_loss(scores, [0, 1], 4).backward()
    assert model.prototypes.weight.grad is not None
    cancel_prototype_gradients(model)
    assert model.prototypes.weight.grad is None
    assert model.projection_head[0].weight.grad is not None


def test_channels_last_gives_the_same_outputs() -> None:
    reference = build_model(spec("resnet18", small_stem=False)).eval()
    nhwc = build_model(spec("resnet18", small_stem=False), channels_last=True).eval()
    nhwc.load_state_dict(reference.state_dict())
    assert nhwc.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    crops = [images(2, 32, 1), images(2, 32, 2)]
    for got, want in zip(nhwc(crops), reference(crops), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_swav_model_rejects_empty_crops() -> None:
    model: SwAVModel = build_model(spec())
    with pytest.raises(ValueError, match="crops"):
        model([])
