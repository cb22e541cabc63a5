"""The paper's ablation findings in miniature, through the REST API of a running swavlab service.

Run from the repository root, after `npm run build`:

    /usr/bin/python3 bench/fidelity/fidelity.py [--seeds 4] [--epochs 24] [--url URL --token TOKEN]

Without `--url` the bench starts `swavlab up` (embedded PGlite, a private redis-server, two CPU slots of one
thread each) in a temporary home and stops it at the end. Every claim is one grid of two cells submitted with
swavlab.client; its runs train through the worker and the bridge like any user's, and the effect, its 95 %
confidence interval and its p-value are the API's own statistics (`GET /v1/grids/{id}/results`: Welch's
two-sided t-test of one cell against the other, `difference_ci95`). Nothing is computed here but the sign.

The miniature: the `small-data` recipe with the tiny backbone on 1,024 synthetic 32 px images of 10 classes
(`data.seed` fixed, so the seeds vary the training, not the images), k-NN@20 on the 256 held out. Each claim
has seeds of its own, so no cell is shared between grids (the service would otherwise reuse a run of an earlier
grid). Budget: 12 cells x 4 seeds of about 75 s each on one thread, under 60 minutes on 2 cores.

For each claim the report prints the paper's numbers, the miniature's means, the effect (the paper's better
setting minus its worse one) with its interval and p-value, and whether the direction agrees; for a claim that a
setting changes little, agreement means no significant difference, and the interval says how little.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packages" / "trainer"))

from swavlab.client import Client  # noqa: E402
from swavlab.local_service import local_service  # noqa: E402
from swavlab.spec import parse_crops  # noqa: E402

METRIC = "knn_top1@20"
ALPHA = 0.05
MULTI_CROP = "2x32(0.3-1)+4x16(0.15-0.4)"


@dataclass(frozen=True)
class Claim:
    """One ablation finding of the paper, as two settings of one spec field."""

    title: str
    source: str
    paper: str
    path: str
    better: Any
    """The setting the paper finds better (or, for a `flat` claim, its reference setting)."""
    worse: Any
    flat: bool = False
    """The paper finds little or no difference: agreement is no significant difference."""


CLAIMS = [
    Claim(
        "multi-crop against 2 crops of the same compute",
        "Table 4 / Fig. 3",
        "2x160+4x96 74.1 vs 2x224 70.1 (400 epochs): +4.0",
        "swav.crops",
        MULTI_CROP,
        "2x40(0.3-1)",
    ),
    Claim(
        "3 Sinkhorn iterations against 1",
        "Table 14",
        "3 iterations 73.9; 1 iteration fails to converge",
        "swav.sinkhorn_iterations",
        3,
        1,
    ),
    Claim(
        "10 Sinkhorn iterations against 3",
        "Table 14",
        "10 iterations 73.8 vs 3 iterations 73.9: no gain",
        "swav.sinkhorn_iterations",
        10,
        3,
        flat=True,
    ),
    Claim(
        "learned against fixed prototypes",
        "Table 13 left",
        "learned 73.9 vs fixed 73.1: +0.8",
        "swav.prototypes_mode",
        "learned",
        "fixed",
    ),
    Claim(
        "soft against hard assignment",
        "Table 13 right / Fig. 7",
        "soft 73.9 vs hard 73.3: +0.6",
        "swav.assignment",
        "soft",
        "hard",
    ),
    Claim(
        "10x the prototypes",
        "Table 12",
        "3k 73.9 vs 30k 73.8 (300: 72.8, 100k: 73.8): flat",
        "swav.prototypes",
        200,
        20,
        flat=True,
    ),
]


def base_spec(epochs: int) -> dict[str, Any]:
    return {
        "recipe": "small-data",
        # grayscale_p 0.2 (the paper's) as when the report in README.md was measured; the recipe has since raised it.
        "data": {"source": "synthetic", "num_images": 1024, "num_classes": 10, "image_size": 32, "test_fraction": 0.25,
                 "seed": 7, "augment": {"grayscale_p": 0.2}},
        "model": {"arch": "tiny"},
        "optim": {"epochs": epochs},
        "runtime": {"device": "cpu", "workers": 0, "threads": 1},
        "checkpoint": {"every_epochs": 0, "keep_last": 1},
        "eval": {"knn": {"k": [20], "temperature": 0.07}, "linear": None},
        "tags": ["fidelity"],
    }


def grid_for(index: int, claim: Claim, seeds: int, epochs: int) -> dict[str, Any]:
    # Seeds of its own per claim: 101.., 201.., ...
    return {
        "name": f"fidelity: {claim.title}",
        "base": base_spec(epochs),
        "axes": {claim.path: [claim.better, claim.worse]},
        "seeds": [100 * (index + 1) + s for s in range(1, seeds + 1)],
        "metric": {"name": METRIC, "goal": "max"},
    }


@contextmanager
def started_service(slots: int) -> Iterator[tuple[str, str]]:
    """`swavlab up` in a temporary home; yields (url, token)."""
    if not (REPO / "apps" / "cli" / "dist").is_dir():
        raise SystemExit("fidelity: build first (npm run build), or pass --url")
    token = secrets.token_hex(16)
    env = {"SWAVLAB_API_TOKENS": token, "SWAVLAB_SLOTS": str(slots), "SWAVLAB_LOG_LEVEL": "warn",
           "PYTHON_BIN": sys.executable}
    with tempfile.TemporaryDirectory(prefix="swavlab-fidelity-") as home:
        with local_service(REPO / "apps" / "cli" / "bin" / "swavlab.mjs", home, env) as url:
            yield url, token


def pct(value: float) -> str:
    return f"{100 * value:.1f}"


def stored(path: str, value: Any) -> Any:
    """A setting as the validated spec, and so a results key, holds it: crops in the structured form."""
    return parse_crops(value) if path == "swav.crops" else value


def group_for(results: dict[str, Any], path: str, value: Any) -> dict[str, Any] | None:
    return next((group for group in results["groups"] if group["key"][path] == stored(path, value)), None)


def judge(claim: Claim, results: dict[str, Any]) -> list[str]:
    """The report lines of one claim, from the grid's results."""
    better, worse = group_for(results, claim.path, claim.better), group_for(results, claim.path, claim.worse)
    lines = [f"{claim.title} ({claim.source})", f"  paper:      {claim.paper}"]
    if better is None or worse is None or better["n"] < 2 or worse["n"] < 2:
        return [*lines, "  miniature:  too few succeeded runs to test (see the grid's runs)"]
    for value, group in ((claim.better, better), (claim.worse, worse)):
        ci = group["ci95"]
        lines.append(f"  {str(value):<28}k-NN {pct(group['mean'])} ± {pct(group['std'])} "
                     f"(95 % CI {pct(ci['low'])}–{pct(ci['high'])}, n {group['n']})")
    # The API tests the other group against the best one: its difference is (other − best).
    tested = worse if better["best"] else better
    test = tested["test"]
    sign = -1 if better["best"] else 1
    effect = sign * test["difference"]
    low, high = sorted(sign * test["difference_ci95"][end] for end in ("low", "high"))
    significant = test["p_value"] < ALPHA
    lines.append(f"  effect:     {100 * effect:+.1f} points (95 % CI {100 * low:+.1f} to {100 * high:+.1f}), "
                 f"p = {test['p_value']:.3g} (Welch, two-sided)")
    resolvable = results["resolution"]["min_resolvable_difference"]
    if resolvable is not None:
        lines.append(f"  resolution: these seeds resolve differences of {100 * resolvable:.1f} points or more "
                     "(α 0.05, power 0.8)")
    if claim.flat:
        verdict = ("agrees: no significant difference" if not significant
                   else "disagrees: a significant difference where the paper finds none")
    elif effect > 0:
        verdict = "agrees: significant" if significant else "agrees in direction, not significant"
    else:
        verdict = "disagrees: significant" if significant else "opposite direction, not significant"
    lines.append(f"  verdict:    {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument("--token", help="its token with the submit scope (default: SWAVLAB_TOKEN)")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per cell (default 4)")
    parser.add_argument("--epochs", type=int, default=24, help="epochs per run (default 24: 288 steps)")
    parser.add_argument("--slots", type=int, default=2, help="CPU slots of the service it starts (default 2)")
    parser.add_argument("--only", type=int, action="append", metavar="N", choices=range(1, len(CLAIMS) + 1),
                        help="run only claim N (1-6, in the report's order); repeatable")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds: at least 2, or no test is possible")
    started = time.monotonic()
    claims = [(i, claim) for i, claim in enumerate(CLAIMS) if not args.only or i + 1 in args.only]
    if args.url:
        report(Client(args.url, args.token), claims, args.seeds, args.epochs)
    else:
        with started_service(args.slots) as (url, token):
            print(f"service: {url} (started by the bench, {args.slots} slots)", flush=True)
            report(Client(url, token), claims, args.seeds, args.epochs)
    print(f"\nwall time {(time.monotonic() - started) / 60:.1f} min", flush=True)


