"""The paper's linear protocol against a plain reimplementation of eval_linear.py's training loop."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torchvision import transforms

from swavlab.data import build_datasets
from swavlab.data.base import LabelledDataset, Subset
from swavlab.data.seeding import derive_seed
from swavlab.data.transforms import MEAN, STD
from swavlab.evaluation import evaluate
from swavlab.evaluation.linear_paper import linear_eval

EPOCHS, LR, BATCH, WD, SEED, SIZE = 3, 0.1, 32, 1e-4, 5, 16


def digits() -> tuple[LabelledDataset, LabelledDataset]:
    splits = build_datasets({"source": "digits", "image_size": SIZE, "test_fraction": 0.2}, seed=0)
    train, test = splits.eval_train, splits.eval_test
    assert train is not None and test is not None
    return Subset(train, range(0, len(train), 5)), Subset(test, range(0, len(test), 2))


def frozen_backbone() -> nn.Module:
    """A tiny random conv net: 32 channels pooled 2 x 2, 128 features."""
    torch.manual_seed(0)
    layers = [nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()]
    return nn.Sequential(*layers).eval()


class SeededAugmentation(Dataset):  # type: ignore[type-arg]
    """eval_linear.py's training transform, item i of epoch e drawn after torch.manual_seed(derive_seed(seed, e, i))."""

    def __init__(self, base: LabelledDataset) -> None:
        self.base = base
        self.epoch = 0
        self.transform = transforms.Compose(
            [
                transforms.RandomResizedCrop(SIZE),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                transforms.Normalize(mean=MEAN, std=STD),
            ]
        )

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index]
        torch.manual_seed(derive_seed(SEED, self.epoch, index))
        return self.transform(image), label


class Plain(Dataset):  # type: ignore[type-arg]
    def __init__(self, base: LabelledDataset, transform: transforms.Compose) -> None:
        self.base = base
        self.transform = transform

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index]
        return self.transform(image), label


def accuracy(output: torch.Tensor, target: torch.Tensor, topk: tuple[int, ...]) -> list[float]:
    """src/utils.py's accuracy, in percent."""
    _, pred = output.topk(max(topk), 1, True, True)
    correct = pred.t().eq(target.view(1, -1).expand_as(pred.t()))
    return [float(correct[:k].reshape(-1).float().sum()) * 100.0 / target.size(0) for k in topk]


def eval_linear_reference(model: nn.Module, train: LabelledDataset, test: LabelledDataset) -> list[dict[str, float]]:
    """main(), train() and validate_network() of eval_linear.py in one process on the CPU; a record per epoch."""
    train_dataset = SeededAugmentation(train)
    val_transform = transforms.Compose(
        [transforms.Resize(SIZE), transforms.CenterCrop(SIZE), transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    )
    val_loader = DataLoader(Plain(test, val_transform), batch_size=BATCH)
    linear = nn.Linear(128, train.num_classes)
    linear.weight.data.normal_(mean=0.0, std=0.01, generator=torch.Generator().manual_seed(SEED))
    linear.bias.data.zero_()
    optimizer = torch.optim.SGD(linear.parameters(), lr=LR, nesterov=False, momentum=0.9, weight_decay=WD)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS, eta_min=0)
    criterion = nn.CrossEntropyLoss()
    records = []
    for epoch in range(EPOCHS):
        sampler = DistributedSampler(train_dataset, num_replicas=1, rank=0, shuffle=True, seed=SEED)
        sampler.set_epoch(epoch)
        train_dataset.epoch = epoch
        lr = optimizer.param_groups[0]["lr"]
        model.eval()
        linear.train()
        loss_sum, seen = 0.0, 0
        for inp, target in DataLoader(train_dataset, sampler=sampler, batch_size=BATCH):
            with torch.no_grad():
                output = model(inp)
            output = linear(output)
            loss = criterion(output, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * inp.size(0)
            seen += inp.size(0)
        linear.eval()
        correct1, correct5, total = 0.0, 0.0, 0
        with torch.no_grad():
            for inp, target in val_loader:
                acc1, acc5 = accuracy(linear(model(inp)), target, topk=(1, 5))
                correct1 += acc1 * inp.size(0)
                correct5 += acc5 * inp.size(0)
                total += inp.size(0)
        scheduler.step()
        records.append({"loss": loss_sum / seen, "lr": lr, "top1": correct1 / total / 100, "top5": correct5 / total / 100})
    return records


def test_paper_protocol_equals_a_plain_eval_linear_loop() -> None:
    train, test = digits()
    backbone = frozen_backbone()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    reports: list[tuple[int, int, Mapping[str, float]]] = []
    result = linear_eval(
        backbone,
        train,
        test,
        image_size=SIZE,
        epochs=EPOCHS,
        lr=LR,
        batch_size=BATCH,
        weight_decay=WD,
        seed=SEED,
        device=torch.device("cpu"),
        on_epoch=lambda epoch, epochs, values: reports.append((epoch, epochs, dict(values))),
    )
    expected = eval_linear_reference(frozen_backbone(), train, test)

    assert [(e, n) for e, n, _ in reports] == [(1, EPOCHS), (2, EPOCHS), (3, EPOCHS)]
    for (_, _, got), want in zip(reports, expected, strict=True):
        assert got["lr"] == pytest.approx(want["lr"], rel=1e-12)
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
        assert got["top1"] == pytest.approx(want["top1"], abs=1e-9)
        assert got["top5"] == pytest.approx(want["top5"], abs=1e-9)
    best = max(range(EPOCHS), key=lambda e: (expected[e]["top1"], -e))
    assert result == pytest.approx({"linear_top1": expected[best]["top1"], "linear_top5": expected[best]["top5"]})
    assert result["linear_top1"] > 0.2  # chance is 0.1
    for key, tensor in backbone.state_dict().items():
        assert torch.equal(tensor, before[key]), key


def test_evaluate_runs_the_paper_protocol_reproducibly_and_reports_epochs() -> None:
    train, test = digits()
    spec = {
        "knn": None,
        "linear": {"protocol": "paper", "epochs": 2, "lr": 0.1, "batch_size": 64, "weight_decay": 0.0},
        "semisup": None,
    }
    heard: list[tuple[str, int, int]] = []
    backbone = frozen_backbone().train()
    first = evaluate(
        backbone, train, test, spec, "cpu", seed=3, on_epoch=lambda name, e, n, _: heard.append((name, e, n))
    )
    assert set(first) == {"linear_top1", "linear_top5"} and backbone.training
    assert heard == [("linear_paper", 1, 2), ("linear_paper", 2, 2)]
    assert evaluate(frozen_backbone(), train, test, spec, "cpu", seed=3, workers=2) == first
    assert evaluate(frozen_backbone(), train, test, spec, "cpu", seed=4) != first
