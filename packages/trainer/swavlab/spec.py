"""Python-side validation of the experiment spec.

The TypeScript zod schema in packages/spec is the primary source of truth; the trainer re-checks
every spec at its own boundary (a spec can also arrive through `python -m swavlab train --spec`)
with exactly the same fields, defaults, limits and cross-field rules.
Every error is collected, not only the first, so that a user
fixes a spec in one round trip.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

# The recipes' fields, written from packages/spec by `node packages/spec/scripts/write-recipes.mjs` (a test
# fails when they differ).
RECIPES: Final[dict[str, dict[str, Any]]] = json.loads(
    (Path(__file__).with_name("recipes.json")).read_text(encoding="utf-8")
)

_MAX_SAFE_INT: Final = 2**53 - 1  # JSON numbers beyond this cannot be represented exactly in JS

DEFAULT_CROPS_NOTATION: Final = "2x224+6x96"
# In the string notation the first group is the global crops, the others the small local crops.
_GLOBAL_SCALES: Final = (0.14, 1.0)
_LOCAL_SCALES: Final = (0.05, 0.14)

_TAG_RE: Final = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
_CLASS_NAME_RE: Final = re.compile(r"(?!\.\.?\Z)[^/\\\x00]{1,255}")

# Sources read from the directory in `data.path`.
PATH_SOURCES: Final = ("folder", "imagefolder", "cifar10", "cifar100", "stl10")
DATA_SOURCES: Final = ("synthetic", "digits", *PATH_SOURCES)
# The release's semi-supervised learning rates per label fraction (eval_semisup.py, README): (trunk, head).
SEMISUP_RELEASE_LRS: Final = {0.01: (0.02, 5.0), 0.1: (0.01, 0.2)}
# COUNTxSIZE with an optional explicit scale range, as packages/spec reads it: no spaces, no
# leading zeros, scales spelled as JavaScript's String(x) would ("0.14", "1", "5e-2").
_NUMBER = r"(?:0|[1-9][0-9]{0,8})"
_SCALE = r"([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)"
_CROP_GROUP_RE: Final = re.compile(rf"({_NUMBER})x({_NUMBER})(?:\({_SCALE}-{_SCALE}\))?\Z")


class SpecError(ValueError):
    """An invalid spec; `.errors` lists every problem as `{"path": ..., "message": ...}`."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{e['path'] or '(spec)'}: {e['message']}" for e in self.errors)


class _Invalid:
    """Marker for a field that failed validation (its error is already recorded)."""


_INVALID: Final = _Invalid()
_MISSING: Final = object()

Errors = list[dict[str, str]]
Check = Callable[[Any, str, Errors], Any]


