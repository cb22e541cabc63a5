"""The paper's linear evaluation (Caron et al., NeurIPS 2020, Sec. 4.1 and Table 1), as the authors'
eval_linear.py runs it with its defaults: the backbone is frozen in eval mode and its globally
average-pooled features feed one linear layer (weights N(0, 0.01), bias 0), trained with cross-entropy on
RandomResizedCrop + horizontal flip crops by SGD (momentum 0.9, weight decay, no Nesterov) with the
learning rate cosine-annealed to 0 over the epochs (CosineAnnealingLR stepped once per epoch). After
every epoch the classifier is scored on resize + centre-crop images of the test split; the result is the
best top-1 and the top-5 of that epoch (`linear_top1`, `linear_top5`).

The backbone is frozen in eval mode, so the test features are the same after every epoch: they are
computed once, and each epoch only re-runs the linear layer on them (eval_linear.py recomputes them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.base import LabelledDataset
from .accuracy import BestEpoch, TopKCounter, check_labels
from .features import eval_loader, pooled_features
from .supervised import AugmentedImages, EpochReport, epoch_loader, eval_crop_size

# Test rows scored at once: bounds the [rows, classes] logits.
_SCORE_ROWS = 4096


def new_classifier(in_dim: int, num_classes: int, generator: torch.Generator) -> nn.Linear:
    """eval_linear.py's RegLog layer: weights N(0, 0.01) (drawn from `generator`), bias 0."""
    classifier = nn.Linear(in_dim, num_classes)
    with torch.no_grad():
        classifier.weight.normal_(0.0, 0.01, generator=generator)
        classifier.bias.zero_()
    return classifier


def _score(classifier: nn.Module, features: Tensor, labels: Tensor) -> dict[int, float]:
    counter = TopKCounter()
    with torch.no_grad():
        for start in range(0, features.shape[0], _SCORE_ROWS):
            counter.update(classifier(features[start : start + _SCORE_ROWS]), labels[start : start + _SCORE_ROWS])
    return counter.result()


def linear_eval(
    backbone: nn.Module,
    train_ds: LabelledDataset,
    test_ds: LabelledDataset,
    *,
    image_size: int,
    epochs: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    seed: int,
    device: torch.device,
    workers: int = 0,
    on_epoch: EpochReport | None = None,
) -> dict[str, float]:
    """Trains the linear layer on the frozen `backbone` (in eval mode; the caller sets it) and returns
    `{"linear_top1", "linear_top5"}` in [0, 1].

    `train_ds` and `test_ds` hold labelled images only. Randomness, all from `seed`: the classifier's
    initial weights from `torch.Generator().manual_seed(seed)`, the epochs' order and augmentations as
    swavlab/evaluation/supervised.py describes. Crops are `eval_crop_size(test_ds, image_size)` pixels.
    `on_epoch` hears of every finished epoch.
    """
    num_classes = train_ds.num_classes
    test_f, test_y = pooled_features(backbone, eval_loader(test_ds, image_size, batch_size, workers, device), device)
    check_labels(test_y, num_classes, "test labels")
    test_f, test_y = test_f.to(device), test_y.to(device)

    classifier = new_classifier(test_f.shape[1], num_classes, torch.Generator().manual_seed(seed)).to(device)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay, nesterov=False)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs, eta_min=0.0)
    images = AugmentedImages(train_ds, eval_crop_size(test_ds, image_size), seed)
    best = BestEpoch()
    for epoch in range(epochs):
        lr_now = float(optimizer.param_groups[0]["lr"])
        loss_sum, seen = 0.0, 0
        classifier.train()
        with torch.enable_grad():
            for inputs, targets in epoch_loader(images, batch_size, epoch, workers, device):
                inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
                with torch.no_grad():
                    features = backbone(inputs)
                loss = F.cross_entropy(classifier(features), targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss_sum += float(loss) * targets.shape[0]
                seen += int(targets.shape[0])
        classifier.eval()
        accuracies = _score(classifier, test_f, test_y)
        best.update(accuracies)
        scheduler.step()
        if on_epoch is not None:
            values = {"loss": loss_sum / max(seen, 1), "lr": lr_now, "top1": accuracies[1], "top5": accuracies[5]}
            on_epoch(epoch + 1, epochs, values)
    return {"linear_top1": best.top1, "linear_top5": best.top5}
