"""How many people one instance serves: `/history` under 1-100 concurrent clients, old code and
new side by side, while 8 generations run; and the page's first and second visit.

    python bench/scale.py                 # the whole run (old code from `git worktree add /tmp/base 925a2cb`)
    python bench/scale.py --quick         # fewer calls, a rough look
    python bench/scale.py --old PATH      # another checkout as "old" (default /tmp/base; missing: skipped)
    python bench/scale.py --no-page       # skip the browser part

(h) `/history("", 0, 24)`, 200 images, each app `--concurrency 8` against one fake API that
takes 1 s per picture, with 8 clients generating against the app under test the whole time:

| path | what a client does |
| --- | --- |
| old: Gradio call API | today's code (925a2cb): POST `gradio_api/call/history`, then its SSE stream |
| new: Gradio call API | the same two requests against this tree |
| new: REST | `GET /api/v1/history?limit=24` (webui/rest.py) |
| floor | `GET /history?limit=24` on bench/floor_app.py: bare FastAPI, same uvicorn, same SQLite file |

Clients are asyncio connections (bench/loadclient.py, keep-alive, cheap on CPU), each making a
fixed number of calls after one warm-up; the paths take turns in a rotating order. Printed per
row: p50 / p95 latency, calls per second, and the server's CPU milliseconds per call (from
/proc: on a shared machine the wall-clock figures swing, CPU per call much less).
Goals at 100 clients: REST p95 <= 100 ms and >= 500 calls/s; new Gradio >= 3x old calls/s.

(i) Page visits in Chromium (Playwright, /usr/bin/chromium): a fresh profile opens the page
(first visit), then opens it again in the same profile (second visit, warm cache). Time until
the prompt box takes input (typed text reads back) and bytes received (CDP encodedDataLength),
median of 3, for bench/flux_app.py (a FLUX.1-schnell-style minimal Space), the old app and the new.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import history_10k  # noqa: E402
import requests  # noqa: E402
from loadclient import LoadResult, gradio_call, rest_get, run_load  # noqa: E402

from tests.support.fake_api import FakeApi  # noqa: E402
from tools.appprocess import AppProcess, clean_env, free_port  # noqa: E402
from webui.db import database_files  # noqa: E402
from webui.storage import INDEX_NAME, Storage  # noqa: E402

RESULTS = ROOT / "bench" / "results"
IMAGES = 200
CONCURRENCY = 8  # each app's --concurrency, and the generating clients
API_DELAY = 1.0
CLIENTS = (1, 10, 50, 100)
PAGE = 24
GOAL_P95_MS, GOAL_RATE, GOAL_GRADIO_X = 100.0, 500.0, 3.0
PROMPT_BOX = "#prompt textarea, #prompt input"


# --------------------------------------------------------------------------- apps


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def image_folder(target: Path) -> None:
    """200 saved images (Storage.save, small pictures), then no index: each app builds its own."""
    storage = Storage(target).open()
    png = history_10k.small_png()
    for _, fields in history_10k.plan(IMAGES):
        storage.save(png, fields)
    storage.close()
    for path in database_files(target / INDEX_NAME):
        path.unlink(missing_ok=True)


def start_app(name: str, code: Path, home: Path, fake: FakeApi, key: str) -> AppProcess:
    folder = home / name
    shutil.copytree(home / "images", folder / "outputs")
    port = free_port()
    env = clean_env({"YUNYX_API_KEY": key, "YUNYX_API_BASE": fake.base_url, "PYTHONUNBUFFERED": "1",
                     "GRADIO_TEMP_DIR": str(folder / "gradio-cache")})
    argv = [sys.executable, str(code / "launch.py"), "--port", str(port), "--outputs", str(folder / "outputs"),
            "--concurrency", str(CONCURRENCY)]
    return AppProcess(argv, cwd=folder, port=port, env=env)


def start_script(name: str, argv: list[str], home: Path, port: int) -> AppProcess:
    folder = home / name
    folder.mkdir(exist_ok=True)
    env = clean_env({"GRADIO_TEMP_DIR": str(folder / "gradio-cache"), "PYTHONUNBUFFERED": "1"})
    return AppProcess([sys.executable, *argv], cwd=folder, port=port, env=env)


class Generations:
    """`CONCURRENCY` clients generating against one app in a loop (Gradio's call API) until stopped."""

    def __init__(self, url: str, seeds: list[int]) -> None:
        self.url, self.seeds = url, seeds
        self.stop_flag = threading.Event()
        self.done = 0
        self.failed: list[str] = []
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(CONCURRENCY)]

    def __enter__(self) -> Generations:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=30)

    def _loop(self, i: int) -> None:
        s = requests.Session()
        s.trust_env = False
        n = i
        while not self.stop_flag.is_set():
            seed = self.seeds[n % len(self.seeds)]
            n += CONCURRENCY
            try:
                r = s.post(f"{self.url}gradio_api/call/generate", timeout=60,
                           json={"data": [history_10k.SUBJECTS[0], "FLUX.1-schnell", "1024x1024", False, seed]})
                stream = s.get(f"{self.url}gradio_api/call/generate/{r.json()['event_id']}", timeout=60).text
                if "event: complete" in stream:
                    self.done += 1
                else:
                    self.failed.append(stream[-200:])
            except (requests.RequestException, ValueError, KeyError) as exc:
                self.failed.append(f"{type(exc).__name__}: {exc}"[:200])


