"""(d) 8 at once: a burst against our app and the naive one (see bench/README.md)."""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import LOAD_CONCURRENCY  # noqa: E402
from rig import (  # noqa: E402
    SIZE,
    AppSpec,
    call_generate,
    generate_data,
    measured_burst,
    new_session,
    prepare_fake,
    print_table,
    running,
    summary,
)

BURST_CALLS = 8  # (d) generations submitted at once
BURST_DELAY = 1.0  # (d) seconds the fake API takes per generation
BURST_CONCURRENCY = 8  # (d) our app's --concurrency for the target row: all 8 in flight
BURST_TARGET_S = 1.6  # (d) ours, median wall seconds

# --------------------------------------------------------------------------- (d) 8 at once


def bench_concurrent(reps: int, workdir: Path, cold_fake: bool) -> dict[str, Any]:
    """8 generations submitted at once, fake delay 1.0 s: ours at --concurrency 8, ours at the
    default 4, and the naive app; `reps` rounds, the three interleaved with rotating order."""
    specs = [AppSpec("ours8", "ours", BURST_CONCURRENCY), AppSpec("ours4", "ours"), AppSpec("naive", "naive")]
    names = [spec.name for spec in specs]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with running(workdir, "concurrent-", specs) as r:
        seeds = iter(range(secrets.randbelow(10**9), 10**10))
        warm = [next(seeds) for _ in names]
        prepare_fake(r, warm, 0.0, cold_fake)
        with new_session() as session:
            for name, seed in zip(names, warm):  # first call of each app: imports, first save
                call_generate(session, r.apps[name].url, generate_data(seed))
        for rep in range(reps):
            rep_seeds = [next(seeds) for _ in range(BURST_CALLS)]  # the same 8 pictures for each app
            k = rep % len(names)
            for name in names[k:] + names[:k]:
                res = measured_burst(r, r.apps[name].url, rep_seeds, BURST_DELAY, cold_fake)
                res.pop("per_call")
                runs[name].append(res)
                time.sleep(0.1)
    out: dict[str, Any] = {"calls": BURST_CALLS, "delay_s": BURST_DELAY, "reps": reps, "cold_fake": cold_fake,
                           "target_s": BURST_TARGET_S, "apps": {}}
    for spec in specs:
        rs = runs[spec.name]
        out["apps"][spec.name] = {
            "label": spec.label,
            "concurrency": 1 if spec.kind == "naive" else (spec.concurrency or LOAD_CONCURRENCY),
            "walls_s": [x["wall"] for x in rs],
            "wall": summary([x["wall"] for x in rs]),
            "max_in_flight": [x["max_in_flight"] for x in rs],
            "generation_requests": [x["generation_requests"] for x in rs],
            "succeeded": sum(x["succeeded"] for x in rs),
            "errored": sum(x["errored"] for x in rs),
            "errors": sorted({e for x in rs for e in x["errors"]}),
            "lost": sum(x["lost"] for x in rs),
            "lost_reasons": [reason for x in rs for reason in x["lost_reasons"]],
            "runs": rs,
        }
    med = {name: out["apps"][name]["wall"]["median_ms"] for name in names}
    out["ratio_ours8_vs_naive"] = med["ours8"] / med["naive"]
    out["ratio_ours4_vs_naive"] = med["ours4"] / med["naive"]
    out["target_met"] = med["ours8"] / 1000 <= BURST_TARGET_S
    return out


def report_concurrent(res: dict[str, Any]) -> None:
    """Print (d) and keep the printed table in res["table"]."""
    n, d, a = res["calls"], res["delay_s"], res["apps"]

    def note(name: str) -> str:
        x = a[name]
        c = x["concurrency"]
        waves = -(-n // c)
        mif = sorted(set(x["max_in_flight"]))
        total = n * res["reps"]
        return (f"{x['label']}: ideal {waves} x {d:g} s = {waves * d:g} s; max_in_flight "
                f"{'/'.join(map(str, mif))}; {x['succeeded']}/{total} ok, {x['errored']} errored, {x['lost']} lost")

    rows = [
        {"name": "naive app (baseline)", "stats": a["naive"]["wall"], "ratio": 1.0, "note": note("naive")},
        {"name": "ours --concurrency 4 (default)", "stats": a["ours4"]["wall"],
         "ratio": res["ratio_ours4_vs_naive"], "note": note("ours4")},
        {"name": f"ours --concurrency {BURST_CONCURRENCY}", "stats": a["ours8"]["wall"],
         "ratio": res["ratio_ours8_vs_naive"], "target": f"<={res['target_s']:g}s",
         "verdict": "met" if res["target_met"] else "MISSED", "note": note("ours8")},
    ]
    res["table"] = print_table(
        f"(d) {n} /generate submitted at once, fake API delay {d:g} s, {SIZE}: wall first POST -> last "
        f"'complete', median of {res['reps']} interleaved rounds per app (ratio = wall / naive wall)", rows)
    o8, nv = a["ours8"]["wall"]["median_ms"] / 1000, a["naive"]["wall"]["median_ms"] / 1000
    print(f"  ours (--concurrency {BURST_CONCURRENCY}) {o8:.2f} s vs naive {nv:.2f} s: {nv / o8:.1f}x faster; "
          f"target ours <= {res['target_s']:g} s wall: {'met' if res['target_met'] else 'MISSED'}")
    print(f"  Ours is launched with --concurrency {BURST_CONCURRENCY} for the target row: at the default 4 the "
          f"{n} calls go in two waves of {d:g} s (the middle row).")
    for name in ("ours8", "ours4", "naive"):
        for err in a[name]["errors"]:
            print(f"    {name} error: {err}")
        for reason in a[name]["lost_reasons"][:3]:
            print(f"    {name} lost: {reason}")
