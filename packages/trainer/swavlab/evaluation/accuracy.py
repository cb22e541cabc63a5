"""Top-k accuracy as the authors' release measures it (src/utils.py `accuracy`), accumulated over batches."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor

TOP_K = (1, 5)


def check_labels(labels: Tensor, num_classes: int, name: str) -> None:
    """Raises ValueError unless every label is a class id in [0, num_classes)."""
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"{name} must be in [0, {num_classes}); got [{int(labels.min())}, {int(labels.max())}]")


def topk_accuracy(logits: Tensor, labels: Tensor, k: int) -> float:
    """Fraction of rows whose label is among the k largest logits (all of them when k exceeds the classes)."""
    top = logits.topk(min(k, logits.shape[1]), dim=1).indices
    return float((top == labels[:, None]).any(dim=1).float().mean())


@dataclass
class TopKCounter:
    """Correct top-1 / top-5 predictions summed over batches; `result()` gives the accuracies in [0, 1]."""

    correct: dict[int, int] = field(default_factory=lambda: dict.fromkeys(TOP_K, 0))
    total: int = 0

    def update(self, logits: Tensor, labels: Tensor) -> None:
        """Counts one batch of logits [B, classes] against its labels [B]."""
        top = logits.topk(min(max(TOP_K), logits.shape[1]), dim=1).indices
        hits = top == labels[:, None].to(top.device)
        for k in TOP_K:
            self.correct[k] += int(hits[:, :k].any(dim=1).sum())
        self.total += int(labels.shape[0])

    def result(self) -> dict[int, float]:
        """{1: top-1, 5: top-5} over everything counted."""
        if self.total == 0:
            raise ValueError("TopKCounter: nothing was counted")
        return {k: self.correct[k] / self.total for k in TOP_K}


@dataclass
class BestEpoch:
    """The best top-1 over the epochs and the top-5 of that epoch, as eval_semisup.py keeps `best_acc`."""

    top1: float = -1.0
    top5: float = 0.0

    def update(self, accuracies: dict[int, float]) -> None:
        """Keeps the epoch's accuracies when its top-1 beats every earlier epoch's (ties keep the earlier)."""
        if accuracies[1] > self.top1:
            self.top1, self.top5 = accuracies[1], accuracies[5]
