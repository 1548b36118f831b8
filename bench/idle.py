"""(l) What an app nobody is using costs: CPU per second of an idle in-process app with
Gradio's own queue polling (every 1 ms; progress every 10 ms) against this app's
(`webui.gradio_speed.quiet_queue`: 10 ms and 50 ms).

    python bench/idle.py [--rounds 6] [--seconds 2]

One app, no page open, no requests; the two pollings alternate round by round on the same
app (the queue's two intervals are set each round), so other work on the machine affects
both alike. CPU is this process's (`resource.getrusage`): server, queue and demo backend.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from rig import paired_ratio, print_table, summary  # noqa: E402

from tests.support.apps import serve_app  # noqa: E402
from webui.gradio_speed import IDLE_POLL, PROGRESS_POLL  # noqa: E402

GRADIO_POLLING = (0.001, 0.01)  # Gradio 6.31 on Linux: Queue.sleep_when_free, progress_update_sleep_when_free


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="idle spells each way (default 6)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one spell (default 2)")
    args = parser.parse_args(argv)
    app = serve_app(Path(tempfile.mkdtemp(prefix="idle-")))
    queue = app.app.blocks._queue
    ways = {"gradio": GRADIO_POLLING, "ours": (queue.sleep_when_free, queue.progress_update_sleep_when_free)}
    runs: dict[str, list[float]] = {"gradio": [], "ours": []}
    try:
        for n in range(args.rounds):
            for name in ("gradio", "ours")[:: 1 if n % 2 else -1]:
                queue.sleep_when_free, queue.progress_update_sleep_when_free = ways[name]
                time.sleep(0.2)  # the loops pick the new intervals up
                before = cpu_seconds()
                time.sleep(args.seconds)
                runs[name].append((cpu_seconds() - before) / args.seconds)  # CPU-seconds per second
    finally:
        app.stop()
    print_table(f"(l) an idle app, {args.rounds} spells of {args.seconds:g} s; CPU-ms per second idle (shown as ms)", [
        {"name": "Gradio's polling (baseline)", "stats": summary(runs["gradio"]), "ratio": 1.0,
         "note": f"every {GRADIO_POLLING[0] * 1000:g} ms"},
        {"name": "quiet_queue", "stats": summary(runs["ours"]), "ratio": paired_ratio(runs["ours"], runs["gradio"]),
         "note": f"every {IDLE_POLL * 1000:g} ms, progress every {PROGRESS_POLL * 1000:g} ms"},
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
