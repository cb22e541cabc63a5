"""The Python-side spec validation: defaults, limits, cross-field rules and error reporting."""

from __future__ import annotations

import copy
import importlib
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import swavlab.spec
from swavlab.spec import DEFAULTS, RECIPES, SpecError, parse_crops, rank_count, validate_spec

SWAVLAB = Path(swavlab.spec.__file__).parent


def errors_of(spec: Any) -> list[dict[str, str]]:
    with pytest.raises(SpecError) as info:
        validate_spec(spec)
    return info.value.errors


def paths_of(spec: Any) -> list[str]:
    return [e["path"] for e in errors_of(spec)]


def test_empty_spec_gets_every_documented_default() -> None:
    spec = validate_spec({})
    assert spec == DEFAULTS
    assert spec == {
        "tags": [],
        "seed": 31,
        "data": {
            "source": "synthetic",
            "num_images": 4096,
            "num_classes": 10,
            "image_size": 32,
            "test_fraction": 0.2,
            "augment": {"flip_p": 0.5, "jitter_strength": 1.0, "jitter_p": 0.8, "grayscale_p": 0.2, "blur_p": 0.5},
        },
        "model": {"arch": "resnet50", "small_stem": False, "hidden_mlp": 2048, "feat_dim": 128},
        "swav": {
            "prototypes": 3000,
            "temperature": 0.1,
            "epsilon": 0.05,
            "sinkhorn_iterations": 3,
            "assignment": "soft",
            "prototypes_mode": "learned",
            "freeze_prototypes_iters": 313,
            "queue_length": 0,
            "queue_start_epoch": 15,
            "crops": [
                {"count": 2, "size": 224, "min_scale": 0.14, "max_scale": 1.0},
                {"count": 6, "size": 96, "min_scale": 0.05, "max_scale": 0.14},
            ],
            "crops_for_assign": [0, 1],
        },
        "optim": {
            "optimizer": "lars",
            "base_lr": 4.8,
            "final_lr": 0.0048,
            "warmup_epochs": 10,
            "start_warmup": 0.3,
            "weight_decay": 1e-6,
            "momentum": 0.9,
            "batch_size": 64,
            "epochs": 100,
        },
        "runtime": {"device": "auto", "gpus": 1, "processes": 1, "precision": "fp32", "sync_bn": True, "workers": 4, "threads": 0},
        "checkpoint": {"every_epochs": 1, "keep_last": 2},
        "eval": {
            "every_epochs": 0,
            "knn": {"k": [20, 200], "temperature": 0.07},
            "linear": {"protocol": "fast", "epochs": 100, "lr": 0.3, "batch_size": 256, "weight_decay": 1e-6},
            "semisup": None,
        },
    }
    # No optional-without-default keys appear, and the scales are floats on the wire.
    assert "name" not in spec and "path" not in spec["data"]
    assert all(isinstance(g["max_scale"], float) for g in spec["swav"]["crops"])
    assert json.loads(json.dumps(spec)) == spec


def test_validate_returns_a_new_dict_and_leaves_the_input_alone() -> None:
    raw = {"swav": {"crops": "2x32+4x16"}, "tags": ["a"]}
    before = copy.deepcopy(raw)
    out = validate_spec(raw)
    assert raw == before
    out["tags"].append("b")
    assert raw["tags"] == ["a"] and DEFAULTS["tags"] == []


