"""Benchmarks: saving an image, `/generate` end to end against a naive app, 50 at once, 8 at once,
history at 10,000 images, hostile metadata.

    python bench/run.py            # full run (about four minutes)
    python bench/run.py --quick    # fewer repetitions
    python bench/run.py --only save|generate|load|concurrent|history|infotext

Prints a table per benchmark (median, p90, ratio against the baseline, target) and
writes the same figures to bench/results/latest.json. Both sides of every comparison
are measured interleaved in one run, so machine noise hits them alike. These are
measurements, not tests: nothing here asserts. Each benchmark is its own file
(bench_*.py); what they share (statistics, tables, the apps they launch) is rig.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import save_steps  # noqa: E402  (bench/save_steps.py: (a)'s step breakdown)
from bench_concurrent import bench_concurrent, report_concurrent  # noqa: E402
from bench_generate import bench_generate, profile_generate, report_generate  # noqa: E402
from bench_history import bench_history, report_history  # noqa: E402
from bench_infotext import bench_infotext, report_infotext  # noqa: E402
from bench_load import LOAD_CALLS, bench_load, report_load  # noqa: E402
from bench_save import bench_save, report_save  # noqa: E402
from rig import RESULTS, ROOT, sample_fields, sample_png  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a rough look)")
    parser.add_argument("--only", choices=("save", "generate", "load", "concurrent", "history", "infotext"), help="run one benchmark")
    parser.add_argument("--save-reps", type=int, help="interleaved repetitions for (a) (default 200, quick 40)")
    parser.add_argument("--calls", type=int, help="timed /generate calls per app (default 30, quick 8)")
    parser.add_argument("--load-calls", type=int, help=f"generations submitted at once in (c) (default {LOAD_CALLS})")
    parser.add_argument("--reps", type=int, help="interleaved rounds per app in (d) (default 3, quick 1)")
    parser.add_argument("--cold-fake", action="store_true",
                        help="don't pre-render pictures in the fake: its render time lands in the timed calls")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the in-process breakdowns (/generate, Storage.open)")
    parser.add_argument("--history-calls", type=int,
                        help="timed /history calls per row in (e) (default 40, quick 10)")
    parser.add_argument("--startup-runs", type=int, help="start-ups per case in (e) (default 5, quick 2)")
    args = parser.parse_args(argv)
    save_reps = args.save_reps or (40 if args.quick else 200)
    calls = args.calls or (8 if args.quick else 30)
    warmup = 2 if args.quick else 4
    load_calls = args.load_calls or LOAD_CALLS
    reps = args.reps or (1 if args.quick else 3)
    history_calls = args.history_calls or (10 if args.quick else 40)
    startup_runs = args.startup_runs or (2 if args.quick else 5)

    results: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        import gradio
        results["gradio"] = gradio.__version__
    except ImportError:
        pass

    # Scratch space on the repo's filesystem, inside the git-ignored results folder so an
    # interrupted run leaves nothing git would see; removed at the end.
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tmp-", dir=RESULTS))
    try:
        if args.only in (None, "save"):
            results["save"] = bench_save(save_reps, workdir)
            report_save(results["save"])
            results["save"]["steps"] = save_steps.profile_save(sample_png(), sample_fields, save_reps, workdir)
            save_steps.report(results["save"]["steps"])
        if args.only in (None, "generate"):
            results["generate"] = bench_generate(calls, warmup, workdir, args.cold_fake)
            if not args.no_profile:
                results["generate"]["profile"] = profile_generate(5 if args.quick else 15, workdir)
            report_generate(results["generate"], results["generate"].get("profile"))
        if args.only in (None, "load"):
            results["load"] = bench_load(load_calls, workdir, args.cold_fake)
            report_load(results["load"])
        if args.only in (None, "concurrent"):
            results["concurrent"] = bench_concurrent(reps, workdir, args.cold_fake)
            report_concurrent(results["concurrent"])
        if args.only in (None, "history"):
            results["history"] = bench_history(history_calls, warmup + 1, startup_runs,
                                               0 if args.no_profile else (1 if args.quick else 3), workdir)
            report_history(results["history"])
        if args.only in (None, "infotext"):
            results["infotext"] = bench_infotext(2 if args.quick else 5)
            report_infotext(results["infotext"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    out = RESULTS / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nWrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
