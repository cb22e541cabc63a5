"""k-NN and the fast linear probe on frozen features, and the evaluate() pipeline."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader

from swavlab.data import EvalDataset, build_datasets
from swavlab.evaluation import evaluate, extract_features, knn, knn_top1, linear_probe

EVAL_SPEC = {"knn": {"k": [1, 5], "temperature": 0.07},
             "linear": {"protocol": "fast", "epochs": 6, "lr": 0.3, "batch_size": 256, "weight_decay": 1e-6}}


def test_knn_weights_votes_by_exp_similarity_over_temperature() -> None:
    # Unit vectors; the query (1, 0) is nearest to a (label 0, sim 1), then b (label 1, sim 0.8),
    # then c (label 1, sim 0). With k = 3: class 0 gets e^(1/T), class 1 gets e^(0.8/T) + e^(0/T).
    train = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    train_y = torch.tensor([0, 1, 1, 0])
    query = torch.tensor([[1.0, 0.0]])
    truth = torch.tensor([0])
    # T = 0.1: e^10 = 22026 > e^8 + 1 = 2982 → class 0 (a plain majority vote would say 1).
    assert knn_top1(train, train_y, query, truth, [1, 3], 0.1, 2) == {1: 1.0, 3: 1.0}
    # T = 10: e^0.1 = 1.105 < e^0.08 + 1 = 2.083 → class 1.
    assert knn_top1(train, train_y, query, truth, [1, 3], 10.0, 2) == {1: 1.0, 3: 0.0}
    # k beyond the training set uses all 4: at T = 10 class 0 gets e^0.1 + e^-0.1 = 2.010 < 2.083,
    # at T = 0.1 e^10 + e^-10 > e^8 + 1.
    assert knn_top1(train, train_y, query, truth, [100], 10.0, 2) == {100: 0.0}
    assert knn_top1(train, train_y, query, truth, [100], 0.1, 2) == {100: 1.0}


def _knn_oracle(train: torch.Tensor, train_y: torch.Tensor, test: torch.Tensor, test_y: torch.Tensor, k: int,
                t: float, c: int) -> float:
    correct = 0
    for q, y in zip(test, test_y, strict=True):
        sims = [(float(q @ x), int(label)) for x, label in zip(train, train_y, strict=True)]
        sims.sort(key=lambda s: -s[0])
        votes = [0.0] * c
        for sim, label in sims[:k]:
            votes[label] += math.exp(sim / t)
        correct += int(int(np.argmax(votes)) == int(y))
    return correct / len(test)


def test_knn_matches_a_direct_loop_and_chunking_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(0)
    train = F.normalize(torch.randn(60, 8, generator=g), dim=1)
    test = F.normalize(torch.randn(25, 8, generator=g), dim=1)
    train_y = torch.randint(0, 4, (60,), generator=g)
    test_y = torch.randint(0, 4, (25,), generator=g)
    whole = knn_top1(train, train_y, test, test_y, [1, 7, 20], 0.5, 4)
    for k in (1, 7, 20):
        assert whole[k] == pytest.approx(_knn_oracle(train, train_y, test, test_y, k, 0.5, 4))
    monkeypatch.setattr(knn, "_KNN_CHUNK_ELEMENTS", 60 * 3)  # 3 test rows per chunk
    assert knn_top1(train, train_y, test, test_y, [1, 7, 20], 0.5, 4) == whole


def test_knn_rejects_labels_outside_the_classes() -> None:
    x = F.normalize(torch.ones(2, 3), dim=1)
    with pytest.raises(ValueError, match="train labels must be in"):
        knn_top1(x, torch.tensor([0, -1]), x, torch.tensor([0, 1]), [1], 0.1, 2)


def _clusters(n: int, classes: int, dim: int, spread: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=torch.Generator().manual_seed(99))
    labels = torch.arange(n) % classes
    points = centres[labels] + spread * torch.randn(n, dim, generator=g)
    return F.normalize(points, dim=1), labels


def test_linear_probe_learns_linearly_separable_features() -> None:
    train_f, train_y = _clusters(400, 10, 32, 0.3, seed=1)
    test_f, test_y = _clusters(200, 10, 32, 0.3, seed=2)
    result = linear_probe(train_f, train_y, test_f, test_y, epochs=8, lr=0.3, batch_size=100, weight_decay=1e-6,
                          num_classes=10, seed=0)
    assert set(result) == {"linear_fast_top1", "linear_fast_top5"}
    assert result["linear_fast_top1"] > 0.95
    assert result["linear_fast_top5"] >= result["linear_fast_top1"]
    again = linear_probe(train_f, train_y, test_f, test_y, epochs=8, lr=0.3, batch_size=100, weight_decay=1e-6,
                         num_classes=10, seed=0)
    assert again == result


def test_linear_probe_cannot_beat_chance_on_unrelated_labels() -> None:
    g = torch.Generator().manual_seed(3)
    train_f = F.normalize(torch.randn(400, 16, generator=g), dim=1)
    test_f = F.normalize(torch.randn(400, 16, generator=g), dim=1)
    train_y, test_y = torch.randint(0, 10, (400,), generator=g), torch.randint(0, 10, (400,), generator=g)
    result = linear_probe(train_f, train_y, test_f, test_y, epochs=5, lr=0.3, batch_size=100, weight_decay=1e-6,
                          num_classes=10, seed=0)
    assert result["linear_fast_top1"] < 0.25
    # With fewer than 5 classes top-5 is always right.
    small = linear_probe(train_f, train_y % 3, test_f, test_y % 3, epochs=1, lr=0.3, batch_size=64,
                         weight_decay=0.0, num_classes=3, seed=0)
    assert small["linear_fast_top5"] == 1.0


def test_extract_features_normalises_and_keeps_order() -> None:
    train = build_datasets({"source": "digits", "image_size": 8, "test_fraction": 0.2}, seed=0).pretrain
    loader = DataLoader(EvalDataset(train, 8), batch_size=100)
    features, labels = extract_features(lambda x: x.flatten(1) * 3.0, loader, "cpu")
    assert features.shape == (len(train), 3 * 64) and features.dtype == torch.float32
    assert torch.allclose(features.norm(dim=1), torch.ones(len(train)), atol=1e-5)
    assert labels.tolist() == list(train.labels)


def test_evaluate_on_digit_pixels_is_accurate() -> None:
    # Raw pixels of the digits are a strong baseline (about 97 % 1-NN): a wiring error between
    # features and labels, or between the two splits, would show as chance-level accuracy.
    splits = build_datasets({"source": "digits", "image_size": 8, "test_fraction": 0.2}, seed=0)
    train, test = splits.eval_train, splits.eval_test
    assert train is not None
    with torch.no_grad():  # under no_grad the probe must still train
        results = evaluate(nn.Flatten(), train, test, EVAL_SPEC, "cpu", seed=0)
    assert set(results) == {"knn_top1@1", "knn_top1@5", "linear_fast_top1", "linear_fast_top5"}
    assert results["knn_top1@1"] > 0.9 and results["knn_top1@5"] > 0.9
    assert results["linear_fast_top1"] > 0.85
    assert all(0.0 <= v <= 1.0 for v in results.values())


def test_evaluate_respects_skipped_evaluations() -> None:
    splits = build_datasets(
        {"source": "synthetic", "num_images": 40, "num_classes": 4, "image_size": 16, "test_fraction": 0.25}, seed=0
    )
    train, test = splits.eval_train, splits.eval_test
    assert train is not None
    backbone = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    only_knn = evaluate(backbone, train, test, {**EVAL_SPEC, "linear": None}, "cpu", seed=0)
    assert set(only_knn) == {"knn_top1@1", "knn_top1@5"}
    only_linear = evaluate(backbone, train, test, {**EVAL_SPEC, "knn": None}, "cpu", seed=0)
    assert set(only_linear) == {"linear_fast_top1", "linear_fast_top5"}
    assert evaluate(backbone, train, test, {"knn": None, "linear": None}, "cpu", seed=0) == {}
    assert evaluate(backbone, train, None, EVAL_SPEC, "cpu", seed=0) == {}
    assert not backbone.training  # evaluate leaves the mode it found


class MeanColour(nn.Module):
    """Features that separate dark from light images."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)) + 3.0


def test_evaluate_ignores_unlabelled_training_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path))
    for cls, value in (("dark", 30), ("light", 220)):
        for i in range(6):
            (tmp_path / "ds" / cls).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (10, 10), (value + i, value, value)).save(tmp_path / "ds" / cls / f"{i}.png")
    for i in range(3):
        Image.new("RGB", (10, 10), (128, 0, 255)).save(tmp_path / "ds" / f"free{i}.png")
    splits = build_datasets({"source": "folder", "path": "ds", "test_fraction": 0.34}, seed=0)
    train, test = splits.eval_train, splits.eval_test
    assert train is not None and -1 in train.labels and test is not None
    results = evaluate(MeanColour(), train, test, EVAL_SPEC, "cpu", seed=0, workers=0)
    assert results["knn_top1@1"] == 1.0 and results["linear_fast_top1"] == 1.0
