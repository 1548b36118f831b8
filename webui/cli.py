"""Command-line subcommands: `python launch.py generate|usage|adduser|deluser …`.

`generate` makes images from a script through the same validation, service and
storage as the page; `usage` prints the per-user, per-model usage table.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Any, Sequence, TextIO

from . import accounts
from .config import ConfigError, Settings, load_settings
from .core import open_core, open_storage
from .errors import InvalidInputError, render
from .generator import DEFAULT_MODEL, DEFAULT_SIZE, IMAGE_SIZES, batch_params, validate
from .quota import Quota

COMMANDS = ("generate", "usage", *accounts.COMMANDS)
MAX_CLI_COUNT = 1000


def main(argv: Sequence[str]) -> int:
    """Run the subcommand named by argv[0]; returns the exit code."""
    command, rest = argv[0], list(argv[1:])
    if command in accounts.COMMANDS:
        return accounts.cli([command, *rest])
    try:
        return usage(rest) if command == "usage" else generate(rest)
    except ConfigError as exc:  # e.g. an --outputs folder that cannot be used
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outputs", default="outputs", metavar="DIR", help="outputs folder (default ./outputs)")


def _settings(args: argparse.Namespace, extra: list[str]) -> Settings:
    return load_settings(["--outputs", args.outputs, *extra])


# --------------------------------------------------------------------------- generate


def generate(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(prog="python launch.py generate", description="Generate and save images.")
    parser.add_argument("prompt", help="what the picture should show")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model name (default {DEFAULT_MODEL})")
    parser.add_argument("--size", default=DEFAULT_SIZE, choices=IMAGE_SIZES, help=f"image size (default {DEFAULT_SIZE})")
    parser.add_argument("--enhance", action="store_true", help="turn on prompt enhancement")
    parser.add_argument("--seed", default="-1", help="0-9999999999, or -1 for random (default)")
    parser.add_argument("--count", type=int, default=1,
                        help=f"how many images (1-{MAX_CLI_COUNT}): seeds seed, seed+1, … (default 1)")
    parser.add_argument("--random-seeds", action="store_true", help="a new random seed for each image")
    parser.add_argument("--demo", action="store_true", help="use the offline demo backend")
    parser.add_argument("--timeout", default="120", help="seconds for one API call (default 120)")
    parser.add_argument("--concurrency", default="4", help="images in flight at once (default 4)")
    _common(parser)
    args = parser.parse_args(argv)
    try:
        settings = _settings(args, ["--timeout", args.timeout, "--concurrency", args.concurrency]
                             + (["--demo"] if args.demo else []))
        params = validate(args.prompt, args.model, args.size, args.enhance, args.seed)
        jobs = batch_params(params, args.count, args.random_seeds, limit=MAX_CLI_COUNT)
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except InvalidInputError as exc:
        print(f"error: {render(exc)}", file=err)
        return 2
    core = open_core(settings)
    if core.demo_mode:
        print("Demo mode: pictures come from the built-in offline backend (no API key set).", file=err)
    failed = 0
    try:
        bar = Progress(len(jobs), err)
        for _, outcome in core.generator.generate_many(jobs):
            if isinstance(outcome, dict):
                print(core.storage.path_of(outcome), file=out, flush=True)
            else:
                failed += 1
                print(f"error: {render(outcome)}", file=err)
            bar.step()
    finally:
        core.close()
    return 1 if failed else 0


class Progress:
    """A one-line progress bar on a terminal, one line per step otherwise."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.stream, self.width, self.done = total, stream, width, 0
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def step(self) -> None:
        self.done += 1
        filled = self.width * self.done // self.total
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
        if self.tty:
            end = "\n" if self.done == self.total else ""
            print(f"\r{line}", end=end, file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)


# --------------------------------------------------------------------------- usage


def usage(argv: Sequence[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python launch.py usage",
                                     description="Images per user per day and per model, last N days.")
    parser.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    _common(parser)
    args = parser.parse_args(argv)
    settings = load_settings(["--outputs", args.outputs])
    storage = open_storage(settings.outputs)
    try:
        rows = Quota(storage.index).usage(days=args.days)
    finally:
        storage.close()
    print(format_usage(rows), file=out)
    return 0


def format_usage(rows: list[dict[str, Any]]) -> str:
    """A plain-text table; the same rows the admin's Usage tab shows."""
    header = ("day", "user", "model", "images", "avg inference ms")
    body = [
        (r["day"], r.get("user") or "-", r["model"], str(r["images"]),
         "-" if r.get("avg_inference_ms") is None else f"{r['avg_inference_ms']:.0f}")
        for r in rows
    ]
    if not body:
        return f"No images in the last period (as of {datetime.now(timezone.utc):%Y-%m-%d})."
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)
