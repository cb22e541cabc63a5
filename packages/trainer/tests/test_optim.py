"""LARS against hand-computed steps; optimiser construction; the lr schedule's shape."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from swavlab.models import build_model
from swavlab.optim import LARS, build_optimizer, lr_schedule


def test_lars_two_steps_by_hand() -> None:
    weight = nn.Parameter(torch.tensor([3.0, 4.0]))
    optimizer = LARS([weight], lr=2.0, momentum=0.9, weight_decay=0.1, trust_coefficient=0.001)

    weight.grad = torch.tensor([0.0, 0.5])
    optimizer.step()
    # |w| = 5, |g| = 0.5: ratio = 0.001 * 5 / (0.5 + 0.1 * 5) = 0.005;
    # update = (g + 0.1 w) * ratio = (0.3, 0.9) * 0.005 = (0.0015, 0.0045); w -= 2 * update.
    first = (0.0015, 0.0045)
    expected = (3.0 - 2 * first[0], 4.0 - 2 * first[1])
    torch.testing.assert_close(weight.detach(), torch.tensor(expected), rtol=0, atol=1e-7)

    weight.grad = torch.tensor([1.0, 0.0])
    optimizer.step()
    w0, w1 = expected
    norm = math.hypot(w0, w1)
    ratio = 0.001 * norm / (1.0 + 0.1 * norm)
    second = ((1.0 + 0.1 * w0) * ratio, (0.0 + 0.1 * w1) * ratio)
    buffer = (0.9 * first[0] + second[0], 0.9 * first[1] + second[1])
    torch.testing.assert_close(
        weight.detach(), torch.tensor((w0 - 2 * buffer[0], w1 - 2 * buffer[1])), rtol=0, atol=1e-7
    )


def test_lars_plain_gradient_when_weights_or_gradient_are_zero() -> None:
    zero_weight = nn.Parameter(torch.zeros(2))
    zero_grad = nn.Parameter(torch.tensor([1.0, -1.0]))
    no_grad = nn.Parameter(torch.tensor([5.0]))
    optimizer = LARS([zero_weight, zero_grad, no_grad], lr=0.5, momentum=0.0, weight_decay=0.1)
    zero_weight.grad = torch.tensor([1.0, 2.0])
    zero_grad.grad = torch.zeros(2)
    optimizer.step()
    torch.testing.assert_close(zero_weight.detach(), torch.tensor([-0.5, -1.0]))
    # No trust ratio and no weight decay either, as SwAV's LARC: the weights stay put.
    torch.testing.assert_close(zero_grad.detach(), torch.tensor([1.0, -1.0]))
    torch.testing.assert_close(no_grad.detach(), torch.tensor([5.0]))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"lr": -1.0}, "lr"), ({"momentum": 1.0}, "momentum"), ({"weight_decay": -1.0}, "weight_decay")],
)
def test_lars_rejects_bad_hyperparameters(kwargs: dict[str, float], name: str) -> None:
    arguments = {"lr": 0.1} | kwargs
    with pytest.raises(ValueError, match=name):
        LARS([nn.Parameter(torch.zeros(1))], **arguments)


def optim_spec(optimizer: str) -> dict[str, object]:
    return {"optimizer": optimizer, "base_lr": 0.6, "momentum": 0.9, "weight_decay": 1e-6}


def model_spec(prototypes_mode: str) -> dict[str, dict[str, object]]:
    return {
        "model": {"arch": "tiny", "small_stem": True, "hidden_mlp": 0, "feat_dim": 8},
        "swav": {"prototypes": 10, "prototypes_mode": prototypes_mode},
    }


@pytest.mark.parametrize(("name", "kind"), [("lars", LARS), ("sgd", torch.optim.SGD)])
def test_build_optimizer(name: str, kind: type) -> None:
    model = build_model(model_spec("learned"))
    optimizer = build_optimizer(model, optim_spec(name))
    assert isinstance(optimizer, kind)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.6, 0.9, 1e-6)
    assert len(group["params"]) == len(list(model.parameters()))


def test_build_optimizer_leaves_fixed_prototypes_out() -> None:
    model = build_model(model_spec("fixed"))
    params = build_optimizer(model, optim_spec("lars")).param_groups[0]["params"]
    assert all(p is not model.prototypes.weight for p in params)
    assert len(params) == len(list(model.parameters())) - 1
    with pytest.raises(ValueError, match="optimizer"):
        build_optimizer(model, optim_spec("adam"))


def test_schedule_warmup_then_cosine() -> None:
    schedule = lr_schedule(4.8, 0.0048, epochs=10, iters_per_epoch=7, warmup_epochs=2, start_warmup=0.3)
    assert schedule.shape == (70,)
    assert schedule[0] == pytest.approx(0.3)
    assert schedule[14] == pytest.approx(4.8)
    assert schedule[-1] == pytest.approx(0.0048)
    assert np.all(np.diff(schedule[:15]) > 0)
    assert np.all(np.diff(schedule[14:]) < 0)
    # Half-way through the cosine the lr is the mean of base and final.
    assert lr_schedule(1.0, 0.0, 1, 101, 0, 0.0)[50] == pytest.approx(0.5)


def test_schedule_without_warmup_starts_at_base_lr() -> None:
    schedule = lr_schedule(0.6, 0.0006, epochs=3, iters_per_epoch=5, warmup_epochs=0, start_warmup=0.0)
    assert schedule[0] == pytest.approx(0.6)
    assert schedule[-1] == pytest.approx(0.0006)
    assert len(lr_schedule(0.6, 0.0, epochs=1, iters_per_epoch=1, warmup_epochs=0, start_warmup=0.0)) == 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"epochs": 0}, "epochs"),
        ({"iters_per_epoch": 0}, "iters_per_epoch"),
        ({"warmup_epochs": 11}, "warmup_epochs"),
    ],
)
def test_schedule_rejects_bad_arguments(kwargs: dict[str, int], name: str) -> None:
    arguments = {"epochs": 10, "iters_per_epoch": 5, "warmup_epochs": 1} | kwargs
    with pytest.raises(ValueError, match=name):
        lr_schedule(1.0, 0.0, start_warmup=0.0, **arguments)
