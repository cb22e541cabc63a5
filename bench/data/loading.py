"""Data-loading throughput: swavlab's multi-crop pipeline against torchvision's ImageFolder with the
SwAV authors' multi-crop transforms.

Run from the repository root: `/usr/bin/python3 bench/data/loading.py [--photos N] [--large N]
[--workers N] [--batch N] [--rounds N] [--profile]`. Under 2 minutes with the defaults on the
2-core build machine (1.6 minutes with `--profile` while it was shared).

The bench writes its own ImageNet-layout folder of photo-like JPEGs (smooth colour fields, texture
and grain, quality 90) to a temporary directory: `--photos` of about 500 x 375 (ImageNet's typical
size) and `--large` of 2000-3200 px. Each set is read, with `2x224+6x96` crops, through a
DataLoader with `--workers` persistent workers, by

* reference: torchvision's `ImageFolder` (PIL loader) with the transforms of the authors'
  `src/multicropdataset.py`: per crop RandomResizedCrop, horizontal flip, colour jitter
  (0.8, 0.8, 0.8, 0.2) with p 0.8, grayscale p 0.2, PIL Gaussian blur p 0.5, ToTensor, Normalize;
  default collation;
* swavlab: `build_datasets` on the `imagefolder` source, `MultiCropDataset` and
  `swavlab.loader.build_train_loader` (what `swavlab.train` runs); on the large set also with
  full-size decoding, to show what decoding large JPEGs at a reduced scale (`Image.draft`) adds.

One epoch of each warms the workers up; then `--rounds` epochs of each, interleaved in a random
order so that load from other processes hits all alike. Reported per pipeline (medians): images/s
of wall time and images per CPU-second (the CPU time of this process and its worker processes over
the epoch, read from /proc: the per-core throughput, which does not depend on how many cores other
processes leave free), and `ratio` = swavlab / reference per CPU-second. `--profile` adds where a
single process spends its time per image (cProfile, by pipeline stage).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "trainer"))

from swavlab.data import LabelledDataset, MultiCropDataset, build_datasets  # noqa: E402
from swavlab.data.decode import DecodeBound  # noqa: E402
from swavlab.loader import build_train_loader  # noqa: E402
from swavlab.spec import parse_crops  # noqa: E402

CROPS = parse_crops("2x224+6x96")
MEAN, STD = (0.485, 0.456, 0.406), (0.228, 0.224, 0.225)
PHOTO_SIZES = ((500, 375), (375, 500), (500, 333), (500, 400), (450, 350))
LARGE_SIZES = ((2400, 1800), (3200, 2400), (2048, 1536), (2000, 3000))
CLASSES = 4
DISTINCT = 32


# --- the dataset on disk -----------------------------------------------------------------------


def photo(size: tuple[int, int], rng: np.random.Generator, grain: np.ndarray) -> Image.Image:
    """Photo-like content: a smooth random colour field, a texture at a random scale, and grain."""
    width, height = size
    field = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
    ys = np.linspace(0, rng.uniform(4, 40), height, dtype=np.float32)[:, None]
    xs = np.linspace(0, rng.uniform(4, 40), width, dtype=np.float32)[None, :]
    texture = 25 * np.sin(xs + rng.uniform(0, 6)) * np.cos(ys)
    tiles = (height // grain.shape[0] + 1, width // grain.shape[1] + 1)
    noise = np.tile(grain, tiles)[:height, :width]
    pixels = np.asarray(field, np.float32) + (texture + noise)[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def write_set(root: Path, sizes: Sequence[tuple[int, int]], count: int, seed: int) -> float:
    """`count` JPEGs in root/train/c<k>/ (and one per class in val/); returns the mean file size in KB.

    Up to DISTINCT pictures are drawn (drawing a 3200 px one takes most of a second); further files
    are hard links to them: the loaders decode every file anyway, and the bench measures CPU work.
    """
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 6, (97, 89)).astype(np.float32)
    files: list[Path] = []
    for i in range(count):
        cls = f"c{i % CLASSES}"
        path = root / "train" / cls / f"{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        if i < DISTINCT:
            photo(sizes[i % len(sizes)], rng, grain).save(path, "JPEG", quality=90)
        else:
            os.link(files[i % DISTINCT], path)
        files.append(path)
        if i < CLASSES:
            (root / "val" / cls).mkdir(parents=True, exist_ok=True)
            os.link(path, root / "val" / cls / path.name)
    return sum(f.stat().st_size for f in files) / count / 1024


# --- the reference pipeline (the authors' src/multicropdataset.py, written out here) -------------


class PILRandomGaussianBlur:
    """Blur with probability p and a radius uniform in [0.1, 2], drawn from numpy and random as the authors do."""

    def __init__(self, p: float = 0.5, radius_min: float = 0.1, radius_max: float = 2.0) -> None:
        self.p, self.radius_min, self.radius_max = p, radius_min, radius_max

    def __call__(self, image: Image.Image) -> Image.Image:
        if np.random.rand() > self.p:
            return image
        return image.filter(ImageFilter.GaussianBlur(radius=random.uniform(self.radius_min, self.radius_max)))


class ReferenceMultiCrop:
    """One transform per crop, applied to the same decoded image."""

    def __init__(self, crops: Sequence[dict[str, Any]]) -> None:
        colour = transforms.Compose(
            [
                transforms.RandomApply([transforms.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
                transforms.RandomGrayscale(p=0.2),
            ]
        )
        self.per_crop: list[Callable[[Image.Image], torch.Tensor]] = []
        for group in crops:
            crop = transforms.Compose(
                [
                    transforms.RandomResizedCrop(group["size"], scale=(group["min_scale"], group["max_scale"])),
                    transforms.RandomHorizontalFlip(p=0.5),
                    colour,
                    PILRandomGaussianBlur(),
                    transforms.ToTensor(),
                    transforms.Normalize(mean=MEAN, std=STD),
                ]
            )
            self.per_crop.extend([crop] * int(group["count"]))

    def __call__(self, image: Image.Image) -> list[torch.Tensor]:
        return [crop(image) for crop in self.per_crop]


def reference_loader(root: Path, workers: int, batch: int) -> tuple[Dataset, Iterable[Any]]:  # type: ignore[type-arg]
    dataset = datasets.ImageFolder(str(root / "train"), transform=ReferenceMultiCrop(CROPS))
    extra: dict[str, Any] = {"persistent_workers": True, "prefetch_factor": 4} if workers else {}
    loader = DataLoader(
        dataset, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True,
        pin_memory=torch.cuda.is_available(), **extra,
    )
    return dataset, loader


# --- swavlab's pipeline ------------------------------------------------------------------------


class FullSize(LabelledDataset):
    """`base` with reduced-scale decoding turned off (MultiCropDataset asks every source for it)."""

    def __init__(self, base: LabelledDataset) -> None:
        self.base = base
        self.num_classes = base.num_classes
        self.image_size = base.image_size

    @property
    def labels(self) -> Sequence[int]:
        return self.base.labels

    def decoded_within(self, bound: DecodeBound) -> LabelledDataset:
        del bound
        return self

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        return self.base[index]


@dataclass
class _EpochLoader:
    """Iterates swavlab's loader epoch by epoch, as the training loop does (`start_epoch` first)."""

    loader: DataLoader  # type: ignore[type-arg]
    sampler: Any
    epoch: int = 0

    def __iter__(self) -> Iterator[Any]:
        self.sampler.start_epoch(self.epoch)
        self.epoch += 1
        return iter(self.loader)