def report(client: Client, claims: list[tuple[int, Claim]], seeds: int, epochs: int) -> None:
    runs = len(claims) * 2 * seeds
    print(f"fidelity: {len(claims)} claims, {runs} runs ({seeds} seeds per cell, {epochs} epochs each)", flush=True)
    grids = [client.submit_grid(grid_for(i, claim, seeds, epochs)) for i, claim in claims]
    for grid in grids:
        for warning in grid.get("warnings", []):
            print(f"  warning ({grid['name']}, {warning['cells']} cells): {warning['message']}", flush=True)
        client.wait_grid(grid["id"])
    print(f"\n{METRIC} on the held-out images (%), mean ± std over seeds; effects in points\n", flush=True)
    verdicts = []
    for (_, claim), grid in zip(claims, grids):
        lines = judge(claim, client.results(grid["id"], metric=METRIC, group_by=[claim.path]))
        verdicts.append(lines[-1])
        print("\n".join(lines) + "\n", flush=True)
    agree = sum("agrees" in verdict for verdict in verdicts)
    significant = sum("agrees: significant" in verdict for verdict in verdicts)
    print(f"{agree} of {len(claims)} claims agree with the paper in direction at this scale, {significant} of them "
          "with a significant difference", flush=True)


if __name__ == "__main__":
    main()
