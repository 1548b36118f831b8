"""Benchmarks: saving an image, `/generate` end to end against a naive app, 50 at once, 8 at once,
history at 10,000 images.

    python bench/run.py            # full run (about three and a half minutes)
    python bench/run.py --quick    # fewer repetitions
    python bench/run.py --only save|generate|load|concurrent|history

Prints a table per benchmark (median, p90, ratio against the baseline, target) and
writes the same figures to bench/results/latest.json. Both sides of every comparison
are measured interleaved in one run, so machine noise hits them alike. These are
measurements, not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.support.fake_api import FakeApi  # noqa: E402  (the demo server plus fault knobs)
from tools.appprocess import AppProcess, free_port  # noqa: E402
from webui import metadata  # noqa: E402
from webui.demo.render import encode, render  # noqa: E402
from webui.service import GenerationParams  # noqa: E402
from webui.storage import Storage  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import history_10k  # noqa: E402  (bench/history_10k.py: the cached 10,000-image folder)
import save_steps  # noqa: E402  (bench/save_steps.py: (a)'s step breakdown)

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LAUNCH = ROOT / "launch.py"
NAIVE_APP = BENCH / "naive_app.py"

PROMPT = "an island near sea, with seagulls, moon shining over the sea, light house, boats in the background"
MODEL = "FLUX.1-schnell"
SIZE = "1024x1024"

SAVE_TARGET = 1.5  # Storage.save / raw write, medians
GENERATE_TARGET = 0.7  # ours / naive, medians

LOAD_CALLS = 50  # (c) generations submitted at once
LOAD_DELAY = 0.5  # (c) seconds the fake API takes per generation
LOAD_CONCURRENCY = 4  # (c) our app's --concurrency
BURST_CALLS = 8  # (d) generations submitted at once
BURST_DELAY = 1.0  # (d) seconds the fake API takes per generation
BURST_CONCURRENCY = 8  # (d) our app's --concurrency for the target row: all 8 in flight
BURST_TARGET_S = 1.6  # (d) ours, median wall seconds
HISTORY_TARGET_MS = 50.0  # (e) /history first page at 10,000 images, median ms
STARTUP_TARGET = 1.2  # (e) start-up with 10,000 images (index present) / with an empty folder, medians


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(seconds: list[float]) -> dict[str, float]:
    """Median / p90 / min / max in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "median_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median of per-repetition ratios a[i]/b[i] (the pairs ran back to back)."""
    return percentile([x / y for x, y in zip(a, b) if y > 0], 50)


# --------------------------------------------------------------------------- printing


def fmt_ms(value: float) -> str:
    return f"{value:8.3f}" if value < 10 else f"{value:8.1f}"


