"""Small image-folder datasets unlike swavlab's synthetic one, for measuring whether pretraining learns.

`python3 bench/learning/datasets.py OUT [--per-class N]` writes OUT/letters, OUT/objects, OUT/scenes,
OUT/textures, OUT/cells, OUT/waves and OUT/charts, each `<class>/<i>.png` (32 x 32 RGB), generated from a fixed seed:

- letters: 6 capital letters (DejaVu Sans) at random size, rotation, position and colours over a
  noisy two-colour background. The class is a shape; colour, position and scale are nuisances.
- objects: 5 shapes (disc, square, triangle, cross, ring) of random colour, size and position over a
  photo-like background (smoothed noise and a light gradient) with a random distractor blob.
- scenes: 5 whole-image layouts (horizon with a sun, forest of trunks, city windows, night sky of dots,
  rolling hills) in random colours with pixel noise.
- textures: 5 procedural textures (stripes, checks, dots, smooth noise blobs, rings) in two random
  colours at a random angle and period; unlike the synthetic dataset's, rotated and with no shape layer.
- cells: fluorescence-microscopy-like fields of 6-14 cells of one morphology (round, rods, dividing pairs,
  rings, granule clusters) in one random stain colour on a dark noisy ground. The class is the shape of many
  small objects; their number, positions, brightness and the stain are nuisances.
- waves: plots of a waveform (sine, square, sawtooth, pulse train, random walk) drawn as a thin line in a random
  colour over a gridded ground. The class is the shape of a curve; period, amplitude, phase and colours are
  nuisances.
- charts: small charts of random data (bars, pie, line, scatter, a ruled table) in random colours with pixel
  noise. The class is the kind of chart; the data, colours and layout are nuisances.

Neither holds an attribute that every crop of an image shares besides its class (no class-wide
colour, texture or brightness), which is what made the synthetic dataset easy.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 32
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
LETTERS = ["A", "E", "K", "O", "S", "X"]
Rng = np.random.Generator


def _colour(rng: Rng) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, size=3))  # type: ignore[return-value]


def _distinct_colours(rng: Rng) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A foreground and a background colour at least 120 apart (sum over channels), so the shape shows."""
    while True:
        fg, bg = _colour(rng), _colour(rng)
        if sum(abs(a - b) for a, b in zip(fg, bg)) >= 120:
            return fg, bg


