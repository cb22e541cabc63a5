"""Canonical JSON and the spec hashes against the vectors shared with packages/spec (one canonicalisation)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swavlab.canonical import canonical_json, number_text
from swavlab.spec import spec_hash, training_hash, validate_spec

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "spec" / "test" / "vectors" / "spec-hash.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(("value", "expected"), VECTORS["canonical"])
def test_canonical_json_matches_the_shared_vectors(value: Any, expected: str) -> None:
    assert canonical_json(value) == expected


@pytest.mark.parametrize("vector", VECTORS["specs"])
def test_spec_hashes_match_the_shared_vectors(vector: dict[str, Any]) -> None:
    assert spec_hash(vector["spec"]) == vector["spec_hash"]
    assert training_hash(vector["spec"]) == vector["training_hash"]


def test_the_hash_of_a_validated_spec_ignores_how_numbers_and_crops_were_written() -> None:
    written = {"optim": {"base_lr": 1, "weight_decay": 1e-6}, "swav": {"crops": "2x32+4x16"}}
    respelled = {
        "optim": {"weight_decay": 0.000001, "base_lr": 1.0},
        "swav": {"crops": [{"count": 2, "size": 32, "min_scale": 0.14, "max_scale": 1},
                           {"count": 4, "size": 16, "min_scale": 0.05, "max_scale": 0.14}]},
        "name": "same run",
    }
    assert spec_hash(validate_spec(written)) == spec_hash(validate_spec(respelled))
    assert spec_hash(validate_spec({"seed": 1})) != spec_hash(validate_spec({"seed": 2}))
    assert training_hash(validate_spec({"runtime": {"threads": 2}})) == training_hash(validate_spec({}))


def test_surrogate_pairs_are_characters_and_lone_surrogates_are_escaped() -> None:
    assert canonical_json("\ud83d\ude00") == canonical_json("😀") == '"😀"'
    assert canonical_json({"\ud800": 1}) == '{"\\ud800":1}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 10**400, object(), {1: 2}, b"x"])
def test_what_json_cannot_hold_is_refused(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_json(bad)


def test_numbers_are_written_as_javascript_writes_them() -> None:
    assert [number_text(x) for x in (100.0, 1e-6, 1e-7, 1.5e300, -2.5, 1e21, 999999999999999900000.0)] == [
        "100", "0.000001", "1e-7", "1.5e+300", "-2.5", "1e+21", "999999999999999900000",
    ]
    assert number_text(2**53 + 1) == "9007199254740992"  # the double JavaScript reads for that literal
