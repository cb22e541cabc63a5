"""The fast linear probe: SwAV's linear protocol (eval_linear.py: SGD momentum 0.9, weight decay, cosine
learning rate over the epochs, N(0, 0.01) weights, best test epoch) trained on features computed once
instead of on augmented images, which makes it cheap enough to run after every pretraining run and in
grids. Its results are `linear_fast_top1` / `linear_fast_top5`; linear_paper.py is the paper's protocol."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .accuracy import check_labels, topk_accuracy


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
    check_labels(train_y, num_classes, "train labels")
    check_labels(test_y, num_classes, "test labels")
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

    best = {"linear_fast_top1": -1.0, "linear_fast_top5": 0.0}
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
                top1 = topk_accuracy(logits, y_test, 1)
                if top1 > best["linear_fast_top1"]:
                    best = {"linear_fast_top1": top1, "linear_fast_top5": topk_accuracy(logits, y_test, 5)}
    return best
