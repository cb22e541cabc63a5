"""The random-init baseline: an untrained backbone's k-NN on the run's splits, cached, and reported by runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

import swavlab
from swavlab.data import build_datasets
from swavlab.evaluation import evaluate
from swavlab.evaluation.baseline import INIT_SEED, baseline_key, cache_dir, random_init_knn
from swavlab.models.backbones import build_backbone
from conftest import SpecFactory


def test_it_is_the_untrained_backbone_scored_by_the_same_knn(tiny_spec: SpecFactory) -> None:
    spec = swavlab.validate_spec(tiny_spec())
    splits = build_datasets(spec["data"], spec["seed"])
    assert splits.eval_train is not None and splits.eval_test is not None
    torch.manual_seed(INIT_SEED)
    untrained, _ = build_backbone("tiny", True)
    knn_only = {"knn": spec["eval"]["knn"], "linear": None, "semisup": None}
    expected = evaluate(untrained, splits.eval_train, splits.eval_test, knn_only, "cpu", 0)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    got = random_init_knn(spec, splits.eval_train, splits.eval_test, torch.device("cpu"))
    assert got == {"random_init_knn_top1@3": expected["knn_top1@3"]}
    assert torch.equal(torch.get_rng_state(), before), "the caller's random stream is left alone"


def test_it_is_cached_per_dataset_backbone_and_knn(tiny_spec: SpecFactory) -> None:
    spec = swavlab.validate_spec(tiny_spec())
    splits = build_datasets(spec["data"], spec["seed"])
    assert splits.eval_train is not None and splits.eval_test is not None
    random_init_knn(spec, splits.eval_train, splits.eval_test, torch.device("cpu"))
    [path] = (cache_dir() / "baselines").iterdir()
    assert path.name == f"{baseline_key(spec)}.json" and not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    path.write_text(json.dumps({"random_init_knn_top1@3": 0.125}))  # proves the next call reads the file
    assert random_init_knn(spec, splits.eval_train, splits.eval_test, torch.device("cpu")) == {
        "random_init_knn_top1@3": 0.125
    }
    # What the baseline does not depend on shares it; what it depends on does not.
    same = swavlab.validate_spec(tiny_spec(swav={"prototypes": 30}, optim={"epochs": 9}, model={"feat_dim": 8}))
    assert baseline_key(same) == baseline_key(spec)
    for changed in ({"model": {"arch": "resnet18"}}, {"data": {"num_images": 80}}, {"eval": {"knn": {"k": [5]}}},
                    {"seed": 8}):
        assert baseline_key(swavlab.validate_spec(tiny_spec(**changed))) != baseline_key(spec), changed
    # A fixed data seed shares the baseline between run seeds: the images and the untrained weights are the same.
    assert baseline_key(swavlab.validate_spec(tiny_spec(seed=8, data={"seed": spec["seed"]}))) == baseline_key(spec)
    path.write_text("{not json")  # a damaged cache file is recomputed, not trusted
    assert random_init_knn(spec, splits.eval_train, splits.eval_test, torch.device("cpu"))["random_init_knn_top1@3"] != 0.125


def test_an_unwritable_cache_only_costs_the_recomputation(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    spec = swavlab.validate_spec(tiny_spec())
    splits = build_datasets(spec["data"], spec["seed"])
    assert splits.eval_train is not None and splits.eval_test is not None
    blocked = tmp_path / "file"
    blocked.write_text("")
    values = random_init_knn(spec, splits.eval_train, splits.eval_test, torch.device("cpu"), cache=blocked)
    assert set(values) == {"random_init_knn_top1@3"}
    assert not (os.path.isdir(blocked))


def test_a_run_reports_the_baseline_beside_its_knn(tiny_spec: SpecFactory, tmp_path: Path) -> None:
    events: list[dict] = []
    result = swavlab.train(tiny_spec(optim={"epochs": 1}), on_event=events.append, out_dir=tmp_path / "out")
    [evaluation] = [e for e in events if e["type"] == "eval"]
    assert set(evaluation["values"]) == {"knn_top1@3", "random_init_knn_top1@3"}
    assert result["evals"] == evaluation["values"]
    assert 0.0 <= evaluation["values"]["random_init_knn_top1@3"] <= 1.0
