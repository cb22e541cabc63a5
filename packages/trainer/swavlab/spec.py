"""Python-side validation of the experiment spec, executed from the artefact generated out of packages/spec.

The zod schema in packages/spec is the single source of truth. `node packages/spec/scripts/write-python.mjs`
writes it into spec_schema.json: the JSON Schema of the input (types, limits, defaults, unknown keys) and the
cross-field rules as data, which spec_rules.py executes. The trainer checks every spec at its own boundary (a spec
can also arrive through `python -m swavlab train --spec`) against that file, so fields, defaults, limits and rules
cannot drift from the service's; packages/spec/test/python-parity.test.ts feeds both validators the same specs.
Python keeps only the crop notation's grammar (as packages/spec parses it) and its own wording of field errors.
Every error is collected, not only the first, so that a user fixes a spec in one round trip.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from .canonical import canonical_json
from .spec_rules import run_rules

_HERE: Final = Path(__file__).parent
_ARTEFACT: Final[dict[str, Any]] = json.loads((_HERE / "spec_schema.json").read_text(encoding="utf-8"))
_SCHEMA: Final[dict[str, Any]] = _ARTEFACT["schema"]
_RULES: Final[list[dict[str, Any]]] = _ARTEFACT["rules"]
# The recipes' fields, written from packages/spec by the same script (a test fails when they differ).
RECIPES: Final[dict[str, dict[str, Any]]] = json.loads((_HERE / "recipes.json").read_text(encoding="utf-8"))

_MAX_SAFE_INT: Final = 2**53 - 1  # JSON numbers beyond this cannot be represented exactly in JS

DEFAULT_CROPS_NOTATION: Final[str] = _SCHEMA["properties"]["swav"]["properties"]["crops"]["default"]
# In the string notation the first group is the global crops, the others the small local crops.
_GLOBAL_SCALES, _LOCAL_SCALES = (tuple(pair) for pair in _ARTEFACT["crops"]["default_scales"])
_MIN_TOTAL_CROPS: Final[int] = _ARTEFACT["crops"]["min_total"]
_CROP_NOTATION: Final = "crop-notation"
# Left out of the spec hash: naming, tagging or naming the recipe of a run keeps its identity.
SPEC_METADATA_FIELDS: Final[tuple[str, ...]] = tuple(_ARTEFACT["identity"]["metadata"])
# The sections that decide what is trained: a checkpoint resumes any spec whose training hash is its own.
TRAINING_SECTIONS: Final[tuple[str, ...]] = tuple(_ARTEFACT["identity"]["training_sections"])
# The extensions folder sources read as images; the API counts a folder's images by the same list.
IMAGE_EXTENSIONS: Final[frozenset[str]] = frozenset(_ARTEFACT["data"]["image_extensions"])

# The release's semi-supervised learning rates per label fraction (eval_semisup.py, README): (trunk, head).
SEMISUP_RELEASE_LRS: Final = {0.01: (0.02, 5.0), 0.1: (0.01, 0.2)}
# COUNTxSIZE with an optional explicit scale range, as packages/spec reads it: no spaces, no leading zeros, at most
# 9 digits, scales spelled as JavaScript's String(x) would ("0.14", "1", "5e-2") in at most 32 characters.
_NUMBER: Final = rf"(?:0|[1-9][0-9]{{0,{_ARTEFACT['crops']['max_integer_digits'] - 1}}})"
_SCALE: Final = r"([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)"
_CROP_GROUP_RE: Final = re.compile(rf"({_NUMBER})x({_NUMBER})(?:\({_SCALE}-{_SCALE}\))?\Z")
_MAX_SCALE_CHARS: Final[int] = _ARTEFACT["crops"]["max_scale_chars"]

_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Node = Mapping[str, Any]
Check = Callable[[Node, Any, str, "_Report"], Any]


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


class _Report:
    """The errors found so far; `fields_valid` stays true while the only errors are unknown keys, which the
    cross-field rules ignore (as packages/spec's WHEN_FIELDS_VALID does)."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.fields_valid = True

    def fail(self, path: str, message: str) -> _Invalid:
        self.errors.append({"path": path, "message": message})
        self.fields_valid = False
        return _INVALID

    def unknown(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})


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
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    """JSON does not tell 3 from 3.0, so an integral float is an integer."""
    return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and value.is_integer()


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


def _literal(value: Any) -> str:
    return repr(value) if isinstance(value, str) else _fmt(value)


