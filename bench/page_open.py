"""(k) What opening the app in a browser costs the test suite: a new browser context per page
(as the browser tests did) against a warm page wiped and navigated afresh (`open_page` now).

    python bench/page_open.py [--rounds 8]

Both ways open the same in-process demo app in the same headless Chromium, interleaved round
by round, until the page is ready for input (tests/browser.py: wait_until_ready). It prints
wall time and CPU time per page; CPU is the whole machine's busy time (/proc/stat), because
most of it is spent in Chromium's own processes, so run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from rig import paired_ratio, print_table, summary  # noqa: E402

from tests.browser import launch_chromium, wait_until_ready  # noqa: E402
from tests.support.apps import serve_app  # noqa: E402

WIPE = "() => { localStorage.clear(); sessionStorage.clear(); }"


def machine_busy_seconds() -> float:
    """CPU-seconds the whole machine has spent busy since boot (every core, every process)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields) - idle - iowait) / 100  # USER_HZ is 100 on Linux


def timed(open_once) -> tuple[float, float]:
    """(wall seconds, machine CPU-seconds) of one page open."""
    cpu, wall = machine_busy_seconds(), time.perf_counter()
    open_once()
    return time.perf_counter() - wall, machine_busy_seconds() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8, help="pages opened each way (default 8)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    app = serve_app(Path(tempfile.mkdtemp(prefix="page-open-")))
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            warm_context = browser.new_context(locale="en-US")
            warm = warm_context.new_page()

            def new_context() -> None:
                context = browser.new_context(locale="en-US")
                page = context.new_page()
                page.goto(app.url)
                wait_until_ready(page)
                context.close()

            def warm_page() -> None:
                warm.goto(app.url)
                wait_until_ready(warm)
                warm.evaluate(WIPE)
                warm_context.clear_cookies()
                warm.goto("about:blank")

            new_context(), warm_page()  # both paths once before measuring (the app's first page)
            runs: dict[str, list[tuple[float, float]]] = {"new": [], "warm": []}
            for n in range(args.rounds):
                order = [("new", new_context), ("warm", warm_page)][:: 1 if n % 2 else -1]
                for name, open_once in order:
                    runs[name].append(timed(open_once))
            browser.close()
    finally:
        app.stop()
    wall = {k: [w for w, _ in v] for k, v in runs.items()}
    cpu = {k: [c for _, c in v] for k, v in runs.items()}
    print_table(f"(k) opening the app in a page, {args.rounds} rounds; wall time", [
        {"name": "new browser context (baseline)", "stats": summary(wall["new"]), "ratio": 1.0,
         "note": "what each browser test paid before"},
        {"name": "warm page, wiped", "stats": summary(wall["warm"]),
         "ratio": paired_ratio(wall["warm"], wall["new"]), "note": "open_page now"},
    ])
    print_table("    the same; machine CPU time per page (shown as ms)", [
        {"name": "new browser context (baseline)", "stats": summary(cpu["new"]), "ratio": 1.0, "note": ""},
        {"name": "warm page, wiped", "stats": summary(cpu["warm"]),
         "ratio": paired_ratio(cpu["warm"], cpu["new"]), "note": ""},
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
