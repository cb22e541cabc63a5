"""Signed-distance shapes, fill textures and backgrounds that define the synthetic classes.

Shapes are signed distance functions in the object's local frame (units of the object radius, the
shape fits in the unit disk); anti-aliased coverage then comes for free as `0.5 - distance_px`.
All functions are vectorised over a pixel grid and work for any image size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray
Sdf = Callable[[Array, Array], Array]

_TWO_PI = 2.0 * np.pi


def _box(u: Array, v: Array, cu: float, cv: float, hu: float, hv: float) -> Array:
    qu = np.abs(u - cu) - hu
    qv = np.abs(v - cv) - hv
    outside = np.hypot(np.maximum(qu, 0.0), np.maximum(qv, 0.0))
    return outside + np.minimum(np.maximum(qu, qv), 0.0)


def _regular_polygon(u: Array, v: Array, sides: int, apothem: float) -> Array:
    """Max over edge half-planes: exact inside and along edges, which is all anti-aliasing needs."""
    d = None
    for i in range(sides):
        phi = _TWO_PI * i / sides + np.pi / 2
        e = u * np.cos(phi) + v * np.sin(phi)
        d = e if d is None else np.maximum(d, e)
    assert d is not None
    return d - apothem


def _disk(u: Array, v: Array) -> Array:
    return np.hypot(u, v) - 0.8


def _square(u: Array, v: Array) -> Array:
    return _box(u, v, 0.0, 0.0, 0.62, 0.62)


def _triangle(u: Array, v: Array) -> Array:
    return _regular_polygon(u, v, 3, 0.45)


def _plus(u: Array, v: Array) -> Array:
    return np.minimum(_box(u, v, 0.0, 0.0, 0.9, 0.27), _box(u, v, 0.0, 0.0, 0.27, 0.9))


def _ring(u: Array, v: Array) -> Array:
    return np.abs(np.hypot(u, v) - 0.65) - 0.22


def _star(u: Array, v: Array) -> Array:
    # Radius alternates linearly in angle between tips (0.95) and notches (0.4): 5 points.
    t = (np.arctan2(v, u) * (5.0 / _TWO_PI)) % 1.0
    radius = 0.4 + 0.55 * np.abs(2.0 * t - 1.0)
    return np.hypot(u, v) - radius


def _crescent(u: Array, v: Array) -> Array:
    return np.maximum(np.hypot(u, v) - 0.85, -(np.hypot(u - 0.42, v) - 0.68))


def _half_disk(u: Array, v: Array) -> Array:
    vv = v + 0.3
    return np.maximum(np.hypot(u, vv) - 0.9, -vv)


def _ell(u: Array, v: Array) -> Array:
    return np.minimum(_box(u, v, -0.45, 0.0, 0.22, 0.8), _box(u, v, 0.05, 0.58, 0.72, 0.22))


def _bar(u: Array, v: Array) -> Array:
    return _box(u, v, 0.0, 0.0, 0.95, 0.28)


SHAPES: dict[str, Sdf] = {
    "disk": _disk,
    "square": _square,
    "triangle": _triangle,
    "plus": _plus,
    "ring": _ring,
    "star": _star,
    "crescent": _crescent,
    "half_disk": _half_disk,
    "ell": _ell,
    "bar": _bar,
}

def _fract(a: Array) -> Array:
    return a - np.floor(a)


def _tri(a: Array) -> Array:
    """Triangle wave in [0, 1] with period 1."""
    return np.abs(2.0 * _fract(a) - 1.0)


# Textures: where (1) or not (0) the texture modulates the colour at coordinates (u, v) measured in
# texture periods. All repeat every period or two, so a crop of a few periods already shows which one
# it is, and blur, colour jitter and flips leave them distinct.
TEXTURES: dict[str, Callable[[Array, Array], Array]] = {
    "solid": lambda u, v: np.zeros(np.broadcast(u, v).shape, dtype=np.float32),
    "stripes": lambda u, v: (_fract(u) < 0.5).astype(np.float32),
    "checker": lambda u, v: ((np.floor(u) + np.floor(v)) % 2).astype(np.float32),
    "dots": lambda u, v: (np.hypot(_fract(u) - 0.5, _fract(v) - 0.5) < 0.3).astype(np.float32),
    "grid": lambda u, v: ((_tri(u) > 0.7) | (_tri(v) > 0.7)).astype(np.float32),
    "rings": lambda u, v: (_fract(np.hypot(u, v)) < 0.5).astype(np.float32),
    "zigzag": lambda u, v: (_fract(v + 0.8 * _tri(u * 0.8)) < 0.5).astype(np.float32),
    "bricks": lambda u, v: (
        (_tri(v * 0.7) > 0.75) | (_tri(u * 0.5 + 0.5 * (np.floor(v * 0.7 + 0.5) % 2)) > 0.8)
    ).astype(np.float32),
    "crosses": lambda u, v: (
        (np.abs(_fract(u) - 0.5) < 0.12) & (np.abs(_fract(v) - 0.5) < 0.38)
        | (np.abs(_fract(v) - 0.5) < 0.12) & (np.abs(_fract(u) - 0.5) < 0.38)
    ).astype(np.float32),
    "diagonal": lambda u, v: (_fract((u + v) * 0.7) < 0.5).astype(np.float32),
}

BACKGROUNDS: tuple[str, ...] = ("plain", "frame", "split", "wide_stripes", "diagonal")


def background_mix(style: str, x: Array, y: Array, size: int) -> Array | None:
    """Where the background shows its plain, untextured colour (0..1 over the grid), or None for nowhere."""
    if style == "plain":
        return None
    if style == "frame":
        border = max(1.0, size / 12)
        inner = (x > border) & (x < size - border) & (y > border) & (y < size - border)
        return (~inner).astype(np.float32)
    if style == "split":
        return np.broadcast_to(x > size / 2, (size, size)).astype(np.float32)
    if style == "wide_stripes":
        return np.broadcast_to((y // max(1.0, size / 4)) % 2 == 1, (size, size)).astype(np.float32)
    if style == "diagonal":
        return (x + y > size).astype(np.float32)
    raise ValueError(f"unknown background style {style!r}")