def _describe(value: Any) -> str:
    """Renders a received value as it looked on the JSON wire, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "an array"
    return type(value).__name__


def _fail(errors: Errors, path: str, message: str) -> _Invalid:
    errors.append({"path": path, "message": message})
    return _INVALID


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _int(lo: int, hi: int | None = None) -> Check:
    """An integer in [lo, hi]; an integral float (3.0) is accepted as JSON does not distinguish them."""
    bounds = f"between {lo} and {hi}" if hi is not None else f">= {lo}"

    def check(value: Any, path: str, errors: Errors) -> Any:
        integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if _is_number(value) and integral and lo <= value <= (hi if hi is not None else _MAX_SAFE_INT):
            return int(value)
        return _fail(errors, path, f"must be an integer {bounds}; got {_describe(value)}")

    return check


def _num(lo: float, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False) -> Check:
    """A finite number within the given (open or closed) bounds, returned as a float."""
    parts = [f"{'>' if lo_open else '>='} {_fmt(lo)}"]
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {_fmt(hi)}")
    bounds = " and ".join(parts)

    def check(value: Any, path: str, errors: Errors) -> Any:
        v = _as_finite_float(value)
        if v is None:
            return _fail(errors, path, f"must be a finite number {bounds}; got {_describe(value)}")
        below = v <= lo if lo_open else v < lo
        above = hi is not None and (v >= hi if hi_open else v > hi)
        if below or above:
            return _fail(errors, path, f"must be a number {bounds}; got {_describe(value)}")
        return v

    return check


def _as_finite_float(value: Any) -> float | None:
    if not _is_number(value):
        return None
    try:
        v = float(value)
    except OverflowError:  # a Python int too large for a double
        return None
    return v if math.isfinite(v) else None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _enum(*choices: str) -> Check:
    listed = ", ".join(repr(c) for c in choices)

    def check(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, str) or value not in choices:
            return _fail(errors, path, f"must be one of {listed}; got {_describe(value)}")
        return value

    return check


def _bool(value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, bool):
        return _fail(errors, path, f"must be a boolean; got {_describe(value)}")
    return value


def _string(lo: int, hi: int | None = None) -> Check:
    bounds = f"{lo}..{hi}" if hi is not None else f"at least {lo}"

    def check(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, str) or len(value) < lo or (hi is not None and len(value) > hi):
            return _fail(errors, path, f"must be a string of {bounds} characters; got {_describe(value)}")
        return value

    return check


def _class_name(value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, str) or not _CLASS_NAME_RE.fullmatch(value):
        return _fail(errors, path, f'must be a folder name (no "/", "\\", NUL, "." or ".."); got {_describe(value)}')
    return value


def _fraction(value: Any, path: str, errors: Errors) -> Any:
    if _is_number(value) and float(value) in SEMISUP_RELEASE_LRS:
        return float(value)
    return _fail(errors, path, f"must be one of 0.01, 0.1; got {_describe(value)}")


def _tag(value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, str) or not _TAG_RE.fullmatch(value):
        return _fail(
            errors, path, f"must be a string of 1..64 characters from [A-Za-z0-9_.:/-]; got {_describe(value)}"
        )
    return value


def _array(item: Check, lo: int, hi: int | None = None) -> Check:
    size = f"{lo}..{hi}" if hi is not None else f"at least {lo}"

    def check(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, list):
            return _fail(errors, path, f"must be an array; got {_describe(value)}")
        if len(value) < lo or (hi is not None and len(value) > hi):
            return _fail(errors, path, f"must have {size} entries; got {len(value)}")
        out = [item(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]
        return _INVALID if any(v is _INVALID for v in out) else out

    return check


# A field: (check, default). `_MISSING` as default means optional with no default (omitted).
Field = tuple[Check, Any]


def _object(fields: Mapping[str, Field]) -> Check:
    """A strict object: unknown keys are rejected by name, missing keys get their defaults."""

    def check(value: Any, path: str, errors: Errors) -> Any:
        if not isinstance(value, Mapping):
            return _fail(errors, path, f"must be an object; got {_describe(value)}")
        out: dict[str, Any] = {}
        for key in value:
            if key not in fields:
                allowed = ", ".join(fields)
                _fail(errors, _join(path, str(key)), f"unknown field {str(key)!r} (allowed: {allowed})")
        for key, (field_check, default) in fields.items():
            if key in value:
                out[key] = field_check(value[key], _join(path, key), errors)
            elif default is not _MISSING:
                # Defaults go through the same check so nested objects and crop notation get canonicalised.
                out[key] = field_check(copy.deepcopy(default), _join(path, key), errors)
        return out

    return check


def _nullable(inner: Check) -> Check:
    def check(value: Any, path: str, errors: Errors) -> Any:
        return None if value is None else inner(value, path, errors)

    return check


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_crop_count = _int(1, 64)
_crop_size = _int(8, 1024)
_min_scale = _num(0.0, 1.0, lo_open=True, hi_open=True)
_max_scale = _num(0.0, 1.0, lo_open=True)


def _crop_group(value: Any, path: str, errors: Errors) -> Any:
    group = _object(
        {
            "count": (_crop_count, _MISSING),
            "size": (_crop_size, _MISSING),
            "min_scale": (_min_scale, _MISSING),
            "max_scale": (_max_scale, _MISSING),
        }
    )(value, path, errors)
    if group is _INVALID:
        return _INVALID
    for key in ("count", "size", "min_scale", "max_scale"):
        if key not in group:
            _fail(errors, _join(path, key), "is required")
    if len(group) != 4 or any(v is _INVALID for v in group.values()):
        return _INVALID
    if group["min_scale"] >= group["max_scale"]:
        return _fail(
            errors,
            _join(path, "min_scale"),
            f"must be < max_scale ({_fmt(group['max_scale'])}); got {_describe(group['min_scale'])}",
        )
    return group


def _parse_crops_into(notation: str, path: str, errors: Errors) -> list[dict[str, Any]] | _Invalid:
    if notation == "":
        return _fail(errors, path, f"invalid crop notation '': is empty; write groups such as {DEFAULT_CROPS_NOTATION!r}")
    parsed: list[dict[str, Any]] = []
    for i, text in enumerate(notation.split("+")):
        match = _CROP_GROUP_RE.match(text)
        if match is None:
            return _fail(
                errors,
                path,
                f"invalid crop notation {notation!r}: group {i + 1} ({text!r}) is not COUNTxSIZE or "
                "COUNTxSIZE(MIN-MAX), e.g. '2x224+6x96' or '2x224(0.14-1)'",
            )
        count, size, lo, hi = match.groups()
        default_lo, default_hi = _GLOBAL_SCALES if i == 0 else _LOCAL_SCALES
        group = {
            "count": int(count),
            "size": int(size),
            "min_scale": float(lo) if lo is not None else default_lo,
            "max_scale": float(hi) if hi is not None else default_hi,
        }
        problems: Errors = []
        checked = _crop_group(group, "", problems)
        for p in problems:
            _fail(errors, path, f"invalid crop notation {notation!r}: group {i + 1} ({text!r}): {p['path']} {p['message']}")
        parsed.append(checked)
    return _INVALID if errors else parsed


def _crops(value: Any, path: str, errors: Errors) -> Any:
    """Crop notation string or structured array, canonicalised to the structured array."""
    if isinstance(value, str):
        local: Errors = []
        groups = _parse_crops_into(value, path, local)
        errors.extend(local)
    elif isinstance(value, list):
        groups = _array(_crop_group, 1)(value, path, errors)
    else:
        return _fail(errors, path, f"must be a crop notation string like '2x224+6x96' or an array; got {_describe(value)}")
    if groups is _INVALID:
        return _INVALID
    total = sum(g["count"] for g in groups)
    if total < 2:
        return _fail(errors, path, f"must contain at least 2 crops in total; got {total}")
    return groups


def parse_crops(notation: str) -> list[dict[str, Any]]:
    """Parses crop notation such as '2x224+6x96' into `[{count, size, min_scale, max_scale}, ...]`.

    A group may spell its RandomResizedCrop scales, '2x224(0.14-1)'; without them the first group
    gets the global-crop scales (0.14, 1.0) and the others the local ones (0.05, 0.14), as in the
    paper's multi-crop recipe. Raises SpecError (path `swav.crops`) on bad input.
    """
    errors: Errors = []
    groups = _crops(notation, "swav.crops", errors)
    if errors or groups is _INVALID:
        raise SpecError(errors)
    return groups


_SCHEMA: Final = _object(
    {
        "name": (_string(1, 200), _MISSING),
        "recipe": (_enum(*RECIPES), _MISSING),
        "tags": (_array(_tag, 0, 32), []),
        "seed": (_int(0, 2**31 - 1), 31),
        "data": (
            _object(
                {
                    "source": (_enum(*DATA_SOURCES), "synthetic"),
                    "path": (_string(1, 4096), _MISSING),
                    "classes": (_array(_class_name, 2, 100_000), _MISSING),
                    "classes_file": (_string(1, 4096), _MISSING),
                    "num_images": (_int(16, 10_000_000), 4096),
                    "num_classes": (_int(2, 1000), 10),
                    "image_size": (_int(8, 1024), 32),
                    "test_fraction": (_num(0.0, 0.9, lo_open=True), 0.2),
                    "augment": (
                        _object(
                            {
                                "flip_p": (_num(0.0, 1.0), 0.5),
                                "jitter_strength": (_num(0.0, 2.5), 1.0),
                                "jitter_p": (_num(0.0, 1.0), 0.8),
                                "grayscale_p": (_num(0.0, 1.0), 0.2),
                                "blur_p": (_num(0.0, 1.0), 0.5),
                            }
                        ),
                        {},
                    ),
                }
            ),
            {},
        ),
        "model": (
            _object(
                {
                    "arch": (
                        _enum("tiny", "resnet18", "resnet50", "resnet50w2", "resnet50w4", "resnet50w5"),
                        "resnet50",
                    ),
                    "small_stem": (_bool, False),
                    "hidden_mlp": (_int(0, 16384), 2048),
                    "feat_dim": (_int(2, 4096), 128),
                    "init_from": (_string(1, 4096), _MISSING),
                }
            ),
            {},
        ),
        "swav": (
            _object(
                {
                    "prototypes": (_int(2, 200_000), 3000),
                    "temperature": (_num(0.001, 10.0), 0.1),
                    "epsilon": (_num(0.001, 10.0), 0.05),
                    "sinkhorn_iterations": (_int(1, 1000), 3),
                    "assignment": (_enum("soft", "hard"), "soft"),
                    "prototypes_mode": (_enum("learned", "fixed"), "learned"),
                    "freeze_prototypes_iters": (_int(0, 10_000_000), 313),
                    "queue_length": (_int(0, 1_000_000), 0),
                    "queue_start_epoch": (_int(0, 10000), 15),
                    "crops": (_crops, DEFAULT_CROPS_NOTATION),
                    "crops_for_assign": (_array(_int(0, 4095), 1, 64), [0, 1]),
                }
            ),
            {},
        ),
        "optim": (
            _object(
                {
                    "optimizer": (_enum("lars", "sgd"), "lars"),
                    "base_lr": (_num(1e-6, 100.0), 4.8),
                    "final_lr": (_num(0.0, 100.0), 0.0048),
                    "warmup_epochs": (_int(0, 10000), 10),
                    "start_warmup": (_num(0.0, 100.0), 0.3),
                    "weight_decay": (_num(0.0, 1.0), 1e-6),
                    "momentum": (_num(0.0, 1.0, hi_open=True), 0.9),
                    "batch_size": (_int(1, 65536), 64),
                    "epochs": (_int(0, 10000), 100),
                }
            ),
            {},
        ),
        "runtime": (
            _object(
                {
                    "device": (_enum("auto", "cpu", "cuda"), "auto"),
                    "gpus": (_int(1, 64), 1),
                    "processes": (_int(1, 64), 1),
                    "precision": (_enum("fp32", "fp16", "bf16"), "fp32"),
                    "sync_bn": (_bool, True),
                    "workers": (_int(0, 64), 4),
                    "threads": (_int(0, 256), 0),
                }
            ),
            {},
        ),
        "checkpoint": (
            _object({"every_epochs": (_int(0, 10000), 1), "keep_last": (_int(1, 1000), 2)}),
            {},
        ),
        "eval": (
            _object(
                {
                    "every_epochs": (_int(0, 10000), 0),
                    "knn": (
                        _nullable(
                            _object(
                                {
                                    "k": (_array(_int(1, 10000), 1, 16), [20, 200]),
                                    "temperature": (_num(0.001, 10.0), 0.07),
                                }
                            )
                        ),
                        {},
                    ),
                    "linear": (
                        _nullable(
                            _object(
                                {
                                    "protocol": (_enum("fast", "paper"), "fast"),
                                    "epochs": (_int(1, 10000), 100),
                                    "lr": (_num(1e-6, 100.0), 0.3),
                                    "batch_size": (_int(1, 65536), 256),
                                    "weight_decay": (_num(0.0, 1.0), 1e-6),
                                }
                            )
                        ),
                        {},
                    ),
                    "semisup": (
                        _nullable(
                            _object(
                                {
                                    "fraction": (_fraction, 0.1),
                                    "subset_file": (_string(1, 4096), _MISSING),
                                    "epochs": (_int(1, 10000), 20),
                                    "batch_size": (_int(1, 65536), 256),
                                    "lr_trunk": (_nullable(_num(1e-6, 100.0)), None),
                                    "lr_head": (_nullable(_num(1e-6, 100.0)), None),
                                    "decay_epochs": (_array(_int(1, 10000), 0, 16), [12, 16]),
                                    "gamma": (_num(0.0, 1.0, lo_open=True), 0.2),
                                    "weight_decay": (_num(0.0, 1.0), 0.0),
                                }
                            )
                        ),
                        None,
                    ),
                }
            ),
            {},
        ),
    }
)


def _valid(*values: Any) -> bool:
    return all(v is not _INVALID for v in values)


def rank_count(runtime: dict[str, Any]) -> int:
    """The run's torch.distributed ranks: ``runtime.gpus`` on GPUs, ``runtime.processes`` on the CPU."""
    return max(int(runtime["gpus"]), int(runtime["processes"]))