def swavlab_loader(
    root: Path, workers: int, batch: int, full_size: bool = False
) -> tuple[Dataset, Iterable[Any]]:  # type: ignore[type-arg]
    splits = build_datasets({"source": "imagefolder", "path": str(root), "test_fraction": 0.2}, seed=0)
    base = FullSize(splits.pretrain) if full_size else splits.pretrain
    crops = MultiCropDataset(base, CROPS, seed=0)
    loader, sampler = build_train_loader(crops, batch, 0, workers, 0, 1, pin_memory=torch.cuda.is_available())
    return crops, _EpochLoader(loader, sampler)


# --- measurement -------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU time of this process and its live child processes (the loader workers)."""
    total = sum(os.times()[:2])
    me = str(os.getpid())
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # fields[1] is the parent pid; utime and stime are fields[11:13]
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


@dataclass
class Epoch:
    """One epoch of one pipeline: images delivered, wall seconds, CPU seconds."""

    images: int
    wall: float
    cpu: float


def run_epoch(loader: Iterable[Any], batch: int) -> Epoch:
    cpu, wall = cpu_seconds(), time.perf_counter()
    images = sum(batch for _ in loader)
    return Epoch(images, time.perf_counter() - wall, cpu_seconds() - cpu)


def compare(title: str, loaders: dict[str, Iterable[Any]], batch: int, rounds: int) -> None:
    for loader in loaders.values():
        run_epoch(loader, batch)  # starts the persistent workers
    epochs: dict[str, list[Epoch]] = {name: [] for name in loaders}
    order = random.Random(0)
    for _ in range(rounds):
        for name in order.sample(list(loaders), len(loaders)):
            epochs[name].append(run_epoch(loaders[name], batch))
    print(title)
    per_cpu: dict[str, float] = {}
    for name, runs in epochs.items():
        wall = statistics.median(e.images / e.wall for e in runs)
        per_cpu[name] = statistics.median(e.images / e.cpu for e in runs)
        cores = statistics.median(e.cpu / e.wall for e in runs)
        print(f"  {name:<34} {wall:6.1f} images/s  {per_cpu[name]:6.1f} images per CPU-second  ({cores:.2f} cores busy)")
    reference = per_cpu["reference"]
    for name, value in per_cpu.items():
        if name != "reference":
            print(f"  ratio {name} / reference (per CPU-second): {value / reference:.2f}")


