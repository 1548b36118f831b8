"""(e) History at 10,000 images: `/history` pages and start-up (see bench/README.md)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import history_10k  # noqa: E402  (bench/history_10k.py: the cached 10,000-image folder)
from rig import (  # noqa: E402
    LAUNCH,
    ROOT,
    LaunchedApp,
    base_env,
    gradio_call,
    new_session,
    paired_ratio,
    percentile,
    print_table,
    summary,
    verdict,
)

from tools.appprocess import free_port  # noqa: E402

HISTORY_TARGET_MS = 50.0  # (e) /history first page at 10,000 images, median ms
STARTUP_TARGET = 1.2  # (e) start-up with 10,000 images (index present) / with an empty folder, medians

# --------------------------------------------------------------------------- (e) history at 10,000 images


def launch_demo(name: str, home: Path, outputs: Path) -> LaunchedApp:
    """`python launch.py --port P --outputs <outputs>` in demo mode (no YUNYX_* vars), cwd `home`
    (a temp dir: no stray .env), Gradio's cache in home/gradio-cache."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [sys.executable, str(LAUNCH), "--port", str(port), "--outputs", str(outputs)]
    env = base_env({"GRADIO_TEMP_DIR": str(home / "gradio-cache")})
    return LaunchedApp(name, argv, env, home, port)


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a running process has used so far (all its threads); Linux only."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def time_startup(name: str, home: Path, outputs: Path, timeout: float = 180) -> tuple[float, float | None]:
    """(wall, cpu): seconds from just before Popen to the first GET / answered 200 (polled every
    20 ms), and the CPU seconds the app had used by then (less sensitive to a busy machine than
    the wall). Then the app is stopped (SIGTERM: it closes its storage)."""
    t0 = time.perf_counter()
    app = launch_demo(name, home, outputs)
    try:
        with new_session() as session:
            while True:
                if app.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {app.proc.returncode}:\n{app.log_tail()}")
                try:
                    if session.get(app.url, timeout=5).status_code == 200:
                        return time.perf_counter() - t0, process_cpu_s(app.proc.pid)
                except requests.RequestException:
                    pass
                if time.perf_counter() - t0 > timeout:
                    raise RuntimeError(f"{name} did not answer GET / within {timeout:g}s:\n{app.log_tail()}")
                time.sleep(0.02)
    finally:
        app.stop()


HISTORY_QUERIES = (("all", history_10k.QUERY_ALL), ("rare", history_10k.QUERY_RARE),
                   ("none", history_10k.QUERY_NONE))