def test_given_values_are_kept_and_nested_defaults_filled() -> None:
    out = validate_spec(
        {
            "name": "k300",
            "seed": 0,
            "data": {"source": "folder", "path": "imgs"},
            "model": {"arch": "tiny", "small_stem": True, "hidden_mlp": 0},
            "optim": {"base_lr": 1, "batch_size": 32, "epochs": 5, "warmup_epochs": 5},
            "swav": {"queue_length": 3840 // 128 * 64, "crops_for_assign": [1]},
            "runtime": {"gpus": 2},
            "eval": {"knn": {"k": [5]}, "linear": None},
        }
    )
    assert out["name"] == "k300" and out["seed"] == 0
    assert out["data"] == {
        "source": "folder",
        "path": "imgs",
        "num_images": 4096,
        "num_classes": 10,
        "image_size": 32,
        "test_fraction": 0.2,
        "augment": {"flip_p": 0.5, "jitter_strength": 1.0, "jitter_p": 0.8, "grayscale_p": 0.2, "blur_p": 0.5},
    }
    assert out["optim"]["base_lr"] == 1.0 and isinstance(out["optim"]["base_lr"], float)
    assert out["eval"]["knn"] == {"k": [5], "temperature": 0.07}
    assert out["eval"]["linear"] is None


def test_integral_floats_count_as_integers_but_bools_do_not() -> None:
    assert validate_spec({"optim": {"batch_size": 32.0}})["optim"]["batch_size"] == 32
    assert isinstance(validate_spec({"optim": {"batch_size": 32.0}})["optim"]["batch_size"], int)
    assert errors_of({"optim": {"batch_size": 32.5}}) == [
        {"path": "optim.batch_size", "message": "must be an integer between 1 and 65536; got 32.5"}
    ]
    assert paths_of({"seed": True}) == ["seed"]
    assert paths_of({"model": {"small_stem": 1}}) == ["model.small_stem"]
    assert paths_of({"optim": {"momentum": False}}) == ["optim.momentum"]


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        ({"optim": {"batch_size": 0}}, "optim.batch_size", "must be an integer between 1 and 65536; got 0"),
        ({"seed": 2**31}, "seed", "must be an integer between 0 and 2147483647; got 2147483648"),
        ({"data": {"num_images": 15}}, "data.num_images", "must be an integer between 16 and 10000000; got 15"),
        ({"data": {"test_fraction": 0}}, "data.test_fraction", "must be a number > 0 and <= 0.9; got 0"),
        ({"data": {"augment": {"blur_p": 1.5}}}, "data.augment.blur_p", "must be a number >= 0 and <= 1; got 1.5"),
        ({"data": {"augment": {"jitter_strength": 3}}}, "data.augment.jitter_strength",
         "must be a number >= 0 and <= 2.5; got 3"),
        ({"data": {"augment": {"solarize_p": 0.1}}}, "data.augment.solarize_p",
         "unknown field 'solarize_p' (allowed: flip_p, jitter_strength, jitter_p, grayscale_p, blur_p)"),
        ({"data": {"test_fraction": 0.95}}, "data.test_fraction", "must be a number > 0 and <= 0.9; got 0.95"),
        ({"swav": {"temperature": 0}}, "swav.temperature", "must be a number >= 0.001 and <= 10; got 0"),
        ({"optim": {"momentum": 1}}, "optim.momentum", "must be a number >= 0 and < 1; got 1"),
        ({"optim": {"final_lr": -0.1}}, "optim.final_lr", "must be a number >= 0 and <= 100; got -0.1"),
        ({"swav": {"queue_start_epoch": -1}}, "swav.queue_start_epoch", "must be an integer between 0 and 10000; got -1"),
        ({"eval": {"every_epochs": 9 * 10**15}}, "eval.every_epochs", "must be an integer between 0 and 10000; got 9000000000000000"),
        ({"eval": {"knn": {"temperature": 1e308}}}, "eval.knn.temperature", "must be a number >= 0.001 and <= 10; got 1e+308"),
        ({"model": {"arch": "vit"}}, "model.arch", "must be one of 'tiny', 'resnet18', 'resnet50', "
         "'resnet50w2', 'resnet50w4', 'resnet50w5'; got 'vit'"),
        ({"runtime": {"sync_bn": "yes"}}, "runtime.sync_bn", "must be a boolean; got 'yes'"),
        ({"name": ""}, "name", "must be a string of 1..200 characters; got ''"),
        ({"eval": {"knn": {"k": []}}}, "eval.knn.k", "must have 1..16 entries; got 0"),
        ({"eval": {"knn": {"k": [0]}}}, "eval.knn.k[0]", "must be an integer between 1 and 10000; got 0"),
        ({"eval": {"linear": {"lr": 0}}}, "eval.linear.lr", "must be a number >= 1e-06 and <= 100; got 0"),
        ({"data": None}, "data", "must be an object; got null"),
    ],
)
def test_limits_are_enforced_with_path_and_reason(spec: dict[str, Any], path: str, message: str) -> None:
    assert errors_of(spec) == [{"path": path, "message": message}]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_rejected(bad: float) -> None:
    errors = errors_of({"swav": {"epsilon": bad}, "optim": {"epochs": bad}})
    assert [e["path"] for e in errors] == ["swav.epsilon", "optim.epochs"]
    assert "finite" in errors[0]["message"]


def test_huge_integers_are_rejected_without_overflow() -> None:
    assert paths_of({"optim": {"base_lr": 10**400}, "swav": {"queue_start_epoch": 2**60}}) == [
        "swav.queue_start_epoch",
        "optim.base_lr",
    ]