# --- profile -----------------------------------------------------------------------------------


def _stages() -> dict[str, list[tuple[str, Callable[..., Any]]]]:
    """Per pipeline, (stage, function) pairs: a stage's time is the cumulative time of its functions,
    each called by that stage only."""
    from torchvision.datasets.folder import pil_loader

    from swavlab.data.decode import open_rgb
    from swavlab.data.transforms import CropAugmentation, RandomGaussianBlur, to_normalised_tensor

    return {
        "reference": [
            ("decode", pil_loader),
            ("crop+resize", transforms.RandomResizedCrop.forward),
            ("flip", transforms.RandomHorizontalFlip.forward),
            ("colour jitter", transforms.ColorJitter.forward),
            ("grayscale", transforms.RandomGrayscale.forward),
            ("blur", PILRandomGaussianBlur.__call__),
            ("to tensor+normalize", transforms.ToTensor.__call__),
            ("to tensor+normalize", transforms.Normalize.forward),
        ],
        "swavlab": [
            ("decode", open_rgb),
            ("crop+resize", Image.Image.resize),
            ("colour jitter", CropAugmentation._colour_jitter),
            ("blur", RandomGaussianBlur.__call__),
            ("to tensor+normalize", to_normalised_tensor),
        ],
    }


def _stage_times(stats: pstats.Stats, stages: list[tuple[str, Callable[..., Any]]]) -> dict[str, float]:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    times: dict[str, float] = {}
    for stage, function in stages:
        code = function.__code__
        entry = raw.get((code.co_filename, code.co_firstlineno, code.co_name))
        times[stage] = times.get(stage, 0.0) + (entry[3] if entry else 0.0)
    return times


def profile(title: str, pipelines: dict[str, Dataset], samples: int) -> None:  # type: ignore[type-arg]
    """Milliseconds per image in each stage, one process, cProfile (which slows Python-level calls alike)."""
    print(f"{title}: milliseconds per image in one process, by stage ({samples} images, cProfile)")
    stages = _stages()
    per_stage: dict[str, dict[str, float]] = {}
    for name, dataset in pipelines.items():
        torch.manual_seed(0)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for index in range(samples):
            dataset[index]
        profiler.disable()
        total = (time.perf_counter() - started) / samples * 1e3
        times = {k: v / samples * 1e3 for k, v in _stage_times(pstats.Stats(profiler), stages[name]).items()}
        per_stage[name] = {**times, "other (flip, grayscale, RNG, calls)": total - sum(times.values()), "total": total}
    rows = dict.fromkeys(key for name in pipelines for key in per_stage[name])
    print(f"  {'stage':<36}" + "".join(f"{n:>12}" for n in pipelines))
    for row in rows:
        print(f"  {row:<36}" + "".join(f"{per_stage[n][row]:12.2f}" if row in per_stage[n] else f"{'-':>12}"
                                         for n in pipelines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=192, help="JPEGs of about 500 x 375")
    parser.add_argument("--large", type=int, default=48, help="JPEGs of 2000-3200 px")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="DataLoader workers")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="measured epochs per pipeline (median)")
    parser.add_argument("--profile", action="store_true", help="also profile the stages in one process")
    args = parser.parse_args()
    if min(args.photos, args.large) < max(args.batch, CLASSES):
        parser.error(f"--photos and --large must be at least --batch ({args.batch}) and {CLASSES}")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SWAVLAB_DATA_ROOTS"] = tmp
        started = time.perf_counter()
        photos_kb = write_set(Path(tmp) / "photos", PHOTO_SIZES, args.photos, seed=1)
        large_kb = write_set(Path(tmp) / "large", LARGE_SIZES, args.large, seed=2)
        print(f"wrote {args.photos} photos ({photos_kb:.0f} KB each) and {args.large} large JPEGs "
              f"({large_kb:.0f} KB each) in {time.perf_counter() - started:.1f} s")
        print(f"crops 2x224+6x96, {args.workers} workers on {len(os.sched_getaffinity(0))} cores, "
              f"batch {args.batch}, {args.rounds} rounds (medians)")
        sets = {"photos (about 500x375)": Path(tmp) / "photos", "large (2000-3200 px)": Path(tmp) / "large"}
        for title, root in sets.items():
            loaders = {
                "reference": reference_loader(root, args.workers, args.batch)[1],
                "swavlab": swavlab_loader(root, args.workers, args.batch)[1],
            }
            if root.name == "large":
                loaders["swavlab, full-size decode"] = swavlab_loader(root, args.workers, args.batch, full_size=True)[1]
            compare(title, loaders, args.batch, args.rounds)
            del loaders
        if args.profile:
            for title, root in sets.items():
                samples = min(48 if root.name == "photos" else 12, args.photos, args.large)
                datasets_ = {"reference": reference_loader(root, 0, 1)[0], "swavlab": swavlab_loader(root, 0, 1)[0]}
                profile(title, datasets_, samples)


if __name__ == "__main__":
    main()