def print_table(title: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """rows: name, stats, ratio (or None), target (or ""), verdict, note. Returns them for the JSON."""
    print()
    print(title)
    header = f"  {'case':<34} {'median ms':>9} {'p90 ms':>8} {'ratio':>7} {'target':>7} {'':<6}  what it is"
    print(header)
    print("  " + "-" * (len(header) + 30))
    for row in rows:
        stats = row.get("stats")
        med = fmt_ms(stats["median_ms"]) if stats else " " * 8
        p90 = fmt_ms(stats["p90_ms"]) if stats and "p90_ms" in stats else " " * 8
        ratio = f"{row['ratio']:6.2f}x" if row.get("ratio") is not None else ""
        print(f"  {row['name']:<34} {med:>9} {p90:>8} {ratio:>7} {row.get('target', ''):>7} "
              f"{row.get('verdict', ''):<6}  {row.get('note', '')}")
    return {"title": title, "rows": [
        {"case": r["name"].strip(),
         "median_ms": r["stats"]["median_ms"] if r.get("stats") else None,
         "p90_ms": r["stats"].get("p90_ms") if r.get("stats") else None,
         "ratio": r.get("ratio"), "target": r.get("target") or None,
         "verdict": r.get("verdict") or None, "what": r.get("note", "")}
        for r in rows]}


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "MISSED"


def print_checks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts that must come out exactly: rows of name, measured, expected, note. Returns them
    with their verdict for the JSON."""
    header = f"  {'check':<34} {'measured':>9} {'expected':>8} {'':<6}  what it is"
    print(header)
    print("  " + "-" * (len(header) + 30))
    out = []
    for row in rows:
        ok = row["measured"] == row["expected"]
        print(f"  {row['name']:<34} {row['measured']!s:>9} {row['expected']!s:>8} {'ok' if ok else 'WRONG':<6}"
              f"  {row.get('note', '')}")
        out.append({"check": row["name"], "measured": row["measured"], "expected": row["expected"],
                    "ok": ok, "what": row.get("note", "")})
    return out


# --------------------------------------------------------------------------- helpers


def sample_png() -> bytes:
    """A real answer: the demo backend's picture, encoded the way it serves it (level 1)."""
    return encode(render(GenerationParams(PROMPT, MODEL, SIZE, False, 1234567)), "PNG", 1)


def sample_fields(seed: int) -> dict[str, Any]:
    return {
        "prompt": PROMPT,
        "model": MODEL,
        "image_size": SIZE,
        "prompt_enhancement": False,
        "seed": seed,
        "inference": 812,
        "user": None,
    }


@contextlib.contextmanager
def patched(obj: Any, name: str, wrapper_factory: Callable[[Callable], Callable]) -> Iterator[None]:
    """Temporarily replace obj.name with wrapper_factory(original)."""
    original = getattr(obj, name)
    setattr(obj, name, wrapper_factory(original))
    try:
        yield
    finally:
        setattr(obj, name, original)


def timed(bucket: list[float]) -> Callable[[Callable], Callable]:
    """A wrapper factory that appends each call's duration to `bucket`."""
    def factory(fn: Callable) -> Callable:
        def wrapper(*args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                bucket.append(time.perf_counter() - t0)
        return wrapper
    return factory


# --------------------------------------------------------------------------- (a) saving


def bench_save(reps: int, workdir: Path) -> dict[str, Any]:
    png = sample_png()
    root = Path(tempfile.mkdtemp(prefix="save-", dir=workdir))
    try:
        storage = Storage(root / "outputs").open()
        raw_dir = root / "raw"
        raw_dir.mkdir()
        record = {"id": secrets.token_hex(16), **sample_fields(1), "file": "2026-01-01/00001-1-x.png",
                  "created_at": "2026-01-01T00:00:00.000Z"}
        counter = iter(range(10**9))

        def raw_write() -> None:
            with open(raw_dir / f"raw-{next(counter)}.png", "wb") as fh:
                fh.write(png)

        def raw_write_fsync() -> None:
            with open(raw_dir / f"rawfs-{next(counter)}.png", "wb") as fh:
                fh.write(png)
                fh.flush()
                os.fsync(fh.fileno())

        labeller = storage.labeller

        def embed() -> None:
            metadata.embed_record(png, record)

        def labels() -> None:
            labeller.apply(png, record)

        def save() -> None:
            storage.save(png, sample_fields(next(counter)))

        cases = {"raw": raw_write, "raw_fsync": raw_write_fsync, "embed": embed, "labels": labels, "save": save}
        times: dict[str, list[float]] = {k: [] for k in cases}
        names = list(cases)
        for _ in range(max(5, reps // 20)):  # warm-up: caches, first-save folder scan
            for fn in cases.values():
                fn()
        gc.collect()
        for i in range(reps):
            # Interleaved, rotating the order so no case always runs first after a pause.
            k = i % len(names)
            for name in names[k:] + names[:k]:
                t0 = time.perf_counter()
                cases[name]()
                times[name].append(time.perf_counter() - t0)

        storage.close()  # drain the background fsyncs inside the measured run's lifetime
    finally:
        shutil.rmtree(root, ignore_errors=True)

    stats = {k: summary(v) for k, v in times.items()}
    base = stats["raw"]["median_ms"]
    ratio = stats["save"]["median_ms"] / base
    return {
        "png_bytes": len(png),
        "reps": reps,
        "same_filesystem_as_repo": os.stat(workdir).st_dev == os.stat(ROOT).st_dev,
        "cases": stats,
        "ratio_save_vs_raw": ratio,
        "ratio_save_vs_raw_paired": paired_ratio(times["save"], times["raw"]),
        "ratio_save_vs_raw_fsync": stats["save"]["median_ms"] / stats["raw_fsync"]["median_ms"],
        "ratio_raw_fsync_vs_raw": stats["raw_fsync"]["median_ms"] / base,
        "ratio_embed_vs_raw": stats["embed"]["median_ms"] / base,
        "ratio_labels_vs_raw": stats["labels"]["median_ms"] / base,
        "target": SAVE_TARGET,
        "target_met": ratio <= SAVE_TARGET,
    }


def report_save(res: dict[str, Any]) -> None:
    """Print (a) and keep the printed table in res["table"]."""
    c = res["cases"]
    kb = res["png_bytes"] / 1024
    rows = [
        {"name": "raw write (baseline)", "stats": c["raw"], "ratio": 1.0,
         "note": "open(fresh name,'wb').write(png): no metadata, no fsync, no index"},
        {"name": "raw write + fsync", "stats": c["raw_fsync"], "ratio": res["ratio_raw_fsync_vs_raw"],
         "note": "the same plus flush+fsync: what durability alone costs"},
        {"name": "metadata.embed_record alone", "stats": c["embed"], "ratio": res["ratio_embed_vs_raw"],
         "note": "splice 'parameters'+'generation' text chunks in memory (no I/O)"},
        {"name": "Labeller.apply alone", "stats": c["labels"], "ratio": res["ratio_labels_vs_raw"],
         "note": "build and splice the AI labels (XMP packet + AIGC chunk) in memory (no I/O)"},
        {"name": "Storage.save (full)", "stats": c["save"], "ratio": res["ratio_save_vs_raw"],
         "target": f"<={SAVE_TARGET}x", "verdict": verdict(res["ratio_save_vs_raw"], SAVE_TARGET),
         "note": "labels + record splice + tmp write + link to a fresh name + SQLite row (fsync in the background)"},
    ]
    res["table"] = print_table(f"(a) Saving one {SIZE} PNG answer ({kb:.0f} KB), {res['reps']} interleaved reps "
                f"(temp dir under bench/results/, the repo's filesystem)", rows)
    print(f"  Storage.save vs raw write + fsync: {res['ratio_save_vs_raw_fsync']:.2f}x "
          f"(paired per-rep ratio vs raw write: {res['ratio_save_vs_raw_paired']:.2f}x)")


# --------------------------------------------------------------------------- apps over HTTP (b, c, d)


class LaunchedApp(AppProcess):
    """One app under measurement (ours or the naive one), its log beside its outputs."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, port: int) -> None:
        super().__init__(argv, cwd=cwd, port=port, env=env, log_path=cwd / f"{name}.log")
        self.name = name


def base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUNYX_", "NAIVE_", "GRADIO_"))}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def new_session() -> requests.Session:
    """A session that never goes through an HTTP(S)_PROXY from the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


@dataclass(frozen=True)
class AppSpec:
    """One app to launch: `kind` "ours" (launch.py, non-demo) or "naive" (bench/naive_app.py)."""

    name: str
    kind: str = "ours"
    concurrency: int | None = None  # ours only: `--concurrency N`; None = the app's default (4)

    @property
    def label(self) -> str:
        if self.kind == "naive":
            return "naive app (Gradio default queue, concurrency_limit 1)"
        flag = f"--concurrency {self.concurrency}" if self.concurrency else "default --concurrency (4)"
        return f"our app, {flag}"


def launch_app(spec: AppSpec, root: Path, backend: FakeApi, key: str) -> LaunchedApp:
    """Start one app as a subprocess on a free port, its outputs and Gradio cache under root/name."""
    home = root / spec.name
    home.mkdir()
    port = free_port()
    cache = {"GRADIO_TEMP_DIR": str(home / "gradio-cache")}
    if spec.kind == "ours":
        argv = [sys.executable, str(LAUNCH), "--port", str(port), "--outputs", str(home / "outputs")]
        if spec.concurrency is not None:
            argv += ["--concurrency", str(spec.concurrency)]
        env = base_env({"YUNYX_API_KEY": key, "YUNYX_API_BASE": backend.base_url, **cache})
    elif spec.kind == "naive":
        argv = [sys.executable, str(NAIVE_APP), str(port)]
        env = base_env({"NAIVE_API_BASE": backend.base_url, "NAIVE_API_KEY": key,
                        "NAIVE_OUTPUTS": str(home / "outputs"), **cache})
    else:
        raise ValueError(f"unknown app kind {spec.kind!r}")
    return LaunchedApp(spec.name, argv, env, home, port)


@dataclass
class Rig:
    """One shared FakeApi and the apps launched against it."""

    backend: FakeApi
    key: str
    root: Path
    apps: dict[str, LaunchedApp]
    fake: "DirectClient"

    def outputs(self, name: str) -> Path:
        return self.root / name / "outputs"


def start_fake(key: str) -> FakeApi:
    """The shared fake API (its listen backlog is wide enough for a burst of connections)."""
    return FakeApi(api_key=key).start()


@contextlib.contextmanager
def rig(workdir: Path, prefix: str, specs: list[AppSpec]) -> Iterator[Rig]:
    """Start a FakeApi and every app in `specs` (all launched at once, then awaited);
    on exit stop them all and delete their folders."""
    key = "sk-bench-" + secrets.token_hex(8)
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=workdir))
    backend = start_fake(key)
    apps: dict[str, LaunchedApp] = {}
    try:
        for spec in specs:
            apps[spec.name] = launch_app(spec, root, backend, key)
        for app in apps.values():
            app.wait_ready()
        yield Rig(backend, key, root, apps, DirectClient(backend, key))
    finally:
        for app in apps.values():
            app.stop()
        backend.stop()
        shutil.rmtree(root, ignore_errors=True)


def gradio_call(session: requests.Session, app_url: str, api_name: str, data: list[Any],
                timeout: float = 120) -> dict[str, Any]:
    """One call over Gradio's HTTP API: POST call/<api_name>, then read the SSE stream until
    `complete` or `error`. Returns the event, its payload, the error message if any, and
    perf_counter() timestamps (t0 before the POST, t_queued after it, t_done at the event)."""
    t0 = time.perf_counter()
    r = session.post(f"{app_url}gradio_api/call/{api_name}", json={"data": data}, timeout=timeout)
    r.raise_for_status()
    event_id = r.json()["event_id"]
    t_queued = time.perf_counter()
    event, payload = None, None
    with session.get(f"{app_url}gradio_api/call/{api_name}/{event_id}", stream=True, timeout=timeout) as s:
        s.raise_for_status()
        for line in s.iter_lines(chunk_size=8192, decode_unicode=True):
            if line.startswith("event:"):
                event = line[len("event:"):].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line[len("data:"):])
                break
    t_done = time.perf_counter()
    message = None
    if event == "error":  # gr.Error → {"error": "...", ...}; an unexpected error → a string
        message = payload.get("error") if isinstance(payload, dict) else payload
        message = str(message) if message else None
    return {"event": event, "payload": payload, "message": message,
            "t0": t0, "t_queued": t_queued, "t_done": t_done}


def generate_data(seed: int) -> list[Any]:
    """The /generate inputs both apps take: prompt, model, size, prompt enhancement, seed."""
    return [PROMPT, MODEL, SIZE, False, seed]


def call_generate(session: requests.Session, app_url: str, data: list[Any]) -> dict[str, Any]:
    """One /generate over Gradio's HTTP API, plus downloading the picture. Times each phase."""
    res = gradio_call(session, app_url, "generate", data)
    payload = res["payload"]
    if res["event"] != "complete" or not payload or not isinstance(payload[0], dict):
        raise RuntimeError(f"{app_url}: /generate ended with {res['event']!r}: {str(payload)[:300]}")
    url = payload[0]["url"]
    if not url.startswith("http"):
        url = app_url.rstrip("/") + "/" + url.lstrip("/")
    f = session.get(url, timeout=120)
    f.raise_for_status()
    body = f.content
    t_end = time.perf_counter()
    if metadata.sniff_image_type(body) is None:
        raise RuntimeError(f"{app_url}: the returned file is not an image ({len(body)} bytes)")
    return {
        "total": t_end - res["t0"],
        "submit": res["t_queued"] - res["t0"],
        "until_complete": res["t_done"] - res["t_queued"],
        "download": t_end - res["t_done"],
        "file_bytes": len(body),
        "file_type": metadata.sniff_image_type(body),
    }


class DirectClient:
    """Direct calls to the shared fake API from the bench process."""

    def __init__(self, backend: FakeApi, key: str) -> None:
        self.base = backend.base_url
        self.key = key
        self.session = new_session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def round_trip(self, seed: int) -> float:
        """POST the generation and GET its picture, as both apps do; returns seconds."""
        t0 = time.perf_counter()
        r = self.session.post(f"{self.base}/images/generations", timeout=60, json={
            "model": MODEL, "prompt": PROMPT, "image_size": SIZE, "prompt_enhancement": False, "seed": seed})
        r.raise_for_status()
        url = r.json()["images"][0]["url"].replace("\\u0026", "&")
        img = self.session.get(url, timeout=60)
        img.raise_for_status()
        _ = img.content
        return time.perf_counter() - t0


def prepare_fake(rig_: Rig, seeds: list[int], delay: float, cold_fake: bool) -> None:
    """Make the fake ready for a burst: pre-render `seeds` (untimed, 2 threads, no delay) so the
    timed calls get their pictures from its cache, then zero its counters (max_in_flight...)
    and set the per-generation delay."""
    backend = rig_.backend
    backend.reset()  # no knobs: the pre-render round trips are not delayed
    if not cold_fake:
        fakes = [DirectClient(backend, rig_.key) for _ in range(2)]
        with ThreadPoolExecutor(max_workers=len(fakes)) as pool:
            list(pool.map(lambda i: fakes[i % len(fakes)].round_trip(seeds[i]), range(len(seeds))))
    backend.reset()
    backend.set_faults(delay=delay)


def burst(app_url: str, seeds: list[int], timeout: float = 120) -> dict[str, Any]:
    """Submit one /generate per seed all at once (a thread each, released by a barrier), each a
    `call/generate` + its SSE stream. Wall = first POST sent → last `complete`/`error` seen.
    Succeeded: `complete` with a file; errored: `error` with a message; lost: everything else."""
    n = len(seeds)
    results: list[dict[str, Any] | None] = [None] * n
    gate = threading.Barrier(n + 1)

    def worker(i: int) -> None:
        session = new_session()
        try:
            gate.wait()
            t0 = time.perf_counter()
            try:
                results[i] = gradio_call(session, app_url, "generate", generate_data(seeds[i]), timeout)
            except Exception as exc:  # noqa: BLE001 - a lost call is a result, not a crash
                results[i] = {"event": None, "payload": None, "message": None, "t0": t0,
                              "t_queued": None, "t_done": time.perf_counter(),
                              "lost": f"{type(exc).__name__}: {str(exc)[:200]}"}
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    gate.wait()
    for t in threads:
        t.join(timeout + 30)
    done = [r for r in results if r is not None]
    ok: list[dict[str, Any]] = []
    errored: list[dict[str, Any]] = []
    lost_reasons = ["no answer: the thread did not finish"] * (n - len(done))
    for r in done:
        if r["event"] == "complete" and r["payload"] and isinstance(r["payload"][0], dict):
            ok.append(r)
        elif r["event"] == "error" and r["message"]:
            errored.append(r)
        else:
            lost_reasons.append(r.get("lost") or f"ended with {r['event']!r}: {str(r['payload'])[:200]}")
    starts = [r["t0"] for r in done]
    queued = [r["t_queued"] for r in done if r["t_queued"] is not None]
    return {
        "submitted": n,
        "succeeded": len(ok),
        "errored": len(errored),
        "errors": sorted({r["message"] for r in errored}),
        "lost": n - len(ok) - len(errored),
        "lost_reasons": lost_reasons,
        "wall": max(r["t_done"] for r in done) - min(starts) if done else float("nan"),
        "submit_spread": max(queued) - min(starts) if queued else float("nan"),
        "per_call": [r["t_done"] - r["t0"] for r in ok],
    }


def count_pngs(folder: Path) -> int:
    """Saved PNGs, counted like Storage does: not in dot-folders (.thumbs, .trash), not .tmp- files."""
    count = 0
    for _dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        count += sum(1 for name in filenames if name.endswith(".png") and not name.startswith("."))
    return count


def history_rows(app_url: str) -> int:
    """Rows our app's history API returns (`call/history` with query "", offset 0, limit 500)."""
    with new_session() as session:
        res = gradio_call(session, app_url, "history", ["", 0, 500], timeout=60)
    if res["event"] != "complete" or not isinstance(res["payload"], list):
        raise RuntimeError(f"{app_url}: /history ended with {res['event']!r}: {str(res['payload'])[:300]}")
    return len(res["payload"][0])


# --------------------------------------------------------------------------- (b) /generate


def bench_generate(calls: int, warmup: int, workdir: Path, cold_fake: bool) -> dict[str, Any]:
    specs = [AppSpec("ours", "ours"), AppSpec("naive", "naive")]
    with rig(workdir, "generate-", specs) as r:
        fake, apps = r.fake, r.apps
        sessions = {name: new_session() for name in apps}
        seeds = iter(range(secrets.randbelow(10**9), 10**10))

        def one(name: str, seed: int) -> dict[str, Any]:
            return call_generate(sessions[name], apps[name].url, generate_data(seed))

        for _ in range(warmup):
            for name in apps:
                seed = next(seeds)
                if not cold_fake:
                    fake.round_trip(seed)
                one(name, seed)

        results: dict[str, list[dict[str, Any]]] = {"ours": [], "naive": []}
        fake_times: list[float] = []
        order = ["ours", "naive"]
        for i in range(calls):
            round_seeds = {name: next(seeds) for name in order}  # distinct seeds everywhere
            if not cold_fake:
                # Render + encode each picture in the fake now (untimed), so in the timed call
                # the fake answers from its cache: it is the "fast local fake" for both apps.
                for seed in round_seeds.values():
                    fake.round_trip(seed)
                fake_times.append(fake.round_trip(round_seeds["ours"]))
            time.sleep(0.05)
            for name in (order if i % 2 == 0 else order[::-1]):
                results[name].append(one(name, round_seeds[name]))
                time.sleep(0.05)  # let any after-response work finish before the other app runs

    out: dict[str, Any] = {"calls": calls, "warmup": warmup, "cold_fake": cold_fake, "apps": {}}
    for name, rows in results.items():
        out["apps"][name] = {
            phase: summary([r[phase] for r in rows])
            for phase in ("total", "submit", "until_complete", "download")
        }
        out["apps"][name]["file_bytes"] = int(percentile([r["file_bytes"] for r in rows], 50))
        out["apps"][name]["file_type"] = rows[0]["file_type"]
    if fake_times:
        out["fake_round_trip"] = summary(fake_times)
    ours = [r["total"] for r in results["ours"]]
    naive = [r["total"] for r in results["naive"]]
    ratio = out["apps"]["ours"]["total"]["median_ms"] / out["apps"]["naive"]["total"]["median_ms"]
    out["ratio_ours_vs_naive"] = ratio
    out["ratio_ours_vs_naive_paired"] = paired_ratio(ours, naive)
    out["target"] = GENERATE_TARGET
    out["target_met"] = ratio <= GENERATE_TARGET
    return out


def report_generate(res: dict[str, Any], profile: dict[str, Any] | None) -> None:
    """Print (b) and keep the printed table in res["table"]."""
    o, n = res["apps"]["ours"], res["apps"]["naive"]
    ratio = res["ratio_ours_vs_naive"]
    rows = [
        {"name": "naive app /generate (baseline)", "stats": n["total"], "ratio": 1.0,
         "note": f"bench/naive_app.py: requests + PIL, PNG saved at level 6, {n['file_type'].upper()} "
                 f"re-encode by gr.Image ({n['file_bytes'] / 1024:.0f} KB download)"},
        {"name": "our app /generate", "stats": o["total"], "ratio": ratio,
         "target": f"<={GENERATE_TARGET}x", "verdict": verdict(ratio, GENERATE_TARGET),
         "note": f"launch.py: service + Storage.save, PNG path handed to gr.Image "
                 f"({o['file_bytes'] / 1024:.0f} KB {o['file_type'].upper()} download)"},
    ]
    if "fake_round_trip" in res:
        rows.append({"name": "fake API alone (reference)", "stats": res["fake_round_trip"],
                     "note": "POST + GET image straight to the FakeApi from the bench process"})
    for name, a in (("naive", n), ("ours", o)):
        for phase, label in (("submit", "POST call/generate"), ("until_complete", "SSE until 'complete'"),
                             ("download", "GET the image file")):
            rows.append({"name": f"  {name}: {label}", "stats": a[phase], "note": "phase of the row above"})
    fake = "answers from its render cache (pre-warmed, untimed)" if not res["cold_fake"] else \
        "renders each picture inside the timed call (--cold-fake)"
    res["table"] = print_table(f"(b) /generate end to end over HTTP, {SIZE}, {res['calls']} interleaved calls per app "
                f"after {res['warmup']} warm-up each; one shared FakeApi that {fake}", rows)
    print(f"  ratio ours/naive: {ratio:.2f}x of medians, {res['ratio_ours_vs_naive_paired']:.2f}x "
          f"median of paired per-round ratios")
    print("  Timed: POST gradio_api/call/generate -> SSE until 'event: complete' -> GET the file URL.")
    print("  Not timed: our page's chained follow-ups (info line, gallery refresh) - the API call "
          "does not trigger them.")
    if profile:
        print(f"  Inside the function, in-process ({profile['reps']} reps, medians, same fake):")
        for section, steps in profile["sections"].items():
            total = sum(steps.values())
            print(f"    {section}: {total:.1f} ms = " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))