def _python_pattern(source: str) -> re.Pattern[str]:
    """An ECMAScript pattern for `re.search`: `$` outside a character class means the very end, as in JavaScript."""
    out, in_class, i = [], False, 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            out.append(source[i : i + 2])
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        out.append("\\Z" if ch == "$" and not in_class else ch)
        i += 1
    return re.compile("".join(out))


def _join(path: str, key: str) -> str:
    """`path.key`, or `path["key"]` for a key that is not an identifier, as packages/spec's formatPath writes it."""
    if not _IDENTIFIER.fullmatch(key):
        return f"{path}[{canonical_json(key)}]"
    return f"{path}.{key}" if path else key


def _integer(node: Node, value: Any, path: str, report: _Report) -> Any:
    lo = node.get("minimum", -_MAX_SAFE_INT)
    hi = node.get("maximum", _MAX_SAFE_INT)
    if _is_number(value) and _is_integer(value) and lo <= value <= hi:
        return int(value)
    return report.fail(path, f"must be an integer between {lo} and {hi}; got {_describe(value)}")


def _number(node: Node, value: Any, path: str, report: _Report) -> Any:
    lo, lo_open = (node["exclusiveMinimum"], True) if "exclusiveMinimum" in node else (node.get("minimum"), False)
    hi, hi_open = (node["exclusiveMaximum"], True) if "exclusiveMaximum" in node else (node.get("maximum"), False)
    parts = [] if lo is None else [f"{'>' if lo_open else '>='} {_fmt(lo)}"]
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {_fmt(hi)}")
    bounds = " and ".join(parts)
    v = _as_finite_float(value)
    if v is None:
        return report.fail(path, f"must be a finite number {bounds}; got {_describe(value)}")
    below = lo is not None and (v <= lo if lo_open else v < lo)
    above = hi is not None and (v >= hi if hi_open else v > hi)
    if below or above:
        return report.fail(path, f"must be a number {bounds}; got {_describe(value)}")
    return v


def _string(node: Node, value: Any, path: str, report: _Report) -> Any:
    if "enum" in node:
        if isinstance(value, str) and value in node["enum"]:
            return value
        listed = ", ".join(_literal(c) for c in node["enum"])
        return report.fail(path, f"must be one of {listed}; got {_describe(value)}")
    lo, hi = node.get("minLength", 0), node.get("maxLength")
    size = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
    pattern = node.get("pattern")
    wanted = f"a string of {size} characters" + (f" matching {pattern}" if pattern else "")
    ok = (
        isinstance(value, str)
        and lo <= len(value)  # code points, as zod counts them
        and (hi is None or len(value) <= hi)
        and (pattern is None or _python_pattern(pattern).search(value) is not None)
    )
    return value if ok else report.fail(path, f"must be {wanted}; got {_describe(value)}")


def _boolean(node: Node, value: Any, path: str, report: _Report) -> Any:
    return value if isinstance(value, bool) else report.fail(path, f"must be a boolean; got {_describe(value)}")


def _array(node: Node, value: Any, path: str, report: _Report, item: Check | None = None) -> Any:
    if not isinstance(value, list):
        return report.fail(path, f"must be an array; got {_describe(value)}")
    lo, hi = node.get("minItems", 0), node.get("maxItems")
    sized = lo <= len(value) and (hi is None or len(value) <= hi)
    if not sized:
        size = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
        report.fail(path, f"must have {size} entries; got {len(value)}")
    # The entries are checked even when there are too many or too few, as zod does.
    out = [(item or _check)(node["items"], v, f"{path}[{i}]", report) for i, v in enumerate(value)]
    return out if sized and all(v is not _INVALID for v in out) else _INVALID


def _object(node: Node, value: Any, path: str, report: _Report) -> Any:
    """A strict object: unknown keys are rejected by name, missing keys get their defaults."""
    if not isinstance(value, Mapping):
        return report.fail(path, f"must be an object; got {_describe(value)}")
    fields: Mapping[str, Node] = node["properties"]
    if node.get("additionalProperties") is False:
        for key in value:
            if key not in fields:
                report.unknown(_join(path, str(key)), f"unknown field {str(key)!r} (allowed: {', '.join(fields)})")
    required = node.get("required", ())
    out: dict[str, Any] = {}
    for key, field in fields.items():
        if key in value:
            out[key] = _check(field, value[key], _join(path, key), report)
        elif "default" in field:
            # Defaults go through the same check so nested objects and crop notation get canonicalised.
            out[key] = _check(field, copy.deepcopy(field["default"]), _join(path, key), report)
        elif key in required:
            out[key] = report.fail(_join(path, key), "is required")
    return _INVALID if any(v is _INVALID for v in out.values()) else out


