"""model.init_from in the authors' release format, runs of 0 epochs, and the official export round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torchvision

import swavlab
from swavlab.__main__ import main
from swavlab.checkpoint import load_checkpoint
from swavlab.spec import SpecError
from conftest import SpecFactory

HIDDEN, FEAT, PROTOTYPES = 64, 16, 10


def release_state_dict(prototypes: int = PROTOTYPES) -> dict[str, torch.Tensor]:
    """Random tensors under the names of the release's resnet50 checkpoints, with DDP's `module.` prefix.

    The trunk: torchvision's resnet50 state dict without `fc`; the head: `projection_head.0/1/3` and
    `prototypes.weight` (src/resnet50.py with hidden_mlp HIDDEN, output_dim FEAT, nmb_prototypes).
    """
    shapes = {k: v.shape for k, v in torchvision.models.resnet50().state_dict().items() if not k.startswith("fc.")}
    shapes |= {
        "projection_head.0.weight": torch.Size([HIDDEN, 2048]),
        "projection_head.0.bias": torch.Size([HIDDEN]),
        "projection_head.1.weight": torch.Size([HIDDEN]),
        "projection_head.1.bias": torch.Size([HIDDEN]),
        "projection_head.1.running_mean": torch.Size([HIDDEN]),
        "projection_head.1.running_var": torch.Size([HIDDEN]),
        "projection_head.1.num_batches_tracked": torch.Size([]),
        "projection_head.3.weight": torch.Size([FEAT, HIDDEN]),
        "projection_head.3.bias": torch.Size([FEAT]),
        "prototypes.weight": torch.Size([prototypes, FEAT]),
    }
    g = torch.Generator().manual_seed(0)
    return {
        f"module.{key}": (
            torch.randint(0, 1000, shape, generator=g)
            if key.endswith("num_batches_tracked")
            else torch.randn(shape, generator=g)
        )
        for key, shape in shapes.items()
    }


def resnet50_spec(tiny_spec: SpecFactory, **changes: Any) -> dict[str, Any]:
    return tiny_spec(
        model={"arch": "resnet50", "small_stem": False, "hidden_mlp": HIDDEN, "feat_dim": FEAT, "init_from": "swav.pth"},
        swav={"prototypes": PROTOTYPES},
        optim={"epochs": 0, "batch_size": 500},  # nothing trains: any batch size will do
        eval={"knn": None, "linear": None},
        **changes,
    )


def test_a_release_checkpoint_loads_and_exports_back_tensor_for_tensor(
    tiny_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path))
    original = release_state_dict()
    torch.save({"epoch": 800, "state_dict": original}, tmp_path / "swav.pth")
    events: list[dict[str, Any]] = []
    result = swavlab.train(resnet50_spec(tiny_spec), on_event=events.append, out_dir=tmp_path / "run")
    assert result["status"] == "succeeded" and result["steps"] == 0 and result["epochs_completed"] == 0
    assert result["last_checkpoint"]["step"] == 0 and result["backbone"] is not None
    assert [e for e in events if e["type"] == "progress"] == [
        {"type": "progress", "epoch": 0, "step": 0, "total_steps": 0, "eta_seconds": 0.0}
    ]
    assert load_checkpoint(result["last_checkpoint"]["path"])["schedule"] == {"iteration": 0, "lr": None}

    out = tmp_path / "official.pth"
    export = ["export", "--checkpoint", result["last_checkpoint"]["path"], "--out", str(out), "--format", "official"]
    assert main(export) == 0
    exported = torch.load(out)["state_dict"]
    assert exported.keys() == original.keys()
    for key, tensor in original.items():
        assert torch.equal(exported[key], tensor), key
    # The torchvision export of the same checkpoint is the release's trunk.
    backbone = torch.load(result["backbone"]["path"])
    assert torch.equal(backbone["layer4.2.conv3.weight"], original["module.layer4.2.conv3.weight"])


def test_init_from_names_missing_unexpected_and_mismatched_keys(
    tiny_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path))
    state = release_state_dict(prototypes=3000)
    del state["module.layer4.2.bn3.running_var"]
    state["module.fc.weight"] = torch.zeros(1000, 2048)
    torch.save(state, tmp_path / "swav.pth")  # the state dict itself, as hubconf's downloads
    with pytest.raises(SpecError) as info:
        swavlab.train(resnet50_spec(tiny_spec), out_dir=tmp_path / "run")
    [error] = info.value.errors
    assert error["path"] == "model.init_from"
    assert "missing keys: layer4.2.bn3.running_var" in error["message"]
    assert "unexpected keys: fc.weight" in error["message"]
    assert "shape mismatches: prototypes.weight (file [3000, 16], model [10, 16])" in error["message"]


def test_init_from_must_be_a_file_inside_the_data_roots(
    tiny_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    torch.save({}, tmp_path / "outside.pth")
    for path, reason in (("../outside.pth", "outside SWAVLAB_DATA_ROOTS"), ("nope.pth", "not an existing file")):
        with pytest.raises(SpecError) as info:
            swavlab.train(tiny_spec(model={"init_from": path}, optim={"epochs": 0}), out_dir=tmp_path / "run")
        assert info.value.errors[0]["path"] == "model.init_from" and reason in info.value.errors[0]["message"]
    (tmp_path / "data" / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(SpecError, match="model.init_from: cannot read"):
        swavlab.train(tiny_spec(model={"init_from": "junk.pth"}, optim={"epochs": 0}), out_dir=tmp_path / "run")


def test_a_resumed_run_does_not_read_init_from_again(
    tiny_spec: SpecFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path))
    # A release-format copy of a tiny model, written with swavlab's own export.
    first = swavlab.train(tiny_spec(optim={"epochs": 0}, eval={"knn": None}), out_dir=tmp_path / "zero")
    export = ["export", "--checkpoint", first["last_checkpoint"]["path"], "--out", str(tmp_path / "w.pth")]
    assert main([*export, "--format", "official"]) == 0
    weights = {k.removeprefix("module."): v for k, v in torch.load(tmp_path / "w.pth")["state_dict"].items()}
    with torch.no_grad():
        for tensor in weights.values():
            if tensor.is_floating_point():
                tensor.add_(1.0)  # unlike any fresh initialisation
    torch.save({"state_dict": weights}, tmp_path / "w.pth")

    spec = tiny_spec(model={"init_from": "w.pth"}, optim={"epochs": 2})
    events: list[dict[str, Any]] = []

    def after_epoch_1() -> bool:
        return any(e["type"] == "checkpoint" for e in events)

    stopped = swavlab.train(spec, on_event=events.append, should_stop=after_epoch_1, out_dir=tmp_path / "run")
    assert stopped["status"] == "canceled" and stopped["epochs_completed"] == 1
    (tmp_path / "w.pth").unlink()
    resumed = swavlab.train(spec, out_dir=tmp_path / "run", resume_from=stopped["last_checkpoint"]["path"])
    assert resumed["status"] == "succeeded" and resumed["epochs_completed"] == 2


def test_zero_epochs_evaluate_the_initial_weights(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    result = swavlab.train(tiny_spec(optim={"epochs": 0, "batch_size": 4096}), on_event=events.append, out_dir=tmp_path)
    assert result["status"] == "succeeded" and result["error"] is None
    assert (result["epochs_completed"], result["steps"], result["final_metrics"]) == (0, 0, {})
    kinds = [e["type"] for e in events]
    assert kinds.index("checkpoint") < kinds.index("eval") < kinds.index("artifact")
    [evaluation] = [e for e in events if e["type"] == "eval"]
    assert (evaluation["epoch"], evaluation["step"]) == (0, 0) and 0 <= evaluation["values"]["knn_top1@3"] <= 1
    assert result["evals"] == evaluation["values"]
    assert events[-1] == {"type": "status", "status": "succeeded"}
