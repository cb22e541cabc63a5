"""Evaluation of a pretrained backbone on the labelled splits of a run's dataset.

`evaluate` runs what a validated `spec["eval"]` asks for:

* `knn`: weighted k-NN on frozen features (knn.py), `knn_top1@<k>`;
* `linear` with `protocol: fast`: a linear probe on features computed once (linear_fast.py),
  `linear_fast_top1` / `linear_fast_top5`;
* `linear` with `protocol: paper`: the paper's linear evaluation on augmented crops (linear_paper.py,
  the authors' eval_linear.py), `linear_top1` / `linear_top5`;
* `semisup`: fine-tuning on 1 % or 10 % of the labels (semisup.py, eval_semisup.py),
  `semisup_top1` / `semisup_top5`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from ..data.base import LabelledDataset
from ..data.seeding import derive_seed
from .features import eval_loader, extract_features, labelled_only, pooled_features
from .knn import knn_top1
from .linear_fast import linear_probe
from .linear_paper import linear_eval
from .semisup import finetune
from .supervised import EpochReport

__all__ = ["EvaluationReport", "evaluate", "extract_features", "knn_top1", "linear_probe", "pooled_features"]

# (evaluation: "linear_paper" | "semisup", epoch just finished (1-based), its epochs, values).
EvaluationReport = Callable[[str, int, int, Mapping[str, float]], None]

# Each protocol draws from its own seed (derive_seed(seed, stream)), so adding one changes no other's numbers.
_PAPER_STREAM = 1
_SEMISUP_STREAM = 2


def _reporter(on_epoch: EvaluationReport | None, evaluation: str) -> EpochReport | None:
    if on_epoch is None:
        return None
    report = on_epoch
    return lambda epoch, epochs, values: report(evaluation, epoch, epochs, values)


def _frozen_feature_evals(
    backbone: nn.Module,
    train_ds: LabelledDataset,
    test_ds: LabelledDataset,
    eval_spec: Mapping[str, Any],
    device: torch.device,
    seed: int,
    batch_size: int,
    workers: int,
) -> dict[str, float]:
    """k-NN and the fast probe, on L2-normalised features of both splits computed once."""
    knn_spec, linear_spec = eval_spec.get("knn"), eval_spec.get("linear")
    fast = linear_spec if linear_spec is not None and linear_spec["protocol"] == "fast" else None
    if knn_spec is None and fast is None:
        return {}
    image_size = train_ds.image_size
    train_f, train_y, test_f, test_y = (
        tensor.to(device)
        for split in (train_ds, test_ds)
        for tensor in extract_features(backbone, eval_loader(split, image_size, batch_size, workers, device), device)
    )
    results: dict[str, float] = {}
    if knn_spec is not None:
        accuracies = knn_top1(
            train_f, train_y, test_f, test_y, list(knn_spec["k"]), float(knn_spec["temperature"]), train_ds.num_classes
        )
        results.update({f"knn_top1@{k}": acc for k, acc in accuracies.items()})
    if fast is not None:
        results.update(
            linear_probe(
                train_f,
                train_y,
                test_f,
                test_y,
                epochs=int(fast["epochs"]),
                lr=float(fast["lr"]),
                batch_size=int(fast["batch_size"]),
                weight_decay=float(fast["weight_decay"]),
                num_classes=train_ds.num_classes,
                seed=seed,
            )
        )
    return results


def evaluate(
    backbone: nn.Module,
    train_ds: LabelledDataset,
    test_ds: LabelledDataset | None,
    eval_spec: Mapping[str, Any],
    device: torch.device | str,
    seed: int,
    *,
    batch_size: int = 256,
    workers: int = 0,
    on_epoch: EvaluationReport | None = None,
) -> dict[str, float]:
    """Runs the evaluations `eval_spec` (a validated `spec["eval"]`) asks for; returns their results in [0, 1].

    `backbone` maps images to pooled features (a SwAVModel's `backbone`). It is used in eval mode and
    left in the mode it came in; its weights are never changed (fine-tuning trains a copy). Unlabelled
    training images are left out; images are evaluated at `train_ds.image_size`. Empty when there is no
    labelled test split, no labelled training image, or nothing to run. `on_epoch` hears of every
    finished epoch of the evaluations that train (the paper's linear protocol and fine-tuning).
    """
    dev = torch.device(device)
    if test_ds is None or len(test_ds) == 0:
        return {}
    train_ds = labelled_only(train_ds)
    if len(train_ds) == 0:
        return {}
    linear_spec, semisup_spec = eval_spec.get("linear"), eval_spec.get("semisup")
    image_size = train_ds.image_size
    was_training = backbone.training
    backbone.eval()
    try:
        results = _frozen_feature_evals(backbone, train_ds, test_ds, eval_spec, dev, seed, batch_size, workers)
        if linear_spec is not None and linear_spec["protocol"] == "paper":
            results.update(
                linear_eval(
                    backbone,
                    train_ds,
                    test_ds,
                    image_size=image_size,
                    epochs=int(linear_spec["epochs"]),
                    lr=float(linear_spec["lr"]),
                    batch_size=int(linear_spec["batch_size"]),
                    weight_decay=float(linear_spec["weight_decay"]),
                    seed=derive_seed(seed, _PAPER_STREAM),
                    device=dev,
                    workers=workers,
                    on_epoch=_reporter(on_epoch, "linear_paper"),
                )
            )
        if semisup_spec is not None:
            results.update(
                finetune(
                    backbone,
                    train_ds,
                    test_ds,
                    semisup_spec,
                    image_size=image_size,
                    seed=derive_seed(seed, _SEMISUP_STREAM),
                    device=dev,
                    workers=workers,
                    on_epoch=_reporter(on_epoch, "semisup"),
                )
            )
    finally:
        backbone.train(was_training)
    return results
