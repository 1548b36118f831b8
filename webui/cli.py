"""The command line: one parser for the web UI's flags and every subcommand.

`python launch.py [flags]` serves the page (its flags come from `config.OPTIONS`);
`generate` makes images from a script through the same validation, service and
storage as the page; `usage` prints the per-user, per-model usage table; `adduser`
and `deluser` (declared by `accounts`) manage the accounts file. Each has `--help`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from . import accounts, tokens
from .config import ConfigError, add_options, option_parser, settings_from
from .errors import InvalidInputError, render
from .generator import DEFAULT_MODEL, DEFAULT_SIZE, IMAGE_SIZES, RANDOM_SEED, batch_params, validate
from .quota import USAGE_DAYS, Quota
from .service import MAX_SEED

MAX_CLI_COUNT = 1000


def build_parser() -> argparse.ArgumentParser:
    """The one parser: the web UI's flags, then a subparser per command (each knows how to run)."""
    parser = option_parser()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     title="subcommands (python launch.py COMMAND --help)")
    gen = commands.add_parser("generate", help="generate and save images from the command line",
                              description="Generate and save images.")
    gen.add_argument("prompt", help="what the picture should show")
    gen.add_argument("--model", default=DEFAULT_MODEL, help=f"model name (default {DEFAULT_MODEL})")
    gen.add_argument("--size", default=DEFAULT_SIZE, choices=IMAGE_SIZES, help=f"image size (default {DEFAULT_SIZE})")
    gen.add_argument("--enhance", action="store_true", help="turn on prompt enhancement")
    gen.add_argument("--seed", default=RANDOM_SEED,  # a string from the shell: validate() says what is wrong
                     help=f"0-{MAX_SEED}, or {RANDOM_SEED} for random (default)")
    gen.add_argument("--count", type=int, default=1,
                     help=f"how many images (1-{MAX_CLI_COUNT}): seeds seed, seed+1, … (default 1)")
    gen.add_argument("--random-seeds", action="store_true", help="a new random seed for each image")
    add_options(gen, ("outputs", "demo", "timeout", "concurrency"))  # declared once, in config.OPTIONS
    gen.set_defaults(run=generate)
    use = commands.add_parser("usage", help="images per user per day and per model",
                              description="Images per user per day and per model, last N days.")
    use.add_argument("--days", type=int, default=USAGE_DAYS, help=f"how many days back (default {USAGE_DAYS})")
    add_options(use, ("outputs",))
    use.set_defaults(run=usage)
    accounts.add_commands(commands)
    tokens.add_command(commands)
    return parser


def main(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Parse `argv` and run its subcommand; returns the exit code (2 for a bad command line).

    Only for subcommands: the web UI itself is started by launch.py.
    """
    return run(build_parser().parse_args(argv), out, err)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the subcommand `args` was parsed for."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        return args.run(args, out, err)
    except (ConfigError, accounts.AccountsError) as exc:  # e.g. an --outputs folder that cannot be used
        print(f"error: {exc}", file=err)
        return 2


# --------------------------------------------------------------------------- generate


def generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .core import open_core  # the service and storage load only when a command needs them

    settings = settings_from(args)
    try:
        params = validate(args.prompt, args.model, args.size, args.enhance, args.seed)
        jobs = batch_params(params, args.count, args.random_seeds, limit=MAX_CLI_COUNT)
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


def usage(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .core import open_storage

    storage = open_storage(settings_from(args).outputs)
    try:  # only the counts: no limits apply to reading them, and no backend or accounts are opened
        quota = Quota(storage.index)
        rows = quota.usage(days=args.days)
    finally:
        storage.close()
    print(format_usage(rows, quota.today()), file=out)
    return 0


def format_usage(rows: list[dict[str, Any]], today: str) -> str:
    """A plain-text table; the same rows the admin's Usage tab shows, for the days ending `today`."""
    header = ("day", "user", "model", "images", "avg inference ms")
    body = [
        (r["day"], r.get("user") or "-", r["model"], str(r["images"]),
         "-" if r.get("avg_inference_ms") is None else f"{r['avg_inference_ms']:.0f}")
        for r in rows
    ]
    if not body:
        return f"No images in the last period (as of {today})."
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(lines)