def _ranks_rules(runtime: dict[str, Any], errors: Errors) -> None:
    device, gpus, processes = runtime["device"], runtime["gpus"], runtime["processes"]
    if not _valid(device, gpus, processes):
        return
    if gpus > 1 and processes > 1:
        _fail(
            errors,
            "runtime.processes",
            f"cannot be combined with runtime.gpus {gpus}: a run has one rank per GPU or one per CPU process, not both",
        )
    if gpus > 1 and device == "cpu":
        _fail(errors, "runtime.gpus", "needs GPUs but runtime.device is 'cpu'; for several CPU processes set runtime.processes instead")
    if processes > 1 and device == "cuda":
        _fail(errors, "runtime.processes", "is for CPU runs but runtime.device is 'cuda'; a CUDA run has one process per GPU (runtime.gpus)")
    # fp16 autocast exists only on CUDA (amp.py refuses it again on the device the run gets).
    if runtime.get("precision") == "fp16" and (device == "cpu" or processes > 1):
        _fail(errors, "runtime.precision", "fp16 needs a CUDA device; use bf16 or fp32 on CPU")


def _data_source_rules(data: dict[str, Any], errors: Errors) -> None:
    source = data["source"]
    if source in PATH_SOURCES and "path" not in data:
        _fail(errors, "data.path", f"is required when data.source is {source!r}")
    if source not in PATH_SOURCES and "path" in data:
        _fail(errors, "data.path", f"is only allowed when data.source is one of {', '.join(PATH_SOURCES)}; source is {source!r}")
    for field in ("classes", "classes_file"):
        if field in data and source != "imagefolder":
            _fail(errors, f"data.{field}", f"is only allowed when data.source is 'imagefolder'; source is {source!r}")
    if "classes" in data and "classes_file" in data:
        _fail(errors, "data.classes_file", "cannot be combined with data.classes; list the classes in one place")
    classes = data.get("classes")
    if _valid(classes) and classes is not None:
        seen: dict[str, int] = {}
        for i, name in enumerate(classes):
            if name in seen:
                _fail(errors, f"data.classes[{i}]", f"duplicates data.classes[{seen[name]}] ({name!r})")
            else:
                seen[name] = i


