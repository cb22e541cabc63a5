"""Command line: ``python -m swavlab train|evaluate|export`` — the same runs without the service.

Exit codes of ``train``: 0 succeeded, 1 failed or diverged, 2 invalid spec (the message names the
field), 130 stopped by SIGINT/SIGUSR1 after writing a checkpoint. ``evaluate``: 0, 1 crashed, 2 invalid
spec or checkpoint.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from .cpu_memory import keep_freed_memory
from .events import metric_points
from .spec import SpecError
from .stop import install_stop_signal
from .train import train

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_SPEC = 2
EXIT_INTERRUPTED = 130
_HUMAN_PROGRESS_SECONDS = 5.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m swavlab", description="SwAV pretraining (swavlab trainer)")
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="run one pretraining run from a JSON spec")
    train_cmd.add_argument("--spec", required=True, help="experiment spec (JSON file)")
    train_cmd.add_argument("--resume", help="checkpoint to continue from")
    train_cmd.add_argument("--out", help="run directory for checkpoints (default ./.swavlab/runs/<spec hash>)")
    train_cmd.add_argument("--json", action="store_true", help="print events and the result as JSON lines")
    evaluate_cmd = commands.add_parser("evaluate", help="evaluate a checkpoint written by train as a spec's eval asks")
    evaluate_cmd.add_argument("--spec", required=True, help="the run's spec (JSON file) with the eval section to run")
    evaluate_cmd.add_argument("--checkpoint", required=True, help="checkpoint written by train")
    evaluate_cmd.add_argument("--json", action="store_true", help="print events and the result as JSON lines")
    export_cmd = commands.add_parser("export", help="write a checkpoint's weights for use elsewhere")
    export_cmd.add_argument("--checkpoint", required=True, help="checkpoint written by train")
    export_cmd.add_argument("--out", required=True, help="output file")
    export_cmd.add_argument(
        "--format",
        choices=("torchvision", "official"),
        default="torchvision",
        help="torchvision: the backbone as a torchvision state dict; official: the whole model in the "
        "authors' release format (model.init_from reads it)",
    )
    return parser


def _format_values(values: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        return "nan" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    return " ".join(f"{k}={fmt(v)}" for k, v in values.items())


def human_line(event: dict[str, Any]) -> str:
    """One readable line for an event."""
    kind = event["type"]
    where = f"epoch {event.get('epoch')} step {event.get('step')}"
    if kind == "status":
        return f"status: {event['status']}"
    if kind == "progress":
        eta = event["eta_seconds"]
        eta_text = "?" if eta is None else time.strftime("%H:%M:%S", time.gmtime(eta))
        return f"progress: {where}/{event['total_steps']} eta {eta_text}"
    if kind == "metrics":
        return f"metrics: {where} {_format_values(event['values'])}"
    if kind == "eval":
        return f"eval: {where} {_format_values(event['values'])}"
    if kind == "eval_progress":
        return f"{event['evaluation']}: epoch {event['epoch']}/{event['epochs']} {_format_values(event['values'])}"
    if kind == "checkpoint":
        return f"checkpoint: {event['path']} ({event['bytes']} bytes, sha256 {event['sha256'][:12]})"
    if kind == "artifact":
        return f"{event['name']}: {event['path']} ({event['bytes']} bytes, sha256 {event['sha256'][:12]})"
    if kind == "collapse_warning":
        return f"WARNING: {event['message']}; try: " + "; ".join(event["advice"])
    if kind == "diverged":
        return f"DIVERGED: {where}: {event['message']}"
    return json.dumps(event)


def _printer(as_json: bool, out: TextIO) -> Callable[[dict[str, Any]], None]:
    last_progress = -float("inf")

    def print_event(event: dict[str, Any]) -> None:
        nonlocal last_progress
        if as_json:
            print(json.dumps(event, allow_nan=False), file=out, flush=True)
            return
        if event["type"] == "progress":
            now = time.monotonic()
            if now - last_progress < _HUMAN_PROGRESS_SECONDS:
                return
            last_progress = now
        for line in [human_line(point) for point in metric_points(event)] or [human_line(event)]:
            print(line, file=out, flush=True)

    return print_event


def _load_spec_file(path: str) -> dict[str, Any]:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise SpecError([{"path": "", "message": f"cannot read spec file {path}: {error.strerror}"}]) from error
    except json.JSONDecodeError as error:
        raise SpecError([{"path": "", "message": f"{path} is not valid JSON: {error}"}]) from error
    if not isinstance(spec, dict):
        raise SpecError([{"path": "", "message": f"{path} must contain a JSON object"}])
    return spec


def _exit_code(status: str) -> int:
    return {"succeeded": EXIT_OK, "canceled": EXIT_INTERRUPTED}.get(status, EXIT_FAILED)


def _train_command(args: argparse.Namespace) -> int:
    install_stop_signal(signal.SIGINT)
    install_stop_signal(signal.SIGUSR1)
    print_event = _printer(args.json, sys.stdout)
    keep_freed_memory()  # this process only trains: keep its large blocks (swavlab.cpu_memory)
    try:
        result = train(_load_spec_file(args.spec), on_event=print_event, out_dir=args.out, resume_from=args.resume)
    except SpecError as error:
        print(f"invalid spec:\n{error}", file=sys.stderr)
        return EXIT_SPEC
    except Exception:  # noqa: BLE001 - a CLI reports the traceback and exits non-zero
        traceback.print_exc()
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"type": "result", **result}, allow_nan=False), flush=True)
    else:
        checkpoint = result["last_checkpoint"]
        print(f"result: {result['status']} after {result['epochs_completed']} epochs, {result['steps']} steps")
        if checkpoint is not None:
            print(f"last checkpoint: {checkpoint['path']}")
        if result["backbone"] is not None:
            print(f"backbone: {result['backbone']['path']}")
        if result["error"] is not None:
            print(f"error: {result['error']['message']}", file=sys.stderr)
    return _exit_code(result["status"])


def _evaluate_command(args: argparse.Namespace) -> int:
    from .checkpoint_eval import evaluate_checkpoint  # torchvision: loaded only for this command

    print_event = _printer(args.json, sys.stdout)
    try:
        result = evaluate_checkpoint(_load_spec_file(args.spec), args.checkpoint, print_event, field="--checkpoint")
    except SpecError as error:
        print(f"invalid spec or checkpoint:\n{error}", file=sys.stderr)
        return EXIT_SPEC
    except Exception:  # noqa: BLE001 - a CLI reports the traceback and exits non-zero
        traceback.print_exc()
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"type": "result", **result}, allow_nan=False), flush=True)
    else:
        print(f"result: {result['status']} at epoch {result['epoch']}, step {result['step']}: "
              f"{_format_values(result['evals'])}")
    return EXIT_OK


def _export_command(args: argparse.Namespace) -> int:
    from .export import export_backbone, export_release  # torchvision: loaded only for this command

    export = export_release if args.format == "official" else export_backbone
    try:
        path = export(args.checkpoint, args.out)
    except (OSError, ValueError, KeyError) as error:
        print(f"export failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{'model' if args.format == 'official' else 'backbone'} written to {path} ({args.format} format)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "train":
        return _train_command(args)
    if args.command == "evaluate":
        return _evaluate_command(args)
    return _export_command(args)


if __name__ == "__main__":
    sys.exit(main())
