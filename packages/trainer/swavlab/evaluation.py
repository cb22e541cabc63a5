"""Evaluation of frozen backbone features: weighted k-NN and a linear probe.

k-NN follows InstDisc/DINO: cosine similarity on L2-normalised features, each of the k nearest
training samples votes for its class with weight exp(sim / T). The linear probe follows the SwAV
protocol (SGD momentum 0.9, weight decay, cosine learning rate over the epochs, report the best
test epoch) but trains on features computed once instead of on augmented images, which makes it
cheap enough to run after every pretraining run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from .data.base import LabelledDataset
from .data.seeding import seed_worker
from .data.wrappers import EvalDataset

# Bounds the [chunk, n_train] similarity matrix of k-NN to ~64 MiB of float32.
_KNN_CHUNK_ELEMENTS = 1 << 24


def extract_features(
    backbone_fn: Callable[[Tensor], Tensor],
    loader: Iterable[tuple[Tensor, Tensor]],
    device: torch.device | str,
) -> tuple[Tensor, Tensor]:
    """Runs `backbone_fn` over `loader` without gradients; returns (L2-normalised features [N, d], labels [N]).

    Both tensors are float32/int64 on the CPU, so the device only holds one batch at a time. The
    caller puts the model in eval mode (BatchNorm running statistics).
    """
    features: list[Tensor] = []
    labels: list[Tensor] = []
    with torch.no_grad():
        for images, targets in loader:
            out = backbone_fn(images.to(device, non_blocking=True))
            features.append(F.normalize(out.float().flatten(1), dim=1).cpu())
            labels.append(torch.as_tensor(targets).long().cpu())
    if not features:
        raise ValueError("extract_features: the loader yielded no batches")
    return torch.cat(features), torch.cat(labels)


def _check_labels(labels: Tensor, num_classes: int, name: str) -> None:
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"{name} must be in [0, {num_classes}); got [{int(labels.min())}, {int(labels.max())}]")


def knn_top1(
    train_f: Tensor,
    train_y: Tensor,
    test_f: Tensor,
    test_y: Tensor,
    ks: Sequence[int],
    temperature: float,
    num_classes: int,
) -> dict[int, float]:
    """Weighted k-NN top-1 accuracy in [0, 1] for each k (features L2-normalised).

    Each of the k most similar training samples votes for its label with weight exp(sim / T);
    the class with the largest total wins (ties: lowest class id). k larger than the training set
    uses the whole training set. The test set is processed in chunks so memory stays bounded.
    """
    if not ks:
        raise ValueError("knn_top1: ks must not be empty")
    if train_f.shape[0] == 0 or test_f.shape[0] == 0:
        raise ValueError("knn_top1: needs at least one training and one test sample")
    _check_labels(train_y, num_classes, "train labels")
    _check_labels(test_y, num_classes, "test labels")
    n_train = train_f.shape[0]
    k_max = min(max(ks), n_train)
    chunk = max(1, _KNN_CHUNK_ELEMENTS // n_train)
    train_y = train_y.to(train_f.device)
    correct = dict.fromkeys(ks, 0)
    for start in range(0, test_f.shape[0], chunk):
        similarity = test_f[start : start + chunk] @ train_f.T
        top_sim, top_idx = similarity.topk(k_max, dim=1)  # sorted, most similar first
        neighbour_y = train_y[top_idx]
        weights = (top_sim / temperature).exp()
        truth = test_y[start : start + chunk].to(train_f.device)
        for k in ks:
            kk = min(k, n_train)
            votes = torch.zeros(truth.shape[0], num_classes, device=train_f.device, dtype=weights.dtype)
            votes.scatter_add_(1, neighbour_y[:, :kk], weights[:, :kk])
            correct[k] += int((votes.argmax(dim=1) == truth).sum())
    return {k: correct[k] / test_f.shape[0] for k in ks}


def _topk_accuracy(logits: Tensor, labels: Tensor, k: int) -> float:
    top = logits.topk(min(k, logits.shape[1]), dim=1).indices
    return float((top == labels[:, None]).any(dim=1).float().mean())


def linear_probe(
    train_f: Tensor,
    train_y: Tensor,
    test_f: Tensor,
    test_y: Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    num_classes: int,
    seed: int,
) -> dict[str, float]:
    """Trains a linear classifier on frozen features; returns the best epoch's test top-1/top-5 in [0, 1].

    SGD with momentum 0.9 and weight decay, learning rate cosine-annealed to 0 over the epochs,
    weights initialised N(0, 0.01) as in SwAV's linear evaluation. Features are first standardised
    with the training set's per-dimension mean and std (a parameter-free BatchNorm, as MAE/MoCo v3
    probes do) so the protocol's lr 0.3 suits L2-normalised features of any dimension. Deterministic
    for a seed on a given device. Top-5 is reported at the epoch with the best top-1.
    """
    _check_labels(train_y, num_classes, "train labels")
    _check_labels(test_y, num_classes, "test labels")
    device = train_f.device
    mean = train_f.mean(dim=0)
    std = train_f.std(dim=0).clamp_min(1e-6) if train_f.shape[0] > 1 else torch.ones_like(mean)
    x_train = (train_f.float() - mean) / std
    x_test = (test_f.float().to(device) - mean) / std
    y_train = train_y.to(device)
    y_test = test_y.to(device)

    generator = torch.Generator().manual_seed(seed)
    classifier = torch.nn.Linear(x_train.shape[1], num_classes).to(device)
    with torch.no_grad():
        classifier.weight.copy_(torch.randn(classifier.weight.shape, generator=generator) * 0.01)
        classifier.bias.zero_()
    optimizer = torch.optim.SGD(classifier.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)

    best = {"linear_top1": -1.0, "linear_top5": 0.0}
    n = x_train.shape[0]
    with torch.enable_grad():
        for epoch in range(epochs):
            for group in optimizer.param_groups:  # cosine over epochs, as the protocol's scheduler
                group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
            order = torch.randperm(n, generator=generator).to(device)
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                loss = F.cross_entropy(classifier(x_train[idx]), y_train[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                logits = classifier(x_test)
                top1 = _topk_accuracy(logits, y_test, 1)
                if top1 > best["linear_top1"]:
                    best = {"linear_top1": top1, "linear_top5": _topk_accuracy(logits, y_test, 5)}
    return best


def _loader(dataset: LabelledDataset, image_size: int, batch_size: int, workers: int, device: torch.device) -> DataLoader:  # type: ignore[type-arg]
    return DataLoader(
        EvalDataset(dataset, image_size),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        worker_init_fn=seed_worker,
        pin_memory=device.type == "cuda",
    )


def evaluate(
    model_features_fn: Callable[[Tensor], Tensor],
    train_ds: LabelledDataset,
    test_ds: LabelledDataset | None,
    eval_spec: Mapping[str, Any],
    device: torch.device | str,
    seed: int,
    image_size: int,
    *,
    batch_size: int = 256,
    workers: int = 0,
) -> dict[str, float]:
    """Features of the train and test splits, computed once, then k-NN and the linear probe.

    `eval_spec` is a validated `spec["eval"]`; `knn: None` / `linear: None` skip that evaluation.
    Returns `{"knn_top1@<k>": ..., "linear_top1": ..., "linear_top5": ...}` (values in [0, 1]);
    empty when there is no labelled test split or nothing to run. Unlabelled training images are
    left out. `image_size` is the evaluation resolution (pass `train_ds.image_size`); the caller
    puts the model in eval mode.
    """
    knn_spec = eval_spec.get("knn")
    linear_spec = eval_spec.get("linear")
    if test_ds is None or len(test_ds) == 0 or (knn_spec is None and linear_spec is None):
        return {}
    dev = torch.device(device)
    train_f, train_y = extract_features(
        model_features_fn, _loader(train_ds, image_size, batch_size, workers, dev), dev
    )
    labelled = train_y >= 0
    train_f, train_y = train_f[labelled], train_y[labelled]
    if train_f.shape[0] == 0:
        return {}
    test_f, test_y = extract_features(model_features_fn, _loader(test_ds, image_size, batch_size, workers, dev), dev)
    train_f, train_y, test_f, test_y = (t.to(dev) for t in (train_f, train_y, test_f, test_y))
    num_classes = train_ds.num_classes

    results: dict[str, float] = {}
    if knn_spec is not None:
        accuracies = knn_top1(
            train_f, train_y, test_f, test_y, list(knn_spec["k"]), float(knn_spec["temperature"]), num_classes
        )
        results.update({f"knn_top1@{k}": acc for k, acc in accuracies.items()})
    if linear_spec is not None:
        results.update(
            linear_probe(
                train_f,
                train_y,
                test_f,
                test_y,
                epochs=int(linear_spec["epochs"]),
                lr=float(linear_spec["lr"]),
                batch_size=int(linear_spec["batch_size"]),
                weight_decay=float(linear_spec["weight_decay"]),
                num_classes=num_classes,
                seed=seed,
            )
        )
    return results