def _semisup_rules(semisup: Any, errors: Errors) -> None:
    if not isinstance(semisup, dict) or not _valid(semisup["decay_epochs"]):
        return
    decay = semisup["decay_epochs"]
    for i in range(1, len(decay)):
        if decay[i] <= decay[i - 1]:
            _fail(
                errors,
                f"eval.semisup.decay_epochs[{i}]",
                f"must be greater than the previous entry ({decay[i - 1]}); list the epochs in increasing order",
            )


def _cross_field_rules(spec: dict[str, Any], errors: Errors) -> None:
    """Rules spanning several fields; each runs only when the fields it reads are valid."""
    data, swav, optim, runtime = spec["data"], spec["swav"], spec["optim"], spec["runtime"]
    if isinstance(data, dict) and _valid(data["source"]):
        _data_source_rules(data, errors)
    if isinstance(spec["eval"], dict):
        _semisup_rules(spec["eval"].get("semisup"), errors)
    if isinstance(optim, dict) and _valid(optim["warmup_epochs"], optim["epochs"]):
        # With 0 epochs nothing is trained, so the schedule does not matter.
        if optim["epochs"] > 0 and optim["warmup_epochs"] > optim["epochs"]:
            _fail(errors, "optim.warmup_epochs", f"must be <= optim.epochs ({optim['epochs']}); got {optim['warmup_epochs']}")
    if isinstance(runtime, dict):
        _ranks_rules(runtime, errors)
    if not isinstance(swav, dict):
        return
    if isinstance(optim, dict) and isinstance(runtime, dict):
        length = swav["queue_length"]
        if _valid(length, optim["batch_size"], runtime["gpus"], runtime["processes"]) and length > 0:
            ranks = rank_count(runtime)
            step = optim["batch_size"] * ranks
            if length % step != 0:
                _fail(
                    errors,
                    "swav.queue_length",
                    f"must be a multiple of optim.batch_size * ranks "
                    f"({optim['batch_size']} * {ranks} = {step}); got {length}",
                )
    crops, assign = swav["crops"], swav["crops_for_assign"]
    if not _valid(assign):
        return
    total = sum(g["count"] for g in crops) if _valid(crops) else None
    seen: set[int] = set()
    for i, index in enumerate(assign):
        path = f"swav.crops_for_assign[{i}]"
        if index in seen:
            _fail(errors, path, f"duplicate crop index {index}")
        elif total is not None and index >= total:
            _fail(errors, path, f"must be an index into the {total} crops (0..{total - 1}); got {index}")
        seen.add(index)


