"""What a run reads from its data source, and the summary of it that the run reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .base import LabelledDataset

# Skipped files listed by name in a summary; the count covers all of them.
SKIPPED_EXAMPLES = 5


@dataclass(frozen=True)
class DatasetSplits:
    """The images a run pretrains on and the labelled splits its evaluations use.

    `eval_train` trains the evaluation (k-NN bank, linear classifier, fine-tuning) and `eval_test`
    scores it; both are None when the source has no labels to evaluate against. `skipped` lists the
    files left out, as (path, reason), and `num_classes` the classes the source has.
    """

    source: str
    pretrain: LabelledDataset
    eval_train: LabelledDataset | None
    eval_test: LabelledDataset | None
    num_classes: int
    skipped: Sequence[tuple[str, str]] = ()

    def summary(self) -> dict[str, Any]:
        """Source, class and image counts of each split, and what was skipped, for the run's record."""
        return {
            "source": self.source,
            "classes": self.num_classes,
            "pretrain_images": len(self.pretrain),
            "eval_train_images": 0 if self.eval_train is None else len(self.eval_train),
            "eval_test_images": 0 if self.eval_test is None else len(self.eval_test),
            "skipped": len(self.skipped),
            "skipped_examples": [{"path": path, "reason": reason} for path, reason in self.skipped[:SKIPPED_EXAMPLES]],
        }