def _branch_name(branch: Node) -> str:
    if branch.get("format") == _CROP_NOTATION:
        return f"a crop notation string like {DEFAULT_CROPS_NOTATION!r}"
    kind = branch.get("type")
    return "an integer" if kind == "integer" else f"an {kind}" if kind in ("object", "array") else f"a {kind}"


def _matches_type(branch: Node, value: Any) -> bool:
    kind = branch.get("type")
    return {
        "object": lambda: isinstance(value, Mapping),
        "array": lambda: isinstance(value, list),
        "string": lambda: isinstance(value, str),
        "boolean": lambda: isinstance(value, bool),
        "number": lambda: _is_number(value),
        "integer": lambda: _is_number(value),
        "null": lambda: value is None,
    }.get(str(kind), lambda: False)()


def _any_of(node: Node, value: Any, path: str, report: _Report) -> Any:
    """Nullable fields, unions of literals and the crops (notation or structured groups)."""
    branches: list[Node] = node["anyOf"]
    if value is None and any(b.get("type") == "null" for b in branches):
        return None
    if all("const" in b for b in branches):
        for b in branches:
            if _is_number(value) == _is_number(b["const"]) and value == b["const"]:
                return float(value) if b.get("type") == "number" else value
        listed = ", ".join(_literal(b["const"]) for b in branches)
        return report.fail(path, f"must be one of {listed}; got {_describe(value)}")
    if any(b.get("format") == _CROP_NOTATION for b in branches):
        return _crops(branches, value, path, report)
    typed = [b for b in branches if b.get("type") != "null"]
    aimed = [b for b in typed if _matches_type(b, value)]
    if len(aimed) == 1 or len(typed) == 1:
        return _check((aimed or typed)[0], value, path, report)
    accepted = " or ".join(_branch_name(b) for b in branches)
    return report.fail(path, f"must be {accepted}; got {_describe(value)}")


_BY_TYPE: Final = {
    "object": _object,
    "array": _array,
    "integer": _integer,
    "number": _number,
    "string": _string,
    "boolean": _boolean,
}


def _check(node: Node, value: Any, path: str, report: _Report) -> Any:
    """Validates `value` against a node of the generated JSON Schema; returns it canonicalised, or _INVALID."""
    if "anyOf" in node:
        return _any_of(node, value, path, report)
    checker = _BY_TYPE.get(str(node.get("type")))
    if checker is None:
        raise ValueError(f"spec_schema.json: no check for the schema node at {path or '(spec)'}: {node!r}")
    return checker(node, value, path, report)


def _crop_group(node: Node, value: Any, path: str, report: _Report) -> Any:
    group = _object(node, value, path, report)
    if group is _INVALID:
        return _INVALID
    if group["min_scale"] >= group["max_scale"]:
        return report.fail(
            _join(path, "min_scale"),
            f"must be < max_scale ({_fmt(group['max_scale'])}); got {_describe(group['min_scale'])}",
        )
    return group


def _parse_crops_into(notation: str, group_node: Node, path: str, report: _Report) -> list[dict[str, Any]] | _Invalid:
    if notation == "":
        return report.fail(path, f"invalid crop notation '': is empty; write groups such as {DEFAULT_CROPS_NOTATION!r}")
    parsed: list[dict[str, Any]] = []
    failed = False
    for i, text in enumerate(notation.split("+")):
        match = _CROP_GROUP_RE.match(text)
        if match is None:
            return report.fail(
                path,
                f"invalid crop notation {notation!r}: group {i + 1} ({text!r}) is not COUNTxSIZE or "
                "COUNTxSIZE(MIN-MAX), e.g. '2x224+6x96' or '2x224(0.14-1)'",
            )
        count, size, lo, hi = match.groups()
        too_long = next((scale for scale in (lo, hi) if scale is not None and len(scale) > _MAX_SCALE_CHARS), None)
        if too_long is not None:
            return report.fail(path, f"invalid crop notation {notation!r}: scale {too_long!r} is too long")
        default_lo, default_hi = _GLOBAL_SCALES if i == 0 else _LOCAL_SCALES
        group = {
            "count": int(count),
            "size": int(size),
            "min_scale": float(lo) if lo is not None else float(default_lo),
            "max_scale": float(hi) if hi is not None else float(default_hi),
        }
        problems = _Report()
        parsed.append(_crop_group(group_node, group, "", problems))
        for p in problems.errors:
            failed = True
            report.fail(path, f"invalid crop notation {notation!r}: group {i + 1} ({text!r}): {p['path']} {p['message']}")
    return _INVALID if failed else parsed