def _with_noise(rng: Rng, pixels: np.ndarray, sigma: float) -> Image.Image:
    """The RGB image of `pixels` (floats, SIZE x SIZE x 3 or broadcastable to it) plus Gaussian pixel noise."""
    noisy = pixels + rng.normal(0, sigma, size=(SIZE, SIZE, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def _noisy_background(rng: Rng, colour: tuple[int, int, int], amount: float) -> Image.Image:
    return _with_noise(rng, np.asarray(colour, dtype=np.float32), amount)


def letter(rng: Rng, cls: int) -> Image.Image:
    fg, bg = _distinct_colours(rng)
    size = int(rng.integers(16, 27))
    font = ImageFont.truetype(FONT, size)
    glyph = Image.new("L", (SIZE * 2, SIZE * 2), 0)
    ImageDraw.Draw(glyph).text((SIZE, SIZE), LETTERS[cls], fill=255, font=font, anchor="mm")
    glyph = glyph.rotate(float(rng.uniform(-25, 25)), resample=Image.BILINEAR)
    box = glyph.getbbox() or (0, 0, SIZE * 2, SIZE * 2)
    glyph = glyph.crop(box)
    image = _noisy_background(rng, bg, 18.0)
    x = int(rng.integers(0, max(1, SIZE - glyph.width + 1)))
    y = int(rng.integers(0, max(1, SIZE - glyph.height + 1)))
    image.paste(Image.new("RGB", glyph.size, fg), (x, y), glyph)
    return image


def _photo_background(rng: Rng) -> Image.Image:
    """Low-frequency colour noise plus a gradient: the texture of an out-of-focus scene."""
    coarse = rng.integers(0, 256, size=(4, 4, 3)).astype(np.uint8)
    image = Image.fromarray(coarse, "RGB").resize((SIZE, SIZE), Image.BICUBIC)
    ramp = np.linspace(-40, 40, SIZE, dtype=np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    grid = np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
    return _with_noise(rng, np.asarray(image, dtype=np.float32) + grid[..., None], 8)


def _shape(draw: ImageDraw.ImageDraw, cls: int, cx: float, cy: float, r: float, fill: tuple[int, int, int]) -> None:
    if cls == 0:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif cls == 1:
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif cls == 2:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    elif cls == 3:
        w = max(2.0, r / 2.5)
        draw.rectangle((cx - r, cy - w, cx + r, cy + w), fill=fill)
        draw.rectangle((cx - w, cy - r, cx + w, cy + r), fill=fill)
    else:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fill, width=max(2, int(r / 3)))


def obj(rng: Rng, cls: int) -> Image.Image:
    image = _photo_background(rng)
    draw = ImageDraw.Draw(image)
    bx, by, br = rng.uniform(0, SIZE, size=2).tolist() + [float(rng.uniform(2, 5))]
    draw.ellipse((bx - br, by - br, bx + br, by + br), fill=_colour(rng))
    r = float(rng.uniform(6, 11))
    cx, cy = (float(v) for v in rng.uniform(r, SIZE - r, size=2))
    fill = _distinct_colours(rng)[0]
    _shape(draw, cls, cx, cy, r, fill)
    angle = float(rng.uniform(-30, 30))
    return image.rotate(angle, resample=Image.BILINEAR, fillcolor=_colour(rng)).filter(ImageFilter.SMOOTH)


def _palette(rng: Rng, n: int) -> list[tuple[int, int, int]]:
    return [_colour(rng) for _ in range(n)]


def scene(rng: Rng, cls: int) -> Image.Image:
    """A whole-image layout in random colours: the class is the arrangement, present in every crop."""
    a, b, c = _palette(rng, 3)
    image = Image.new("RGB", (SIZE, SIZE), a)
    draw = ImageDraw.Draw(image)
    if cls == 0:  # horizon: sky over ground, a sun
        h = int(rng.integers(12, 22))
        draw.rectangle((0, h, SIZE, SIZE), fill=b)
        x, y, r = int(rng.integers(4, 28)), int(rng.integers(3, max(4, h - 3))), int(rng.integers(2, 5))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=c)
    elif cls == 1:  # forest: vertical trunks
        x = int(rng.integers(0, 4))
        while x < SIZE:
            w = int(rng.integers(2, 5))
            draw.rectangle((x, 0, x + w, SIZE), fill=b if rng.random() < 0.7 else c)
            x += w + int(rng.integers(2, 6))
    elif cls == 2:  # city: a grid of windows
        step = int(rng.integers(5, 9))
        for gx in range(1, SIZE, step):
            for gy in range(1, SIZE, step):
                draw.rectangle((gx, gy, gx + step // 2, gy + step // 2), fill=b)
    elif cls == 3:  # night sky: scattered dots
        for _ in range(int(rng.integers(25, 45))):
            x, y = (int(v) for v in rng.integers(0, SIZE, size=2))
            draw.point((x, y), fill=b)
            draw.point((x + 1, y), fill=b)
    else:  # hills: waves across the image
        phase, period = rng.uniform(0, 2 * math.pi), rng.uniform(10, 18)
        for band in range(3):
            base = 8 + 9 * band
            points = [(x, base + 3 * math.sin(2 * math.pi * x / period + phase + band)) for x in range(0, SIZE + 1, 2)]
            draw.polygon(points + [(SIZE, SIZE), (0, SIZE)], fill=(b, c, a)[band % 3])
    return _with_noise(rng, np.asarray(image, dtype=np.float32), 10)


def texture(rng: Rng, cls: int) -> Image.Image:
    """A rotated procedural texture in two random colours: stripes, checks, dots, noise blobs or rings."""
    fg, bg = _distinct_colours(rng)
    big = SIZE * 2
    ys, xs = np.mgrid[0:big, 0:big].astype(np.float32)
    period = rng.uniform(5, 9)
    if cls == 0:
        mask = np.sin(2 * np.pi * xs / period) > 0
    elif cls == 1:
        mask = (np.floor(xs / period) + np.floor(ys / period)) % 2 == 0
    elif cls == 2:
        mask = ((xs % period - period / 2) ** 2 + (ys % period - period / 2) ** 2) < (period / 3.2) ** 2
    elif cls == 3:
        coarse = rng.random((big // 8, big // 8))
        mask = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((big, big), Image.BICUBIC)) > 128
    else:
        cx, cy = rng.uniform(0, big, size=2)
        mask = np.sin(2 * np.pi * np.hypot(xs - cx, ys - cy) / period) > 0
    pixels = np.where(mask[..., None], np.asarray(fg, np.float32), np.asarray(bg, np.float32))
    image = Image.fromarray(pixels.astype(np.uint8), "RGB").rotate(float(rng.uniform(0, 180)), resample=Image.BILINEAR)
    image = image.crop((SIZE // 2, SIZE // 2, SIZE // 2 + SIZE, SIZE // 2 + SIZE))
    return _with_noise(rng, np.asarray(image, dtype=np.float32), 12)


def cell(rng: Rng, cls: int) -> Image.Image:
    """A fluorescence-microscopy-like field: 6-14 cells of one morphology (round, rod, dividing pair, ring or
    cluster of granules) in one random stain colour on a dark, noisy ground, slightly out of focus."""
    stain = np.asarray(_colour(rng), np.float32)
    stain = 255 * stain / max(1.0, float(stain.max()))
    big = SIZE * 2
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(int(rng.integers(6, 15))):
        cx, cy = rng.uniform(0, big, size=2)
        level = int(rng.integers(150, 256))
        if cls == 0:
            r = rng.uniform(3, 5)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=level)
        elif cls == 1:
            half, angle = rng.uniform(7, 11), rng.uniform(0, math.pi)
            dx, dy = half * math.cos(angle), half * math.sin(angle)
            draw.line((cx - dx, cy - dy, cx + dx, cy + dy), fill=level, width=4)
        elif cls == 2:
            r, angle = rng.uniform(3, 4.5), rng.uniform(0, math.pi)
            for side in (-1, 1):
                x, y = cx + side * r * math.cos(angle), cy + side * r * math.sin(angle)
                draw.ellipse((x - r, y - r, x + r, y + r), fill=level)
        elif cls == 3:
            r = rng.uniform(5, 7)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=level, width=2)
        else:
            for _ in range(int(rng.integers(4, 8))):
                x, y = cx + rng.normal(0, 3), cy + rng.normal(0, 3)
                draw.ellipse((x - 1.2, y - 1.2, x + 1.2, y + 1.2), fill=level)
    mask = mask.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.2)))).resize((SIZE, SIZE), Image.BILINEAR)
    intensity = np.asarray(mask, np.float32)[..., None] / 255
    ground = rng.uniform(5, 30)
    return _with_noise(rng, ground + intensity * stain, 8)


