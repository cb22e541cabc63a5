"""The interpreter of the spec's cross-field rules, as generated into spec_schema.json from packages/spec.

The rules are data written in packages/spec (src/spec-rules.ts); this module gives their expressions exactly
the semantics of packages/spec/src/rule-engine.ts, which documents the language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from .canonical import canonical_json, number_text

_MISSING: Final = object()
_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")

Scope = dict[str, Any]


def _at_path(spec: Any, dotted: str) -> Any:
    current = spec
    for segment in dotted.split("."):
        if not isinstance(current, Mapping) or segment not in current:
            return _MISSING
        current = current[segment]
    return current


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """JavaScript's `===` on JSON values: numbers by value, booleans apart from numbers, arrays and objects by identity."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return a is b
    return type(a) is type(b) and bool(a == b)


def _remainder(a: float, b: float) -> float | None:
    if b == 0:
        return None
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


_COMPARE: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}
_ARITHMETIC: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "mod": _remainder,
    "max": max,
}


def evaluate(expr: Any, spec: Any, scope: Scope) -> Any:
    """The value of a rule expression for a validated spec; `scope` holds `let` bindings, `item` and `index`."""
    if not isinstance(expr, Mapping):
        return expr
    if len(expr) != 1:
        raise ValueError(f"invalid rule expression {expr!r}")
    ((op, arg),) = expr.items()

    def value(i: int) -> Any:
        return evaluate(arg[i], spec, scope)

    if op == "field":
        found = _at_path(spec, arg)
        return None if found is _MISSING else found
    if op == "present":
        return _at_path(spec, arg) is not _MISSING
    if op == "var":
        if arg not in scope:
            raise ValueError(f"rule variable {arg!r} is not bound")
        return scope[arg]
    if op == "eq":
        return _same(value(0), value(1))
    if op == "ne":
        return not _same(value(0), value(1))
    if op in _COMPARE:
        a, b = value(0), value(1)
        return _is_number(a) and _is_number(b) and _COMPARE[op](a, b)
    if op == "and":
        return all(evaluate(part, spec, scope) is True for part in arg)
    if op == "or":
        return any(evaluate(part, spec, scope) is True for part in arg)
    if op == "not":
        return evaluate(arg, spec, scope) is not True
    if op == "in":
        items, needle = value(1), value(0)
        return isinstance(items, list) and any(_same(needle, item) for item in items)
    if op in _ARITHMETIC:
        a, b = value(0), value(1)
        return _ARITHMETIC[op](a, b) if _is_number(a) and _is_number(b) else None
    if op == "sum":
        items = evaluate(arg[0], spec, scope)
        if not isinstance(items, list):
            return 0
        counts = (item.get(arg[1]) for item in items if isinstance(item, Mapping))
        return sum(count for count in counts if _is_number(count))
    if op == "at":
        items, index = value(0), value(1)
        if isinstance(items, list) and _is_number(index) and 0 <= index < len(items):
            return items[int(index)]
        return None
    raise ValueError(f"invalid rule expression {expr!r}")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if _is_number(value):
        return number_text(value)
    return canonical_json(value)


def _render(message: str, spec: Any, scope: Scope) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        found = scope[name] if name in scope else _at_path(spec, name)
        return _text(None if found is _MISSING else found)

    return _PLACEHOLDER.sub(replace, message)


def _check(rule: Mapping[str, Any], spec: Any, scope: Scope, path: str) -> list[dict[str, str]]:
    for name, expr in rule.get("let", {}).items():
        scope[name] = evaluate(expr, spec, scope)
    if evaluate(rule["when"], spec, scope) is not True:
        return []
    return [{"path": path, "message": _render(rule["message"], spec, scope)}]


def run_rules(rules: Sequence[Mapping[str, Any]], spec: Any) -> list[dict[str, str]]:
    """Every `{path, message}` the rules report for a spec whose fields are individually valid, in rule order."""
    issues: list[dict[str, str]] = []
    for rule in rules:
        if not rule.get("each"):
            issues += _check(rule, spec, {}, rule["path"])
            continue
        items = _at_path(spec, rule["path"])
        if isinstance(items, list):
            first_index: dict[str, int] = {}
            for index, item in enumerate(items):
                first = first_index.setdefault(canonical_json(item), index)
                scope = {"item": item, "index": index, "first": first}
                issues += _check(rule, spec, scope, f"{rule['path']}[{index}]")
    return issues