def profile_generate(reps: int, workdir: Path) -> dict[str, Any]:
    """Where a /generate's time goes inside each app's function plus Gradio's post-processing,
    measured in-process (no HTTP to the app): our service/save/cache-copy vs the naive steps."""
    from io import BytesIO

    import gradio as gr
    from gradio import processing_utils
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from webui.service import GenerationParams, ImageService

    key = "sk-bench-" + secrets.token_hex(8)
    root = Path(tempfile.mkdtemp(prefix="profile-", dir=workdir))
    backend = FakeApi(api_key=key).start()
    steps: dict[str, dict[str, list[float]]] = {"ours": {}, "naive": {}}

    def add(section: str, step: str, seconds: float) -> None:
        steps[section].setdefault(step, []).append(seconds)

    try:
        fake = DirectClient(backend, key)
        service = ImageService(backend.base_url, key)
        storage = Storage(root / "outputs").open()
        cache = root / "gradio-cache"
        cache.mkdir()
        out_image_naive = gr.Image()
        out_image_naive.GRADIO_CACHE = str(cache)  # keep its WebP copies in our temp dir
        session = requests.Session()
        for i in range(reps + 2):
            seed = 500_000 + i
            fake.round_trip(seed)  # pre-render
            # ours: the API call + download, the save, then what Gradio does with a path
            t0 = time.perf_counter()
            image = service.generate(GenerationParams(PROMPT, MODEL, SIZE, False, seed))
            t1 = time.perf_counter()
            record = storage.save(image.png, sample_fields(seed))
            t2 = time.perf_counter()
            path = storage.path_of(record)
            processing_utils.save_file_to_cache(path, str(cache))  # what Gradio does with a path
            t3 = time.perf_counter()
            # naive: the same calls with requests, decode, PNG save (level 6), WebP for gr.Image
            r = session.post(f"{backend.base_url}/images/generations",
                             headers={"Authorization": f"Bearer {key}"},
                             json={"model": MODEL, "prompt": PROMPT, "image_size": SIZE,
                                   "prompt_enhancement": False, "seed": seed})
            url = r.json()["images"][0]["url"].replace("\\u0026", "&")
            img = Image.open(BytesIO(session.get(url).content))
            t4 = time.perf_counter()
            info = PngInfo()
            info.add_text("parameters", f"{PROMPT}\nSeed: {seed}, Size: {SIZE}, Model: {MODEL}")
            img.save(root / f"naive-{seed}.png", pnginfo=info)
            t5 = time.perf_counter()
            out_image_naive.postprocess(img)  # Gradio's WebP encode + write into its cache
            t6 = time.perf_counter()
            if i < 2:
                continue  # warm-up
            add("ours", "API+download", t1 - t0)
            add("ours", "Storage.save", t2 - t1)
            add("ours", "hash+copy to Gradio cache", t3 - t2)
            add("naive", "API+download", t4 - t3)
            add("naive", "decode+PNG save (level 6)", t5 - t4)
            add("naive", "gr.Image WebP encode+write", t6 - t5)
        service.close()
    finally:
        backend.stop()
        shutil.rmtree(root, ignore_errors=True)
    return {
        "reps": reps,
        "sections": {
            "ours": {k: percentile([x * 1000 for x in v], 50) for k, v in steps["ours"].items()},
            "naive": {k: percentile([x * 1000 for x in v], 50) for k, v in steps["naive"].items()},
        },
    }


