"""Canonical JSON, byte for byte the same as packages/spec's `canonicalJson` (the rules are in its README).

Numbers are written as JavaScript's `String(number)` writes them (shortest round-trip digits, `1e-7` and `1e+21`
beyond the plain-decimal range, `1` for `1.0`); strings as `JSON.stringify` writes them (only `"`, `\\` and control
characters escaped, lone surrogates as `\\udxxx`); object keys sorted by their UTF-16 code units; no whitespace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def number_text(value: int | float) -> str:
    """`value` as JavaScript's `String(value)` writes it: a JSON number is a double, so an integer beyond 2**53
    stands for the double nearest to it, as it does when JavaScript reads the same JSON text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"canonical JSON: {value!r} is not a number")
    try:
        x = float(value)
    except OverflowError:
        raise ValueError(f"canonical JSON: {value} has no double") from None
    if not math.isfinite(x):
        raise ValueError(f"canonical JSON: {value} has no JSON form")
    if x == 0:
        return "0"  # also -0, as JSON.stringify writes it
    # repr gives the shortest digits that round-trip, as ECMAScript's Number::toString requires.
    parts = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, parts.digits)).rstrip("0")
    exponent = int(parts.exponent) + len(parts.digits) - len(digits)
    k = len(digits)
    n = exponent + k  # the value is 0.digits × 10^n
    sign = "-" if x < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{sign}{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return f"{sign}0.{'0' * -n}{digits}"
    e = n - 1
    mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _utf16(text: str) -> str:
    """Joins surrogate pairs into the characters they encode; lone surrogates stay (as in a JavaScript string)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _string(text: str) -> str:
    out = ['"']
    for ch in _utf16(text):
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _utf16_order(key: str) -> bytes:
    return _utf16(key).encode("utf-16-be", "surrogatepass")


def canonical_json(value: Any) -> str:
    """JSON with keys sorted recursively and no whitespace; raises TypeError/ValueError for what JSON cannot hold."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("canonical JSON: object keys must be strings")
        keys = sorted(value, key=_utf16_order)
        return "{" + ",".join(f"{_string(key)}:{canonical_json(value[key])}" for key in keys) + "}"
    raise TypeError(f"canonical JSON: a {type(value).__name__} has no JSON form")