def wave(rng: Rng, cls: int) -> Image.Image:
    """A plot of one waveform (sine, square, sawtooth, pulse train or random walk) as a 1-2 px line in a random
    colour over a random ground with faint grid lines; period, amplitude, phase and offset are nuisances."""
    fg, bg = _distinct_colours(rng)
    image = Image.new("RGB", (SIZE, SIZE), bg)
    draw = ImageDraw.Draw(image)
    grid = tuple(int(0.8 * v + 0.2 * w) for v, w in zip(bg, fg))
    for g in range(int(rng.integers(3, 8)), SIZE, 8):
        draw.line((g, 0, g, SIZE), fill=grid)
        draw.line((0, g, SIZE, g), fill=grid)
    period, phase = rng.uniform(9, 20), rng.uniform(0, 1)
    amplitude, centre = rng.uniform(5, 11), rng.uniform(12, 20)
    xs = np.arange(SIZE + 1, dtype=np.float64)
    t = (xs / period + phase) % 1.0
    if cls == 0:
        ys = np.sin(2 * np.pi * t)
    elif cls == 1:
        ys = np.where(t < 0.5, 1.0, -1.0)
    elif cls == 2:
        ys = 2 * t - 1
    elif cls == 3:
        ys = np.where(t < 0.15, 1.0, -0.6)
    else:
        ys = np.cumsum(rng.normal(0, 0.35, size=xs.size))
        ys = (ys - ys.mean()) / max(1e-6, float(np.abs(ys - ys.mean()).max()))
    points = [(float(x), float(centre - amplitude * y)) for x, y in zip(xs, ys)]
    draw.line(points, fill=fg, width=int(rng.integers(1, 3)))
    return _with_noise(rng, np.asarray(image, dtype=np.float32), 8)


