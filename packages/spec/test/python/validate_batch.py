"""Validates a batch of specs with the trainer's validator, for packages/spec/test/python-parity.test.ts.

Usage: python3 validate_batch.py IN.json OUT.json, where IN.json is a JSON array of spec inputs. OUT.json gets one
entry per input: {"ok": true, "spec": ..., "hash": ...} or {"ok": false, "errors": [{path, message}, ...]}.
The validator needs only the standard library, so the package's __init__ (which imports torch) is skipped.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parents[3] / "trainer" / "swavlab"
_stub = types.ModuleType("swavlab")
_stub.__path__ = [str(_PACKAGE)]
sys.modules["swavlab"] = _stub

from swavlab.spec import SpecError, spec_hash, validate_spec  # noqa: E402


def verdict(spec: Any) -> dict[str, Any]:
    try:
        valid = validate_spec(spec)
        return {"ok": True, "spec": valid, "hash": spec_hash(valid)}
    except SpecError as error:
        return {"ok": False, "errors": error.errors}


def main(source: str, target: str) -> None:
    specs = json.loads(Path(source).read_text(encoding="utf-8"))
    Path(target).write_text(json.dumps([verdict(spec) for spec in specs]), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