def test_unknown_keys_are_rejected_by_name_at_every_level() -> None:
    errors = errors_of(
        {"epochs": 3, "data": {"sorce": "digits"}, "eval": {"knn": {"kk": [1]}}, "swav": {"crops": [{"count": 2, "size": 32,
         "min_scale": 0.1, "max_scale": 1, "extra": 1}]}}
    )
    assert [e["path"] for e in errors] == ["epochs", "data.sorce", "swav.crops[0].extra", "eval.knn.kk"]
    assert errors[0]["message"].startswith("unknown field 'epochs'")


def test_all_errors_are_collected_and_listed_one_per_line() -> None:
    spec = {"seed": -1, "model": {"feat_dim": 1}, "optim": {"optimizer": "adam"}, "tags": ["ok", "bad tag"]}
    errors = errors_of(spec)
    assert [e["path"] for e in errors] == ["tags[1]", "seed", "model.feat_dim", "optim.optimizer"]
    with pytest.raises(SpecError) as info:
        validate_spec(spec)
    lines = str(info.value).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("tags[1]: must be a string of 1..64 characters")
    assert isinstance(info.value, ValueError)


def test_tags_limits() -> None:
    assert validate_spec({"tags": ["a.b:c/d-e_F9"]})["tags"] == ["a.b:c/d-e_F9"]
    assert paths_of({"tags": ["x" * 65]}) == ["tags[0]"]
    assert paths_of({"tags": ["ok\n"]}) == ["tags[0]"]
    assert paths_of({"tags": [f"t{i}" for i in range(33)]}) == ["tags"]
    assert paths_of({"tags": "a"}) == ["tags"]


def test_folder_path_is_required_for_folder_and_forbidden_otherwise() -> None:
    assert errors_of({"data": {"source": "folder"}}) == [
        {"path": "data.path", "message": 'is required when data.source is "folder"'}
    ]
    assert paths_of({"data": {"path": "x"}}) == ["data.path"]
    assert paths_of({"data": {"source": "digits", "path": "x"}}) == ["data.path"]


def test_warmup_must_not_exceed_epochs() -> None:
    assert validate_spec({"optim": {"epochs": 5, "warmup_epochs": 5}})["optim"]["warmup_epochs"] == 5
    assert errors_of({"optim": {"epochs": 5}}) == [
        {"path": "optim.warmup_epochs", "message": "must be <= optim.epochs (5); got 10"}
    ]


def test_queue_length_must_be_a_multiple_of_the_global_batch() -> None:
    ok = {"swav": {"queue_length": 3840}, "optim": {"batch_size": 64}, "runtime": {"gpus": 2}}
    assert validate_spec(ok)["swav"]["queue_length"] == 3840
    errors = errors_of({"swav": {"queue_length": 3840}, "optim": {"batch_size": 256}, "runtime": {"gpus": 4}})
    assert errors == [
        {
            "path": "swav.queue_length",
            "message": "must be a multiple of batch_size × ranks (256 × 4 = 1024); got 3840",
        }
    ]
    assert errors_of({"swav": {"queue_length": 96}, "optim": {"batch_size": 16}, "runtime": {"processes": 4}}) == [
        {"path": "swav.queue_length", "message": "must be a multiple of batch_size × ranks (16 × 4 = 64); got 96"}
    ]
    # The rule is skipped when one of its inputs is itself invalid: only that field is reported.
    assert paths_of({"swav": {"queue_length": 100}, "optim": {"batch_size": 0}}) == ["optim.batch_size"]


def test_gpu_ranks_and_cpu_processes_are_kept_apart() -> None:
    assert paths_of({"runtime": {"gpus": 2, "processes": 2}}) == ["runtime.processes"]
    assert paths_of({"runtime": {"device": "cpu", "gpus": 2}}) == ["runtime.gpus"]
    assert paths_of({"runtime": {"device": "cuda", "processes": 2}}) == ["runtime.processes"]
    assert validate_spec({"runtime": {"device": "cpu", "processes": 3}})["runtime"]["processes"] == 3
    assert rank_count(validate_spec({"runtime": {"gpus": 4}})["runtime"]) == 4


def test_fp16_is_refused_on_the_cpu() -> None:
    fp16 = [{"path": "runtime.precision", "message": "fp16 needs a CUDA device; use bf16 or fp32 on CPU"}]
    assert errors_of({"runtime": {"device": "cpu", "precision": "fp16"}}) == fp16
    assert errors_of({"runtime": {"processes": 2, "precision": "fp16"}}) == fp16
    assert validate_spec({"runtime": {"device": "auto", "precision": "fp16"}})["runtime"]["precision"] == "fp16"