def _overlay(base: Any, override: Any) -> Any:
    if not isinstance(base, Mapping) or not isinstance(override, Mapping):
        return copy.deepcopy(override)
    out = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in override.items():
        out[key] = _overlay(base.get(key), value)
    return out


def apply_recipe(spec: Any) -> Any:
    """`spec` with its recipe's fields filled in underneath (the spec's own fields win), as packages/spec does.

    An expanded spec already holds every recipe field, so applying it again changes nothing. Input without
    a known recipe is returned as is, for validation to report.
    """
    if not isinstance(spec, Mapping) or not isinstance(spec.get("recipe"), str) or spec["recipe"] not in RECIPES:
        return spec
    return _overlay(RECIPES[spec["recipe"]], spec)


def validate_spec(spec: Any) -> dict[str, Any]:
    """Returns a new, fully defaulted copy of `spec`, or raises SpecError listing every problem.

    The result has `swav.crops` in the structured form and `eval.knn` / `eval.linear` either None
    (skipped) or fully defaulted objects. The input is not modified.
    """
    errors: Errors = []
    result = _SCHEMA(apply_recipe(spec), "", errors)
    if result is not _INVALID:
        _cross_field_rules(result, errors)
    if errors:
        raise SpecError(errors)
    return result


DEFAULTS: Final[dict[str, Any]] = validate_spec({})
