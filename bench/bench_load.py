"""(c) Load: 50 generations at once against our app (see bench/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rig import (  # noqa: E402
    SIZE,
    AppSpec,
    count_pngs,
    history_rows,
    measured_burst,
    print_checks,
    print_table,
    running,
    summary,
)

LOAD_CALLS = 50  # (c) generations submitted at once
LOAD_DELAY = 0.5  # (c) seconds the fake API takes per generation
LOAD_CONCURRENCY = 4  # (c) our app's --concurrency

# --------------------------------------------------------------------------- (c) load


def bench_load(calls: int, workdir: Path, cold_fake: bool) -> dict[str, Any]:
    """`calls` generations submitted at once to our app (--concurrency 4), fake delay 0.5 s."""
    spec = AppSpec("ours", "ours", LOAD_CONCURRENCY)
    seeds = list(range(calls))
    # The fake keeps 32 rendered pictures; all `calls` pre-rendered ones must stay in its cache.
    with running(workdir, "load-", [spec]) as r:
        r.backend.render_cache_entries = max(r.backend.render_cache_entries, calls + 8)
        app = r.apps["ours"]
        rows_before = history_rows(app.url)  # fresh outputs folder; also warms the API + SSE path
        res = measured_burst(r, app.url, seeds, LOAD_DELAY, cold_fake)
        res["pngs"] = count_pngs(r.outputs("ours"))
        res["history_rows"] = history_rows(app.url)
    per_call = res.pop("per_call")
    res.update({
        "concurrency": LOAD_CONCURRENCY,
        "delay_s": LOAD_DELAY,
        "cold_fake": cold_fake,
        "history_rows_before": rows_before,
        "ideal_wall_s": calls * LOAD_DELAY / LOAD_CONCURRENCY,
        "per_call": summary(per_call) if per_call else None,
    })
    return res


def report_load(res: dict[str, Any]) -> None:
    """Print (c) and keep the printed tables in res["table"] / res["checks"]."""
    n, c, d = res["submitted"], res["concurrency"], res["delay_s"]
    ideal, wall = res["ideal_wall_s"], res["wall"]
    rows = [
        {"name": "ideal (baseline)", "stats": {"median_ms": ideal * 1000}, "ratio": 1.0,
         "note": f"{n} x {d:g} s / {c} slots = {ideal:.2f} s (in whole waves: {-(-n // c)} x {d:g} s = "
                 f"{-(-n // c) * d:g} s): the fake's delay, nothing else"},
        {"name": f"wall, {n} submitted at once", "stats": {"median_ms": wall * 1000}, "ratio": wall / ideal,
         "note": "first POST call/generate sent -> last 'event: complete' seen"},
        {"name": "  submit spread", "stats": {"median_ms": res["submit_spread"] * 1000},
         "note": f"first POST sent -> last of the {n} POSTs answered with an event_id"},
    ]
    if res["per_call"]:
        rows.append({"name": "  per call: submit -> complete", "stats": res["per_call"],
                     "note": "each caller's wait: queue + API delay + save (grows with queue position)"})
    fake = "pre-rendered pictures" if not res["cold_fake"] else "renders inside the calls (--cold-fake)"
    res["table"] = print_table(
        f"(c) Load: {n} /generate submitted at once to our app (--concurrency {c}), fake API delay "
        f"{d:g} s per generation, {SIZE}, {fake}", rows)
    res["checks"] = print_checks([
        {"name": "succeeded", "measured": res["succeeded"], "expected": n,
         "note": "'event: complete' with the saved PNG"},
        {"name": "errored (with a message)", "measured": res["errored"], "expected": 0,
         "note": "; ".join(res["errors"]) or "'event: error' carrying the app's message"},
        {"name": "lost", "measured": res["lost"], "expected": 0,
         "note": "submitted - (succeeded + errored with a message): must be 0"},
        {"name": "max_in_flight at the fake", "measured": res["max_in_flight"], "expected": c,
         "note": f"most generation requests the fake saw at once (= --concurrency {c})"},
        {"name": "generation requests at the fake", "measured": res["generation_requests"], "expected": n,
         "note": "one API call per submission, no retries"},
        {"name": "PNG files in outputs/", "measured": res["pngs"], "expected": n,
         "note": f"saved pictures (history before the burst: {res['history_rows_before']} rows)"},
        {"name": "rows in history", "measured": res["history_rows"], "expected": n,
         "note": "POST call/history ['', 0, 500] over the app's API"},
    ])
    for reason in res["lost_reasons"][:5]:
        print(f"    lost: {reason}")
    print(f"  wall {wall:.2f} s vs ideal {ideal:.2f} s ({n} x {d:g} s / {c}): "
          f"{wall - ideal:+.2f} s of overhead ({wall / ideal:.2f}x)")
