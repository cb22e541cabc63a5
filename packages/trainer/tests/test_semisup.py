"""Semi-supervised fine-tuning: the labelled subset (drawn or listed), learning, and the run's weights untouched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from swavlab.data import build_datasets
from swavlab.data.base import UNLABELLED, LabelledDataset
from swavlab.evaluation import evaluate
from swavlab.evaluation.semisup import finetune, labelled_subset, learning_rates
from swavlab.evaluation.subset import fraction_subset
from swavlab.models import build_backbone
from swavlab.spec import SpecError

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]


class Colours(LabelledDataset):
    """An easy set: class c is a noisy patch of colour c, which every crop and flip still shows."""

    def __init__(self, n: int, seed: int) -> None:
        self.num_classes, self.image_size, self.seed = len(COLOURS), 16, seed
        self._labels = [i % len(COLOURS) for i in range(n)]

    @property
    def labels(self) -> Sequence[int]:
        return self._labels

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        rng = np.random.default_rng((self.seed, index))
        colour = np.array(COLOURS[self._labels[index]], dtype=np.float32)
        pixels = np.clip(colour + rng.normal(0, 40, (16, 16, 3)), 0, 255).astype(np.uint8)
        return Image.fromarray(pixels, "RGB"), self._labels[index]


def semisup_spec(**changes: Any) -> dict[str, Any]:
    spec = {
        "fraction": 0.1,
        "epochs": 4,
        "batch_size": 8,
        "lr_trunk": 0.01,
        "lr_head": 0.2,
        "decay_epochs": [3],
        "gamma": 0.2,
        "weight_decay": 0.0,
    }
    return spec | changes


def test_fraction_subsets_are_seeded_per_class_with_at_least_one_image() -> None:
    labels = [0] * 100 + [1] * 37 + [2] * 3 + [3] + [UNLABELLED] * 50
    chosen = fraction_subset(labels, 0.1, seed=4)
    assert Counter(labels[i] for i in chosen) == {0: 10, 1: 4, 2: 1, 3: 1}
    assert chosen == sorted(chosen) == fraction_subset(labels, 0.1, seed=4)
    assert fraction_subset(labels, 0.1, seed=5) != chosen
    # A class's draw depends on its own members only: another class's images change nothing.
    fewer = [label if label != 1 else UNLABELLED for label in labels]
    assert [i for i in fraction_subset(fewer, 0.1, seed=4) if labels[i] == 0] == [i for i in chosen if labels[i] == 0]
    assert Counter(labels[i] for i in fraction_subset(labels, 0.01, seed=4)) == {0: 1, 1: 1, 2: 1, 3: 1}


def test_release_learning_rates_fill_in_for_null() -> None:
    assert learning_rates(semisup_spec(fraction=0.01, lr_trunk=None, lr_head=None)) == (0.02, 5.0)
    assert learning_rates(semisup_spec(fraction=0.1, lr_trunk=None, lr_head=None)) == (0.01, 0.2)
    assert learning_rates(semisup_spec(fraction=0.1, lr_trunk=0.5, lr_head=None)) == (0.5, 0.2)


def _folder(root: Path) -> None:
    for cls in ("cats", "dogs"):
        for i in range(6):
            (root / "ds" / cls).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(root / "ds" / cls / f"{cls[0]}{i}.png")
        Image.new("RGB", (8, 8)).save(root / "ds" / cls / "same.png")
    Image.new("RGB", (8, 8)).save(root / "ds" / "free.png")


def test_a_subset_file_lists_images_by_name_or_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path))
    _folder(tmp_path)
    train = build_datasets({"source": "folder", "path": "ds", "test_fraction": 0.2}, seed=1).eval_train
    assert train is not None
    paths = [Path(path) for path, _ in _samples(train)]
    unique = [path for path in paths if path.name not in ("same.png", "free.png")]
    same = [path for path in paths if path.name == "same.png"]
    assert len(unique) >= 2 and same  # the split keeps at least one of the two same.png for training
    listed = [unique[0].name, f"{unique[1].parent.name}/{unique[1].name}", f"{same[0].parent.name}/same.png"]
    (tmp_path / "subset.txt").write_text(f"{listed[0]}\n\n  {listed[1]}  \n./{listed[2]}\n", encoding="utf-8")
    subset = labelled_subset(train, semisup_spec(subset_file="subset.txt"), seed=0)
    assert sorted(Path(path) for path, _ in _samples(subset)) == sorted([unique[0], unique[1], same[0]])
    assert all(label != UNLABELLED for _, label in _samples(subset))


def _samples(dataset: Any) -> list[tuple[str, int]]:
    from swavlab.evaluation.subset import sample_files

    files = sample_files(dataset)
    assert files is not None
    return [(path, dataset.labels[i]) for i, path in enumerate(files)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("missing.png\nother/c1.png\n", "2 entries name no image of the training split: 'missing.png', 'other/c1.png'"),
        ("same.png\n", "1 entries name several images; give their path in the split: 'same.png'"),
        ("free.png\n", "1 entries name unlabelled images: 'free.png'"),
        ("\n\n", "lists no images"),
    ],
)
def test_subset_file_errors_name_the_field_and_the_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, message: str
) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path))
    _folder(tmp_path)
    splits = build_datasets({"source": "folder", "path": "ds", "test_fraction": 0.2}, seed=0)
    (tmp_path / "subset.txt").write_text(content, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        labelled_subset(splits.pretrain, semisup_spec(subset_file="subset.txt"), seed=0)
    assert info.value.errors[0]["path"] == "eval.semisup.subset_file"
    assert message in info.value.errors[0]["message"]


def test_a_subset_file_outside_the_data_roots_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAVLAB_DATA_ROOTS", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "list.txt").write_text("a.png\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        labelled_subset(Colours(8, 0), semisup_spec(subset_file="../list.txt"), seed=0)
    assert info.value.errors[0]["path"] == "eval.semisup.subset_file"
    assert "outside SWAVLAB_DATA_ROOTS" in info.value.errors[0]["message"]


def test_fine_tuning_learns_an_easy_set_and_leaves_the_backbone_untouched() -> None:
    torch.manual_seed(0)
    backbone, _ = build_backbone("tiny", small_stem=True)
    backbone.train()
    before = {key: value.clone() for key, value in backbone.state_dict().items()}
    reports: list[tuple[int, int, Mapping[str, float]]] = []
    result = finetune(
        backbone,
        Colours(400, seed=0),
        Colours(80, seed=1),
        semisup_spec(),
        image_size=16,
        seed=1,
        device=torch.device("cpu"),
        on_epoch=lambda epoch, epochs, values: reports.append((epoch, epochs, dict(values))),
    )
    assert result["semisup_top1"] >= 0.9 and result["semisup_top5"] == 1.0  # chance: 0.25
    assert [(epoch, epochs) for epoch, epochs, _ in reports] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    # MultiStepLR([3], 0.2) stepped per epoch: the fourth epoch trains at a fifth of the rate.
    assert [values["lr"] for _, _, values in reports] == pytest.approx([0.01, 0.01, 0.01, 0.002])
    assert backbone.training
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_evaluate_fine_tunes_reproducibly_beside_the_other_evaluations() -> None:
    spec = {"knn": {"k": [3], "temperature": 0.07}, "linear": None, "semisup": semisup_spec(epochs=2)}
    heard: list[str] = []

    def run(seed: int) -> dict[str, float]:
        torch.manual_seed(0)
        backbone, _ = build_backbone("tiny", small_stem=True)
        return evaluate(
            backbone, Colours(200, 0), Colours(40, 1), spec, "cpu", seed, on_epoch=lambda name, *_: heard.append(name)
        )

    first = run(seed=2)
    assert set(first) == {"knn_top1@3", "semisup_top1", "semisup_top5"}
    assert heard == ["semisup", "semisup"]
    assert run(seed=2) == first
