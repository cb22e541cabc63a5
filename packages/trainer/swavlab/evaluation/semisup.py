"""Semi-supervised fine-tuning (Caron et al., NeurIPS 2020, Table 2), as the authors' eval_semisup.py runs
it: the whole network, the pretrained trunk plus a new linear head, is fine-tuned in train mode on a
labelled subset of the training split (1 % or 10 % of each class, or the images a subset file lists)
with RandomResizedCrop + horizontal flip crops, cross-entropy and SGD with momentum 0.9 in two parameter
groups (trunk at `lr_trunk`, head at `lr_head`; null = the release's values for the fraction,
`swavlab.spec.SEMISUP_RELEASE_LRS`), weight decay, and both rates multiplied by `gamma` at each of
`decay_epochs` (MultiStepLR stepped once per epoch). After every epoch the network is scored in eval
mode on resize + centre-crop images of the test split; the result is the best top-1 and the top-5 of that
epoch (`semisup_top1`, `semisup_top5`).

A copy of the backbone is fine-tuned: the run's weights never change.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.base import LabelledDataset, Subset
from ..data.roots import resolve_data_file
from ..spec import SEMISUP_RELEASE_LRS, SpecError
from .accuracy import BestEpoch, TopKCounter
from .features import eval_loader
from .subset import fraction_subset, listed_subset, read_entries
from .supervised import AugmentedImages, EpochReport, epoch_loader, eval_crop_size

SUBSET_FILE_FIELD = "eval.semisup.subset_file"


class FineTuned(nn.Module):
    """The trunk followed by a linear head on its pooled features (eval_semisup.py's `projection_head`)."""

    def __init__(self, trunk: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.trunk = trunk
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x))


def labelled_subset(train_ds: LabelledDataset, semisup_spec: Mapping[str, Any], seed: int) -> LabelledDataset:
    """The images fine-tuning trains on: the subset file's, else `fraction` of each class drawn from `seed`."""
    subset_file = semisup_spec.get("subset_file")
    if subset_file is None:
        return Subset(train_ds, fraction_subset(train_ds.labels, float(semisup_spec["fraction"]), seed))
    path = resolve_data_file(str(subset_file), SUBSET_FILE_FIELD)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError([{"path": SUBSET_FILE_FIELD, "message": f"cannot read {str(path)!r}: {error}"}]) from error
    return Subset(train_ds, listed_subset(train_ds, read_entries(text), SUBSET_FILE_FIELD))


def learning_rates(semisup_spec: Mapping[str, Any]) -> tuple[float, float]:
    """(trunk, head) learning rates: the spec's, or the release's for the fraction where null."""
    release_trunk, release_head = SEMISUP_RELEASE_LRS[float(semisup_spec["fraction"])]
    trunk, head = semisup_spec["lr_trunk"], semisup_spec["lr_head"]
    return (release_trunk if trunk is None else float(trunk), release_head if head is None else float(head))


def _new_network(backbone: nn.Module, sample: Tensor, num_classes: int, seed: int) -> FineTuned:
    trunk = copy.deepcopy(backbone)
    trunk.eval()
    with torch.no_grad():
        out_dim = int(trunk(sample[None]).flatten(1).shape[1])
    # The head gets torch's default Linear initialisation, as the release's; from `seed`, without
    # touching the process's generator.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = nn.Linear(out_dim, num_classes)
    return FineTuned(trunk, head.to(sample.device))


def _score(network: nn.Module, loader: Any, device: torch.device) -> dict[int, float]:
    counter = TopKCounter()
    network.eval()
    with torch.no_grad():
        for inputs, targets in loader:
            counter.update(network(inputs.to(device, non_blocking=True)), targets.to(device))
    return counter.result()


def finetune(
    backbone: nn.Module,
    train_ds: LabelledDataset,
    test_ds: LabelledDataset,
    semisup_spec: Mapping[str, Any],
    *,
    image_size: int,
    seed: int,
    device: torch.device,
    workers: int = 0,
    on_epoch: EpochReport | None = None,
) -> dict[str, float]:
    """Fine-tunes a copy of `backbone` with a new head; returns `{"semisup_top1", "semisup_top5"}` in [0, 1].

    `train_ds` and `test_ds` hold labelled images only; `semisup_spec` is a validated `spec["eval"]["semisup"]`.
    Randomness, all from `seed`: the subset (see subset.py), the head's initialisation, the epochs' order
    and augmentations (supervised.py). `on_epoch` hears of every finished epoch.
    """
    subset = labelled_subset(train_ds, semisup_spec, seed)
    epochs, batch_size = int(semisup_spec["epochs"]), int(semisup_spec["batch_size"])
    test_loader = eval_loader(test_ds, image_size, batch_size, workers, device)
    images = AugmentedImages(subset, eval_crop_size(test_ds, image_size), seed)
    network = _new_network(backbone, images[0][0].to(device), train_ds.num_classes, seed)
    lr_trunk, lr_head = learning_rates(semisup_spec)
    optimizer = torch.optim.SGD(
        [{"params": network.trunk.parameters()}, {"params": network.head.parameters(), "lr": lr_head}],
        lr=lr_trunk,
        momentum=0.9,
        weight_decay=float(semisup_spec["weight_decay"]),
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, list(semisup_spec["decay_epochs"]), gamma=float(semisup_spec["gamma"])
    )
    # BatchNorm cannot train on a batch of one image: drop a last batch that would hold only one.
    drop_last = len(subset) > 1 and len(subset) % batch_size == 1
    best = BestEpoch()
    for epoch in range(epochs):
        lr_now = float(optimizer.param_groups[0]["lr"])
        loss_sum, seen = 0.0, 0
        network.train()
        with torch.enable_grad():
            for inputs, targets in epoch_loader(images, batch_size, epoch, workers, device, drop_last=drop_last):
                inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
                loss = F.cross_entropy(network(inputs), targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss_sum += float(loss) * targets.shape[0]
                seen += int(targets.shape[0])
        accuracies = _score(network, test_loader, device)
        best.update(accuracies)
        scheduler.step()
        if on_epoch is not None:
            values = {"loss": loss_sum / max(seen, 1), "lr": lr_now, "top1": accuracies[1], "top5": accuracies[5]}
            on_epoch(epoch + 1, epochs, values)
    return {"semisup_top1": best.top1, "semisup_top5": best.top5}