def _crops(branches: list[Node], value: Any, path: str, report: _Report) -> Any:
    """Crop notation string or structured array, canonicalised to the structured array."""
    array_node = next(b for b in branches if b.get("type") == "array")
    if isinstance(value, str):
        groups = _parse_crops_into(value, array_node["items"], path, report)
    elif isinstance(value, list):
        groups = _array(array_node, value, path, report, item=_crop_group)
    else:
        accepted = " or ".join(_branch_name(b) for b in branches)
        return report.fail(path, f"must be {accepted}; got {_describe(value)}")
    if groups is _INVALID:
        return _INVALID
    total = sum(g["count"] for g in groups)
    if total < _MIN_TOTAL_CROPS:
        return report.fail(path, f"must contain at least {_MIN_TOTAL_CROPS} crops in total; got {total}")
    return groups
def parse_crops(notation: str) -> list[dict[str, Any]]:
    """Parses crop notation such as '2x224+6x96' into `[{count, size, min_scale, max_scale}, ...]`.

    A group may spell its RandomResizedCrop scales, '2x224(0.14-1)'; without them the first group
    gets the global-crop scales (0.14, 1.0) and the others the local ones (0.05, 0.14), as in the
    paper's multi-crop recipe. Raises SpecError (path `swav.crops`) on bad input.
    """
    report = _Report()
    groups = _check(_SCHEMA["properties"]["swav"]["properties"]["crops"], notation, "swav.crops", report)
    if report.errors or groups is _INVALID:
        raise SpecError(report.errors)
    return groups


def rank_count(runtime: dict[str, Any]) -> int:
    """The run's torch.distributed ranks: ``runtime.gpus`` on GPUs, ``runtime.processes`` on the CPU."""
    return max(int(runtime["gpus"]), int(runtime["processes"]))


def _sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def spec_hash(spec: Mapping[str, Any]) -> str:
    """The run identity of a validated spec, equal to packages/spec's `hashValidSpec` (and so to the service's
    `spec_hash`): sha256 of the canonical JSON of the spec without its metadata (name, tags, recipe)."""
    return _sha256({key: value for key, value in spec.items() if key not in SPEC_METADATA_FIELDS})


def training_hash(spec: Mapping[str, Any]) -> str:
    """The resume identity (packages/spec's `trainingHash`): the hash of the training sections only, so a checkpoint
    resumes a spec that differs in runtime, checkpoint or eval but in nothing that is trained."""
    return _sha256({section: spec[section] for section in TRAINING_SECTIONS if section in spec})


def overlay(base: Any, override: Any) -> Any:
    """``override`` laid over ``base``: mappings merge key by key, anything else (lists, null) replaces; a copy."""
    if not isinstance(base, Mapping) or not isinstance(override, Mapping):
        return copy.deepcopy(override)
    out = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in override.items():
        out[key] = overlay(base.get(key), value)
    return out


def apply_recipe(spec: Any) -> Any:
    """`spec` with its recipe's fields filled in underneath (the spec's own fields win), as packages/spec does.

    An expanded spec already holds every recipe field, so applying it again changes nothing. Input without
    a known recipe is returned as is, for validation to report.
    """
    if not isinstance(spec, Mapping) or not isinstance(spec.get("recipe"), str) or spec["recipe"] not in RECIPES:
        return spec
    return overlay(RECIPES[spec["recipe"]], spec)


def validate_spec(spec: Any) -> dict[str, Any]:
    """Returns a new, fully defaulted copy of `spec`, or raises SpecError listing every problem.

    The result has `swav.crops` in the structured form and `eval.knn` / `eval.linear` either None
    (skipped) or fully defaulted objects. The input is not modified.
    """
    report = _Report()
    result = _check(_SCHEMA, apply_recipe(spec), "", report)
    if report.fields_valid:
        report.errors += run_rules(_RULES, result)
    if report.errors:
        raise SpecError(report.errors)
    return result


DEFAULTS: Final[dict[str, Any]] = validate_spec({})