def prerender(fake: FakeApi, key: str, seeds: list[int]) -> None:
    """Render the generating clients' pictures once, so the timed part costs the fake only its delay."""
    s = requests.Session()
    s.trust_env = False
    for seed in seeds:
        r = s.post(f"{fake.base_url}/images/generations", headers={"Authorization": f"Bearer {key}"}, timeout=60,
                   json={"model": "FLUX.1-schnell", "prompt": history_10k.SUBJECTS[0], "image_size": "1024x1024",
                         "prompt_enhancement": False, "seed": seed})
        s.get(r.json()["images"][0]["url"].replace("\\u0026", "&"), timeout=60).raise_for_status()


# --------------------------------------------------------------------------- (h) /history under load


def summarize(res: LoadResult, cpu: float) -> dict[str, Any]:
    lat = sorted(x * 1000 for x in res.latencies)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, math.ceil(q / 100 * len(lat)) - 1)] if lat else float("nan")

    return {"clients": res.clients, "calls": len(lat), "errors": len(res.errors), "error_sample": res.errors[:3],
            "p50_ms": pct(50), "p95_ms": pct(95), "calls_per_s": res.calls_per_s,
            "cpu_ms_per_call": cpu * 1000 / len(lat) if lat else float("nan")}


def bench_history(home: Path, old: Path | None, fake: FakeApi, key: str, total_calls: int) -> dict[str, Any]:
    seeds = list(range(1000, 1016))
    prerender(fake, key, seeds)
    fake.set_faults(delay=API_DELAY, image_delay=0)
    apps = {"new": start_app("new", ROOT, home, fake, key)}
    if old is not None:
        apps["old"] = start_app("old", old, home, fake, key)
    for app in apps.values():
        app.wait_ready(timeout=180)
    floor_port = free_port()
    floor = start_script("floor", [str(ROOT / "bench" / "floor_app.py"), str(floor_port),
                                   str(home / "new" / "outputs" / INDEX_NAME)], home, floor_port)
    floor.url = f"http://127.0.0.1:{floor_port}/history"  # its "ready" page
    floor.wait_ready(timeout=60)
    floor.url = f"http://127.0.0.1:{floor_port}/"
    paths = [("old", "old: Gradio call API", gradio_call("/gradio_api/", "history", ["", 0, PAGE]))] if old else []
    paths += [
        ("new", "new: Gradio call API", gradio_call("/gradio_api/", "history", ["", 0, PAGE])),
        ("new", "new: REST /api/v1/history", rest_get(f"/api/v1/history?limit={PAGE}")),
        ("floor", "floor: bare FastAPI + SQLite", rest_get(f"/history?limit={PAGE}")),
    ]
    servers = {**apps, "floor": floor}
    rows: list[dict[str, Any]] = []
    generated = dict.fromkeys(apps, 0)
    try:
        for round_no, clients in enumerate(CLIENTS):
            order = paths[round_no % len(paths):] + paths[:round_no % len(paths)]
            for server, label, call in order:
                target = apps["new" if server == "floor" else server]  # the floor's file is the new app's
                per_client = max(3, math.ceil(total_calls / clients))
                with Generations(target.url, seeds) as gens:
                    time.sleep(API_DELAY)  # generations in flight before the first timed call
                    pid = servers[server].proc.pid
                    cpu0 = cpu_seconds(pid)
                    res = run_load(servers[server].url, call, clients, per_client, warmup=1)
                    cpu = cpu_seconds(pid) - cpu0
                generated["new" if server == "floor" else server] += gens.done
                row = {"path": label, **summarize(res, cpu), "generations_done": gens.done,
                       "generation_failures": gens.failed[:3]}
                rows.append(row)
                print(f"  {clients:>3} clients  {label:<30} p50 {row['p50_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f} ms  "
                      f"{row['calls_per_s']:7.1f} calls/s  {row['cpu_ms_per_call']:6.2f} CPU ms/call  "
                      f"errors {row['errors']}  (generations done meanwhile: {gens.done})", flush=True)
    finally:
        for proc in (*apps.values(), floor):
            proc.stop()
    return {"rows": rows, "generated": generated}