def bench_history(calls: int, warmup: int, startup_runs: int, profile_reps: int, workdir: Path) -> dict[str, Any]:
    """(e): the cached 10,000-image folder; /history latency against it and against an empty
    folder; start-up time for an empty folder, the 10,000 with their index, and without it."""
    outputs, facts, built_now = history_10k.ensure_fixture()
    root = Path(tempfile.mkdtemp(prefix="history-", dir=workdir))
    res: dict[str, Any] = {"fixture": {**facts, "path": str(outputs.relative_to(ROOT)), "built_this_run": built_now},
                           "calls": calls, "warmup": warmup, "startup_runs": startup_runs,
                           "target_ms": HISTORY_TARGET_MS, "startup_target": STARTUP_TARGET}
    try:
        # -- /history latency: both apps up side by side, the 6 (app, query) pairs interleaved
        apps: dict[str, LaunchedApp] = {}
        try:
            apps["empty"] = launch_demo("history-empty", root / "latency-empty", root / "latency-empty" / "outputs")
            apps["10k"] = launch_demo("history-10k", root / "latency-10k", outputs)
            for app in apps.values():
                app.wait_ready(180)
            sessions = {name: new_session() for name in apps}
            pairs = [(a, q) for a in apps for q, _ in HISTORY_QUERIES]
            queries = dict(HISTORY_QUERIES)
            rows: dict[str, int] = {}
            times: dict[str, list[float]] = {f"{a}/{q}": [] for a, q in pairs}
            phases: dict[str, dict[str, list[float]]] = {k: {"post": [], "sse": []} for k in times}
            for i in range(warmup + calls):
                k = i % len(pairs)
                for a, q in pairs[k:] + pairs[:k]:
                    r = gradio_call(sessions[a], apps[a].url, "history", [queries[q], 0, 50], timeout=60)
                    if r["event"] != "complete" or not isinstance(r["payload"], list):
                        raise RuntimeError(f"/history on {a} with {queries[q]!r} ended with {r['event']!r}: "
                                           f"{str(r['payload'])[:300]}")
                    rows[f"{a}/{q}"] = len(r["payload"][0])
                    if i >= warmup:
                        times[f"{a}/{q}"].append(r["t_done"] - r["t0"])
                        phases[f"{a}/{q}"]["post"].append(r["t_queued"] - r["t0"])
                        phases[f"{a}/{q}"]["sse"].append(r["t_done"] - r["t_queued"])
            for session in sessions.values():
                session.close()
        finally:
            for app in apps.values():
                app.stop()
        res["latency"] = {k: {**summary(v), "rows": rows[k],
                              "post_median_ms": percentile([x * 1000 for x in phases[k]["post"]], 50),
                              "sse_median_ms": percentile([x * 1000 for x in phases[k]["sse"]], 50)}
                          for k, v in times.items()}
        res["expected_rows"] = {"empty/all": 0, "empty/rare": 0, "empty/none": 0,
                                "10k/all": 50, "10k/rare": 50, "10k/none": 0}

        # -- start-up: (i) a fresh empty folder, (ii) the 10,000 with their index, (iii) the same
        # PNGs (hard links) with the index deleted before each run; rotating order per round
        rebuild = history_10k.copy_without_index(outputs, root / "rebuild" / "outputs")
        cases = ["empty", "indexed", "rebuild"]
        starts: dict[str, list[float]] = {c: [] for c in cases}
        cpus: dict[str, list[float | None]] = {c: [] for c in cases}
        rebuilt_rows: list[int] = []
        n = 0
        for rnd in range(startup_runs):
            k = rnd % len(cases)
            for case in cases[k:] + cases[:k]:
                n += 1
                home = root / f"start-{n}-{case}"
                if case == "empty":
                    target = home / "outputs"  # does not exist yet: the app creates it
                elif case == "indexed":
                    target = outputs
                else:
                    history_10k.drop_index(rebuild)
                    target = rebuild
                wall, cpu = time_startup(f"start-{case}", home, target)
                starts[case].append(wall)
                cpus[case].append(cpu)
                if case == "rebuild":
                    rebuilt_rows.append(_index_rows(rebuild))
                shutil.rmtree(home, ignore_errors=True)
                time.sleep(0.3)
        res["startup"] = {c: {**summary(v), "runs_s": v, "cpu_runs_s": cpus[c],
                              "cpu_median_s": percentile([x for x in cpus[c] if x is not None], 50)
                              if all(x is not None for x in cpus[c]) else None}
                          for c, v in starts.items()}
        res["rebuilt_rows"] = rebuilt_rows
        base = res["startup"]["empty"]["median_ms"]
        res["startup_ratio_indexed"] = res["startup"]["indexed"]["median_ms"] / base
        res["startup_ratio_rebuild"] = res["startup"]["rebuild"]["median_ms"] / base
        res["startup_ratio_indexed_paired"] = paired_ratio(starts["indexed"], starts["empty"])
        res["startup_target_met"] = res["startup_ratio_indexed"] <= STARTUP_TARGET
        res["latency_target_met"] = res["latency"]["10k/all"]["median_ms"] <= HISTORY_TARGET_MS

        # -- in-process profile: where Storage.open() and HistoryIndex.search() spend their time
        if profile_reps:
            res["profile"] = {
                "open_indexed_ms": _median_steps([history_10k.profile_open(outputs) for _ in range(profile_reps)]),
                "open_rebuild_ms": _median_steps([_profile_rebuild(rebuild) for _ in range(profile_reps)]),
                "open_empty_ms": _median_steps([history_10k.profile_open(root / f"empty-{i}" / "outputs")
                                                for i in range(profile_reps)]),
                "history_ms": {k: v * 1000 for k, v in history_10k.profile_history(outputs).items()},
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return res


def _index_rows(outputs: Path) -> int:
    import sqlite3

    from webui.storage import INDEX_NAME

    with contextlib.closing(sqlite3.connect(outputs / INDEX_NAME)) as conn:
        return conn.execute("SELECT count(*) FROM images").fetchone()[0]


def _profile_rebuild(outputs: Path) -> dict[str, float]:
    history_10k.drop_index(outputs)
    return history_10k.profile_open(outputs)


def _median_steps(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per step, the median over runs, in ms (a step missing from a run counts as 0)."""
    keys = list(dict.fromkeys(k for run in runs for k in run))
    return {k: percentile([run.get(k, 0.0) * 1000 for run in runs], 50) for k in keys}


def report_history(res: dict[str, Any]) -> None:
    """Print (e) and keep the printed tables in res["table"] / res["startup_table"]."""
    lat, fx = res["latency"], res["fixture"]
    rare, none = history_10k.QUERY_RARE, history_10k.QUERY_NONE
    floor = lat["empty/all"]["median_ms"]
    met = lat["10k/all"]["median_ms"] <= HISTORY_TARGET_MS

    def row(key: str, name: str, note: str, **extra: Any) -> dict[str, Any]:
        x = lat[key]
        return {"name": name, "stats": x, "ratio": x["median_ms"] / floor,
                "note": f"{note} [{x['rows']} rows; POST {x['post_median_ms']:.1f} + SSE {x['sse_median_ms']:.1f} ms]",
                **extra}

    rows = [
        row("empty/all", "empty folder: first page (floor)",
            "Gradio's own floor: the same call on an app with no images"),
        row("empty/rare", f"  empty folder: '{rare}'", "same, with the 1% query"),
        row("empty/none", "  empty folder: no match", "same, with the no-match query"),
        row("10k/all", "10,000: first page ['', 0, 50]",
            "50 newest: a range read on the created_at index + 50 json.loads",
            target=f"<={HISTORY_TARGET_MS:g}ms", verdict="met" if met else "MISSED"),
        row("10k/rare", f"10,000: '{rare}' (~1%)",
            f"{fx['rare_matches']} of {fx['images']} prompts match, newest 50 returned: contains_ci() "
            f"(a Python SQL function) on prompts, newest first, until 50 found"),
        row("10k/none", f"10,000: '{none}'", "no prompt matches: contains_ci() on all 10,000 prompts"),
    ]
    res["table"] = print_table(
        f"(e) /history at 10,000 images: POST gradio_api/call/history + SSE until 'complete', "
        f"{res['calls']} interleaved calls per row after {res['warmup']} warm-up (demo app; ratio = vs the floor)",
        rows)
    wrong = [k for k, v in res["expected_rows"].items() if lat[k]["rows"] != v]
    if wrong:
        print("  WRONG row counts: " + ", ".join(f"{k} {lat[k]['rows']} (expected {res['expected_rows'][k]})"
                                                for k in wrong))
    print(f"  first page at 10,000 images: {lat['10k/all']['median_ms']:.1f} ms median vs {floor:.1f} ms on an "
          f"empty folder ({lat['10k/all']['median_ms'] - floor:+.1f} ms); target <= {HISTORY_TARGET_MS:g} ms: "
          f"{'met' if met else 'MISSED'}")

    st = res["startup"]
    base = st["empty"]["median_ms"]
    rebuilt = sorted(set(res["rebuilt_rows"]))
    srows = [
        {"name": "(i) empty outputs folder (baseline)", "stats": st["empty"], "ratio": 1.0,
         "note": "a new, empty --outputs: the app creates it and an empty index"},
        {"name": "(ii) 10,000 images, index present", "stats": st["indexed"], "ratio": res["startup_ratio_indexed"],
         "target": f"<={STARTUP_TARGET:g}x", "verdict": verdict(res["startup_ratio_indexed"], STARTUP_TARGET),
         "note": "the cached folder as the app left it: Storage.open() checks the index, then reconciles "
                 "it with a walk of all 10,000 files"},
        {"name": "(iii) 10,000 images, index deleted", "stats": st["rebuild"], "ratio": res["startup_ratio_rebuild"],
         "note": f"informational, no target: the rebuild reads every PNG's record and inserts 10,000 rows "
                 f"(index afterwards: {'/'.join(map(str, rebuilt))} rows)"},
    ]
    res["startup_table"] = print_table(
        f"(e) Start-up: process start -> first GET / == 200 (polled every 20 ms), {res['startup_runs']} runs "
        f"each, interleaved with rotating order (demo app; ratio = vs (i))", srows)
    print(f"  (ii) / (i) as the median of per-round ratios: {res['startup_ratio_indexed_paired']:.2f}x.")
    if all(st[c]["cpu_median_s"] for c in st):
        ci, cii, ciii = (st[c]["cpu_median_s"] for c in ("empty", "indexed", "rebuild"))
        print(f"  CPU seconds the app used until GET / = 200 (user+sys, medians; steadier than the wall on a busy "
              f"machine): (i) {ci:.2f}, (ii) {cii:.2f} ({cii / ci:.2f}x), (iii) {ciii:.2f} ({ciii / ci:.2f}x)")
    print(f"  (ii) - (i) = {st['indexed']['median_ms'] - base:+.0f} ms; (iii) - (i) = "
          f"{st['rebuild']['median_ms'] - base:+.0f} ms. Files are in the page cache (just built or read): "
          f"a cold disk after a reboot would add the I/O.")
    prof = res.get("profile")
    if prof:
        print("  Inside Storage.open(), in-process, same folders (medians, ms; steps are exclusive times):")
        seen = {k for p in ("open_empty_ms", "open_indexed_ms", "open_rebuild_ms") for k in prof[p]}
        labels = [label for _, _, label in history_10k.OPEN_STEPS] + ["other", "total Storage.open()"]
        labels = [k for k in labels if k in seen]
        print(f"    {'step':<48} {'empty':>8} {'(ii) index':>11} {'(iii) none':>11}")
        for k in labels:
            cols = [prof[p].get(k) for p in ("open_empty_ms", "open_indexed_ms", "open_rebuild_ms")]
            print(f"    {k:<48} " + " ".join(f"{c:>{w}.1f}" if c is not None else f"{'-':>{w}}"
                                            for c, w in zip(cols, (8, 11, 11))))
        h = prof["history_ms"]
        print(f"  HistoryIndex.search(query, 0, 50) in-process on the 10,000 (median ms): first page {h['all']:.2f}, "
              f"'{rare}' {h['rare']:.2f}, no match {h['none']:.2f}")