# --------------------------------------------------------------------------- (c) load


def bench_load(calls: int, workdir: Path, cold_fake: bool) -> dict[str, Any]:
    """`calls` generations submitted at once to our app (--concurrency 4), fake delay 0.5 s."""
    spec = AppSpec("ours", "ours", LOAD_CONCURRENCY)
    seeds = list(range(calls))
    # The fake keeps 32 rendered pictures; all `calls` pre-rendered ones must stay in its cache.
    with rig(workdir, "load-", [spec]) as r:
        r.backend.render_cache_entries = max(r.backend.render_cache_entries, calls + 8)
        app = r.apps["ours"]
        rows_before = history_rows(app.url)  # fresh outputs folder; also warms the API + SSE path
        prepare_fake(r, seeds, LOAD_DELAY, cold_fake)
        res = burst(app.url, seeds)
        stats = r.backend.stats()
        res["pngs"] = count_pngs(r.outputs("ours"))
        res["history_rows"] = history_rows(app.url)
    per_call = res.pop("per_call")
    res.update({
        "concurrency": LOAD_CONCURRENCY,
        "delay_s": LOAD_DELAY,
        "cold_fake": cold_fake,
        "history_rows_before": rows_before,
        "ideal_wall_s": calls * LOAD_DELAY / LOAD_CONCURRENCY,
        "max_in_flight": stats["max_in_flight"],
        "generation_requests": stats["generation_requests"],
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


# --------------------------------------------------------------------------- (d) 8 at once


def bench_concurrent(reps: int, workdir: Path, cold_fake: bool) -> dict[str, Any]:
    """8 generations submitted at once, fake delay 1.0 s: ours at --concurrency 8, ours at the
    default 4, and the naive app; `reps` rounds, the three interleaved with rotating order."""
    specs = [AppSpec("ours8", "ours", BURST_CONCURRENCY), AppSpec("ours4", "ours"), AppSpec("naive", "naive")]
    names = [spec.name for spec in specs]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with rig(workdir, "concurrent-", specs) as r:
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
                prepare_fake(r, rep_seeds, BURST_DELAY, cold_fake)
                res = burst(r.apps[name].url, rep_seeds)
                stats = r.backend.stats()
                res.pop("per_call")
                res.update(max_in_flight=stats["max_in_flight"], generation_requests=stats["generation_requests"])
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

        # -- in-process profile: where Storage.open() and Storage.history() spend their time
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

    with contextlib.closing(sqlite3.connect(outputs / "history.sqlite3")) as conn:
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
        print(f"  Storage.history(query, 0, 50) in-process on the 10,000 (median ms): first page {h['all']:.2f}, "
              f"'{rare}' {h['rare']:.2f}, no match {h['none']:.2f}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a rough look)")
    parser.add_argument("--only", choices=("save", "generate", "load", "concurrent", "history"), help="run one benchmark")
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
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    out = RESULTS / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nWrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