def report_history(res: dict[str, Any]) -> list[str]:
    rows = res["rows"]
    by = {(r["clients"], r["path"]): r for r in rows}
    labels = list(dict.fromkeys(r["path"] for r in rows))
    lines = ["", f"(h) /history(\"\", 0, {PAGE}), {IMAGES} images, "
             f"8 generations running against a {API_DELAY:g} s API",
             "", "| clients | path | p50 | p95 | calls/s | server CPU ms/call | errors |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for clients in CLIENTS:
        for label in labels:
            r = by.get((clients, label))
            if r:
                lines.append(f"| {clients} | {label} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | "
                             f"{r['calls_per_s']:.0f} | {r['cpu_ms_per_call']:.1f} | {r['errors']} |")
    rest = by.get((100, "new: REST /api/v1/history"))
    new, old = by.get((100, "new: Gradio call API")), by.get((100, "old: Gradio call API"))
    lines.append("")
    if rest:
        lines.append(f"REST at 100 clients: p95 {rest['p95_ms']:.0f} ms (goal <= {GOAL_P95_MS:.0f}: "
                     f"{'met' if rest['p95_ms'] <= GOAL_P95_MS else 'MISSED'}), {rest['calls_per_s']:.0f} calls/s "
                     f"(goal >= {GOAL_RATE:.0f}: {'met' if rest['calls_per_s'] >= GOAL_RATE else 'MISSED'})")
    if new and old:
        x, xcpu = new["calls_per_s"] / old["calls_per_s"], old["cpu_ms_per_call"] / new["cpu_ms_per_call"]
        lines.append(f"Gradio call API at 100 clients: new/old calls/s {x:.1f}x (goal >= {GOAL_GRADIO_X:g}x: "
                     f"{'met' if x >= GOAL_GRADIO_X else 'MISSED'}); server CPU per call old/new {xcpu:.1f}x")
    lines.append(f"Generations completed during the load (old/new): {res['generated']}")
    return lines


# --------------------------------------------------------------------------- (i) page visits


def visit(context: Any, url: str) -> dict[str, float]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Performance.enable")  # TaskDuration: the page's main-thread work, steadier than wall time
    received, requests_seen, last = [0], [0], [time.monotonic()]

    def finished(event: dict) -> None:
        received[0] += event.get("encodedDataLength", 0)
        last[0] = time.monotonic()

    def sent(event: dict) -> None:
        requests_seen[0] += 1
        last[0] = time.monotonic()

    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.requestWillBeSent", sent)
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    box = page.locator(PROMPT_BOX).first
    box.wait_for(state="visible", timeout=60_000)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # bounded: typed text must read back
        try:
            box.fill("a fox", timeout=1000)
            if box.input_value(timeout=1000) == "a fox":
                break
        except Exception:  # noqa: BLE001 - not interactive yet (hydrating)
            time.sleep(0.02)
    ready = time.perf_counter() - t0
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    # Late requests (thumbnails) count too: wait until nothing has moved for a second. Not
    # "networkidle": Gradio keeps its event stream open, so the network is never idle.
    page.wait_for_load_state("load", timeout=60_000)
    settle = time.monotonic() + 20
    while time.monotonic() < settle and time.monotonic() - last[0] < 1.0:
        page.wait_for_timeout(100)
    out = {"ready_s": ready, "bytes": received[0], "requests": requests_seen[0],
           "main_thread_s": metrics.get("TaskDuration", 0.0)}
    page.close()
    return out


def bench_page(home: Path, old: Path | None, fake: FakeApi, key: str, reps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    fake.set_faults(delay=0)
    flux_port = free_port()
    apps = {"flux-style minimal app": start_script("flux", [str(ROOT / "bench" / "flux_app.py"), str(flux_port)],
                                                   home, flux_port),
            "new": start_app("page-new", ROOT, home, fake, key)}
    if old is not None:
        apps["old"] = start_app("page-old", old, home, fake, key)
    results: dict[str, dict[str, list[dict[str, float]]]] = {name: {"first": [], "second": []} for name in apps}
    try:
        for app in apps.values():
            app.wait_ready(timeout=180)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
            for _ in range(reps):
                for name, app in apps.items():
                    context = browser.new_context(viewport={"width": 1366, "height": 768})
                    results[name]["first"].append(visit(context, app.url))
                    results[name]["second"].append(visit(context, app.url))
                    context.close()
            browser.close()
    finally:
        for app in apps.values():
            app.stop()
    return {name: {kind: {k: statistics.median(v[k] for v in runs) for k in runs[0]} for kind, runs in r.items()}
            for name, r in results.items()}


def report_page(res: dict[str, Any]) -> list[str]:
    lines = ["", "(i) Opening the page in Chromium (median): time until the prompt box takes input (and the page's",
             "main-thread work until then: steadier than wall time on a busy machine), bytes received",
             "", "| app | first visit | main thread | bytes | requests | second visit (warm cache) | main thread | bytes "
                 "| requests |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in res.items():
        f, s = r["first"], r["second"]
        lines.append(f"| {name} | {f['ready_s'] * 1000:.0f} ms | {f['main_thread_s'] * 1000:.0f} ms | "
                     f"{f['bytes'] / 1024:.0f} KiB | {f['requests']:.0f} | {s['ready_s'] * 1000:.0f} ms | "
                     f"{s['main_thread_s'] * 1000:.0f} ms | {s['bytes'] / 1024:.0f} KiB | {s['requests']:.0f} |")
    return lines


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and one page visit each")
    parser.add_argument("--old", default="/tmp/base", help="checkout of the old code (default /tmp/base)")
    parser.add_argument("--no-page", action="store_true", help="skip the browser part")
    parser.add_argument("--no-history", action="store_true", help="skip the load part")
    args = parser.parse_args(argv)
    old = Path(args.old) if (Path(args.old) / "launch.py").exists() else None
    if old is None:
        print(f"(old code not found at {args.old}: `git worktree add {args.old} 925a2cb` adds it)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="scale-", dir=RESULTS))
    key = "sk-bench-scale"
    fake = FakeApi(api_key=key).start()
    fake.render_cache_entries = 64
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}}
    lines: list[str] = []
    try:
        image_folder(home / "images")
        if not args.no_history:
            out["history"] = bench_history(home, old, fake, key, 100 if args.quick else 300)
            lines += report_history(out["history"])
            print("\n".join(lines), flush=True)
            (RESULTS / "scale.json").write_text(json.dumps(out, indent=1, default=str))
        if not args.no_page:
            out["page"] = bench_page(home, old, fake, key, 1 if args.quick else 3)
            lines += report_page(out["page"])
    finally:
        fake.stop()
        shutil.rmtree(home, ignore_errors=True)
    out["machine"]["load_avg_at_end"] = os.getloadavg()
    lines.append("")
    lines.append(f"Load average (1 min) at start / end: {out['machine']['load_avg_at_start'][0]:.1f} / "
                 f"{out['machine']['load_avg_at_end'][0]:.1f} on {os.cpu_count()} CPUs "
                 "(above the CPU count, other work shared the machine)")
    print("\n".join(lines))
    (RESULTS / "scale.json").write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
