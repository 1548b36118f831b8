"""The benchmarks' rig: statistics, the tables and ratios they print, sample images, and the
apps they time (a fake API plus our app and the naive one, launched as processes).

Every benchmark in bench/ imports what it needs from here; `bench/run.py` runs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_api import FakeApi  # noqa: E402  (the demo server plus fault knobs)
from tools.appprocess import AppProcess, free_port  # noqa: E402
from webui import metadata  # noqa: E402
from webui.demo.render import encode, render  # noqa: E402
from webui.service import GenerationParams  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LAUNCH = ROOT / "launch.py"
NAIVE_APP = BENCH / "naive_app.py"

PROMPT = "an island near sea, with seagulls, moon shining over the sea, light house, boats in the background"
MODEL = "FLUX.1-schnell"
SIZE = "1024x1024"


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
def running(workdir: Path, prefix: str, specs: list[AppSpec]) -> Iterator[Rig]:
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


def measured_burst(rig_: Rig, app_url: str, seeds: list[int], delay: float, cold_fake: bool) -> dict[str, Any]:
    """`burst` against a fake made ready for it (`prepare_fake`), with what the fake saw: the
    most generations it held at once (`max_in_flight`) and how many it was asked for."""
    prepare_fake(rig_, seeds, delay, cold_fake)
    res = burst(app_url, seeds)
    stats = rig_.backend.stats()
    res.update(max_in_flight=stats["max_in_flight"], generation_requests=stats["generation_requests"])
    return res


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