def test_crop_notation_is_parsed_with_the_paper_scales() -> None:
    assert parse_crops("2x32+4x16") == [
        {"count": 2, "size": 32, "min_scale": 0.14, "max_scale": 1.0},
        {"count": 4, "size": 16, "min_scale": 0.05, "max_scale": 0.14},
    ]
    assert parse_crops("2x160+4x96+2x64")[2] == {"count": 2, "size": 64, "min_scale": 0.05, "max_scale": 0.14}
    assert validate_spec({"swav": {"crops": "2x224"}})["swav"]["crops"] == [
        {"count": 2, "size": 224, "min_scale": 0.14, "max_scale": 1.0}
    ]


def test_crop_notation_may_spell_the_scales() -> None:
    assert parse_crops("2x224(0.2-1)+6x96(5e-2-0.2)") == [
        {"count": 2, "size": 224, "min_scale": 0.2, "max_scale": 1.0},
        {"count": 6, "size": 96, "min_scale": 0.05, "max_scale": 0.2},
    ]


@pytest.mark.parametrize(
    "notation",
    ["", "2x", "x224", "2*224", "2x224+", "2x224 6x96", " 2x224", "2 x 224", "2X224", "-2x224", "2x22.4", "02x224",
     "2x224(0.1)", "2x224(0.1-)", "2x224(.1-1)", "1234567890x8"],
)
def test_malformed_crop_notation_is_rejected(notation: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_crops(notation)
    assert [e["path"] for e in info.value.errors] == ["swav.crops"]
    assert "crop notation" in info.value.errors[0]["message"]


def test_crop_notation_limits() -> None:
    with pytest.raises(SpecError) as info:
        parse_crops("0x224+2x2000")
    messages = [e["message"] for e in info.value.errors]
    assert messages == [
        "invalid crop notation '0x224+2x2000': group 1 ('0x224'): count must be an integer between 1 and 64; got 0",
        "invalid crop notation '0x224+2x2000': group 2 ('2x2000'): size must be an integer between 8 and 1024; "
        "got 2000",
    ]
    with pytest.raises(SpecError) as info:
        parse_crops("2x32(0.5-0.2)+2x16")
    assert info.value.errors == [
        {
            "path": "swav.crops",
            "message": "invalid crop notation '2x32(0.5-0.2)+2x16': group 1 ('2x32(0.5-0.2)'): "
            "min_scale must be < max_scale (0.2); got 0.5",
        }
    ]
    assert errors_of({"swav": {"crops": "1x224", "crops_for_assign": [0]}}) == [
        {"path": "swav.crops", "message": "must contain at least 2 crops in total; got 1"}
    ]


def test_structured_crops_are_checked_field_by_field() -> None:
    good = [{"count": 1, "size": 64, "min_scale": 0.2, "max_scale": 1}, {"count": 3, "size": 32, "min_scale": 0.05,
            "max_scale": 0.2}]
    out = validate_spec({"swav": {"crops": good}})["swav"]["crops"]
    assert out[0] == {"count": 1, "size": 64, "min_scale": 0.2, "max_scale": 1.0}
    assert isinstance(out[0]["max_scale"], float)
    errors = errors_of(
        {"swav": {"crops": [{"count": 2, "size": 7, "min_scale": 0.5, "max_scale": 0.4}, {"count": 1, "size": 32}]}}
    )
    assert [e["path"] for e in errors] == [
        "swav.crops[0].size",
        "swav.crops[1].min_scale",
        "swav.crops[1].max_scale",
    ]
    assert errors_of({"swav": {"crops": [{"count": 2, "size": 32, "min_scale": 0.5, "max_scale": 0.4}]}}) == [
        {"path": "swav.crops[0].min_scale", "message": "must be < max_scale (0.4); got 0.5"}
    ]
    assert paths_of({"swav": {"crops": [{"count": 2, "size": 32, "min_scale": 0, "max_scale": 1.5}]}}) == [
        "swav.crops[0].min_scale",
        "swav.crops[0].max_scale",
    ]
    assert paths_of({"swav": {"crops": []}}) == ["swav.crops"]
    assert paths_of({"swav": {"crops": 3}}) == ["swav.crops"]


def test_crops_for_assign_must_be_distinct_valid_indices() -> None:
    assert validate_spec({"swav": {"crops": "2x32+4x16", "crops_for_assign": [5, 0]}})["swav"]["crops_for_assign"] == [5, 0]
    errors = errors_of({"swav": {"crops": "2x32+4x16", "crops_for_assign": [0, 6, 0]}})
    assert errors == [
        {
            "path": "swav.crops_for_assign[1]",
            "message": "index 6 is out of range: swav.crops defines 6 crops (valid indices 0..5)",
        },
        {
            "path": "swav.crops_for_assign[2]",
            "message": "duplicates swav.crops_for_assign[0] (0); indices must be distinct",
        },
    ]
    assert paths_of({"swav": {"crops_for_assign": []}}) == ["swav.crops_for_assign"]
    assert paths_of({"swav": {"crops_for_assign": [-1]}}) == ["swav.crops_for_assign[0]"]


def test_non_object_spec_is_reported_at_the_root() -> None:
    with pytest.raises(SpecError) as info:
        validate_spec([1])
    assert info.value.errors == [{"path": "", "message": "must be an object; got an array"}]
    assert str(info.value) == "(spec): must be an object; got an array"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_expands_under_the_given_fields(name: str) -> None:
    spec = validate_spec({"recipe": name, "data": {"path": "ds"}, "optim": {"epochs": 400}})
    assert spec["recipe"] == name and spec["data"]["path"] == "ds" and spec["optim"]["epochs"] == 400
    assert spec["data"]["source"] == RECIPES[name]["data"]["source"]
    # An expanded spec keeps its values when validated again (the service sends expanded specs).
    assert validate_spec(spec) == spec


def test_an_unknown_recipe_is_named() -> None:
    with pytest.raises(SpecError) as raised:
        validate_spec({"recipe": "swav-bs512"})
    assert raised.value.errors[0]["path"] == "recipe"
    assert "swav-bs256-queue" in raised.value.errors[0]["message"]


def test_directory_sources_need_a_path_and_classes_belong_to_imagefolder() -> None:
    with pytest.raises(SpecError) as raised:
        validate_spec({"data": {"source": "stl10", "classes": ["a", "b"]}})
    assert raised.value.errors == [
        {"path": "data.path", "message": 'is required when data.source is "stl10"'},
        {"path": "data.classes", "message": 'is only allowed when data.source is "imagefolder"; data.source is "stl10"'},
    ]


def test_defaults_and_limits_come_from_the_generated_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What write-python.mjs generates is what Python applies: a copy of the validator reads a changed artefact."""
    package = tmp_path / "regenerated"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("spec.py", "spec_rules.py", "canonical.py", "recipes.json"):
        shutil.copy(SWAVLAB / name, package / name)
    artefact = json.loads((SWAVLAB / "spec_schema.json").read_text(encoding="utf-8"))
    prototypes = artefact["schema"]["properties"]["swav"]["properties"]["prototypes"]
    prototypes["default"], prototypes["maximum"] = 512, 1024
    artefact["rules"] = [rule for rule in artefact["rules"] if rule["path"] != "optim.warmup_epochs"]
    (package / "spec_schema.json").write_text(json.dumps(artefact), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        regenerated = importlib.import_module("regenerated.spec")
        assert regenerated.validate_spec({})["swav"]["prototypes"] == 512
        with pytest.raises(regenerated.SpecError) as raised:
            regenerated.validate_spec({"swav": {"prototypes": 1025}})
        assert raised.value.errors == [
            {"path": "swav.prototypes", "message": "must be an integer between 2 and 1024; got 1025"}
        ]
        assert regenerated.validate_spec({"optim": {"epochs": 5}})["optim"]["warmup_epochs"] == 10
    finally:
        for name in [m for m in sys.modules if m == "regenerated" or m.startswith("regenerated.")]:
            del sys.modules[name]
    assert DEFAULTS["swav"]["prototypes"] == 3000
    assert paths_of({"optim": {"epochs": 5}}) == ["optim.warmup_epochs"]


def test_keys_that_are_not_identifiers_are_quoted_in_paths() -> None:
    assert paths_of({"data": {"not a key": 1}, "swav": {"crops": [{"count": 2, "size": 32, "min_scale": 0.1,
                                                                   "max_scale": 1, "x.y": 0}]}}) == [
        'data["not a key"]',
        'swav.crops[0]["x.y"]',
    ]


def test_entries_are_checked_even_when_an_array_has_the_wrong_size() -> None:
    assert paths_of({"data": {"source": "imagefolder", "path": "x", "classes": ["a/b"]}}) == [
        "data.classes",
        "data.classes[0]",
    ]