def chart(rng: Rng, cls: int) -> Image.Image:
    """A small chart of random data in random colours: bars, a pie, a line, a scatter or a table of cells."""
    fg, bg = _distinct_colours(rng)
    accent = _colour(rng)
    image = Image.new("RGB", (SIZE, SIZE), bg)
    draw = ImageDraw.Draw(image)
    left, bottom = int(rng.integers(2, 7)), int(rng.integers(26, 31))
    if cls in (0, 2, 3):  # axes
        draw.line((left, 2, left, bottom), fill=fg)
        draw.line((left, bottom, SIZE - 2, bottom), fill=fg)
    if cls == 0:  # bars
        n = int(rng.integers(3, 7))
        width = (SIZE - 4 - left) / n
        for i in range(n):
            top = int(rng.integers(4, bottom - 3))
            x = left + 1 + i * width
            draw.rectangle((x + 1, top, x + max(2.0, width - 2), bottom - 1), fill=accent if i % 2 else fg)
    elif cls == 1:  # pie
        r, cx, cy = rng.uniform(9, 14), rng.uniform(14, 18), rng.uniform(14, 18)
        cuts = np.sort(rng.uniform(0, 360, size=int(rng.integers(2, 5))))
        ends = np.append(cuts[1:], cuts[0] + 360)  # each slice runs to the next cut, the last one round to the first
        for i, (a, b) in enumerate(zip(cuts, ends)):
            draw.pieslice((cx - r, cy - r, cx + r, cy + r), float(a), float(b), fill=accent if i % 2 else fg)
    elif cls == 2:  # line
        xs = np.linspace(left + 1, SIZE - 2, int(rng.integers(5, 10)))
        ys = np.clip(np.cumsum(rng.normal(0, 4, size=xs.size)) + rng.uniform(8, 22), 3, bottom - 2)
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=accent, width=2)
    elif cls == 3:  # scatter
        for _ in range(int(rng.integers(10, 25))):
            x, y = rng.uniform(left + 2, SIZE - 3), rng.uniform(3, bottom - 3)
            draw.rectangle((x - 1, y - 1, x + 1, y + 1), fill=accent)
    else:  # table: ruled rows and columns with filled cells
        rows, cols = int(rng.integers(3, 6)), int(rng.integers(2, 4))
        h, w = (SIZE - 4) / rows, (SIZE - 4) / cols
        for i in range(rows + 1):
            draw.line((2, 2 + i * h, SIZE - 2, 2 + i * h), fill=fg)
        for j in range(cols + 1):
            draw.line((2 + j * w, 2, 2 + j * w, SIZE - 2), fill=fg)
        for i in range(rows):
            for j in range(cols):
                length = rng.uniform(0.3, 0.8) * (w - 3)
                y = 2 + i * h + h / 2
                draw.line((4 + j * w, y, 4 + j * w + length, y), fill=accent)
    return _with_noise(rng, np.asarray(image, dtype=np.float32), 8)


GENERATORS: dict[str, tuple[list[str], Callable[[Rng, int], Image.Image]]] = {
    "letters": (LETTERS, letter),
    "objects": (["disc", "square", "triangle", "cross", "ring"], obj),
    "scenes": (["horizon", "forest", "city", "night", "hills"], scene),
    "textures": (["stripes", "checks", "dots", "blobs", "rings"], texture),
    "cells": (["round", "rods", "pairs", "rings", "granules"], cell),
    "waves": (["sine", "square", "sawtooth", "pulses", "walk"], wave),
    "charts": (["bars", "pie", "line", "scatter", "table"], chart),
}


def write(out: Path, name: str, per_class: int, seed: int = 0) -> Path:
    classes, generate = GENERATORS[name]
    rng = np.random.default_rng(seed)
    root = out / name
    for cls, label in enumerate(classes):
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            generate(rng, cls).save(folder / f"{i}.png")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-class", type=int, default=300)
    args = parser.parse_args()
    for name in GENERATORS:
        print(write(args.out, name, args.per_class))


if __name__ == "__main__":
    main()
