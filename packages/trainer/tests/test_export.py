"""export_backbone: torchvision loads resnet18/resnet50 strictly; other archs load into our backbones."""

from pathlib import Path
from typing import Any

import pytest
import torch
import torchvision
from torch import nn

from swavlab.export import export_backbone
from swavlab.models import SwAVModel, build_backbone, build_model


def spec(arch: str, small_stem: bool) -> dict[str, Any]:
    return {
        "model": {"arch": arch, "small_stem": small_stem, "hidden_mlp": 32, "feat_dim": 16},
        "swav": {"prototypes": 20, "prototypes_mode": "learned"},
    }


def trained_checkpoint(path: Path, arch: str, small_stem: bool, ddp_prefix: bool = False) -> SwAVModel:
    """A checkpoint whose weights differ from any fresh initialisation (BN statistics included)."""
    torch.manual_seed(0)
    model = build_model(spec(arch, small_stem))
    model.train()
    with torch.no_grad():
        model([torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)])
        for param in model.parameters():
            param.add_(0.01 * torch.randn_like(param))
    state = model.state_dict()
    if ddp_prefix:
        state = {f"module.{name}": tensor for name, tensor in state.items()}
    torch.save({"spec": spec(arch, small_stem), "model": state, "epoch": 1}, path)
    return model.eval()


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_torchvision_loads_the_export_strictly(tmp_path: Path, arch: str) -> None:
    model = trained_checkpoint(tmp_path / "ckpt.pt", arch, small_stem=False)
    out = export_backbone(tmp_path / "ckpt.pt", tmp_path / "out" / "backbone.pt")
    assert out == tmp_path / "out" / "backbone.pt"
    reference = getattr(torchvision.models, arch)()
    reference.load_state_dict(torch.load(out), strict=True)
    reference.fc = nn.Identity()
    reference.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(reference(x), model.features(x), rtol=1e-4, atol=1e-5)
    assert not any(p.name.endswith(".partial") for p in out.parent.iterdir())


@pytest.mark.parametrize(("arch", "small_stem"), [("resnet18", True), ("tiny", False)])
def test_other_archs_export_the_backbone_weights(tmp_path: Path, arch: str, small_stem: bool) -> None:
    model = trained_checkpoint(tmp_path / "ckpt.pt", arch, small_stem, ddp_prefix=True)
    out = export_backbone(tmp_path / "ckpt.pt", tmp_path / "backbone.pt")
    exported = torch.load(out)
    assert set(exported) == set(model.backbone.state_dict())
    backbone, _ = build_backbone(arch, small_stem)
    backbone.load_state_dict(exported, strict=True)
    backbone.eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(backbone(x), model.features(x))
    if arch == "resnet18":
        # The 3x3 stem has no torchvision counterpart: a strict load must fail, as documented.
        with pytest.raises(RuntimeError):
            torchvision.models.resnet18().load_state_dict(exported, strict=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"model": {}}, r"checkpoint\.spec"),
        ({"spec": spec("tiny", False)}, r"checkpoint\.model"),
        ({"spec": spec("tiny", False), "model": {"head.weight": torch.zeros(1)}}, "no backbone weights"),
        ([1, 2], "dict"),
    ],
)
def test_bad_checkpoints_are_named(tmp_path: Path, content: object, message: str) -> None:
    torch.save(content, tmp_path / "ckpt.pt")
    with pytest.raises(ValueError, match=message):
        export_backbone(tmp_path / "ckpt.pt", tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()
