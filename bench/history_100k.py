"""Benchmark (f): the app at 100,000 images (issue 13, item 9).

    python bench/history_100k.py                  # build (or reuse) the folder, then measure
    python bench/history_100k.py --images 20000   # a smaller run while developing

Measured against a baseline taken in the same run, never against a fixed number:
- start-up: `python launch.py` until `GET /` answers 200, on an empty folder and on the
  100,000 images with their index (median of rounds in rotating order);
- memory: the app's resident set size after start-up and a first `/history`, same two folders;
- `/history` over HTTP (POST + SSE, as a browser or script does): the first page, a rare word,
  `is:starred`, `board:` (targets: each <= 15 ms median), and a 2-character search that the
  trigram index cannot serve (reported, no target).

The folder is made like the app makes it (day folders, `parameters` + `generation` chunks,
one index row per image, the same 64x64 PNG for each), but written directly rather than
through `Storage.save`, so 100,000 images take a minute, not ten. 1% of the images are
starred, 1% are on the board "Picks", 0.1% have the rare word. Cached in
`bench/results/history-100k-<version>/` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests

from bench.history_10k import DETAILS, MODELS, STYLES, SUBJECTS, USERS, small_png
from bench.run import gradio_call
from tools.appprocess import AppProcess, clean_env, free_port
from webui import metadata
from webui.history import SCHEMA_VERSION, HistoryIndex
from webui.record import Record
from webui.service import IMAGE_SIZES
from webui.storage import INDEX_NAME, file_name, iso_utc

RESULTS = ROOT / "bench" / "results"
LAUNCH = ROOT / "launch.py"
RARE = "zeppelin"
BOARD = "Picks"
PER_DAY = 1000
TARGET_MS = 15.0
QUERIES = (("first page", ""), ("rare word", RARE), ("is:starred", "is:starred"), ("board:", f"board:{BOARD}"),
           ("2 characters (no trigram)", "zq"))


def build(target: Path, images: int, seed: int = 20261126) -> None:
    """Write `images` PNGs with their records into target/outputs and index them."""
    rng = random.Random(seed)
    png = small_png()
    outputs = target / "outputs"
    first = datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    starred = set(rng.sample(range(images), images // 100))
    picked = set(rng.sample(range(images), images // 100))
    rare = set(rng.sample(range(images), max(1, images // 1000)))
    for i in range(images):
        moment = first + timedelta(days=i // PER_DAY, seconds=(i % PER_DAY) * 80)
        words = [rng.choice(SUBJECTS), rng.choice(DETAILS), *(["a " + RARE] if i in rare else []), rng.choice(STYLES)]
        folder = outputs / moment.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        seed_value = rng.randrange(10_000_000_000)
        name = file_name(i % PER_DAY + 1, seed_value, ", ".join(words))
        record = Record.from_mapping({
            "id": uuid.UUID(int=rng.getrandbits(128)).hex, "created_at": iso_utc(moment), "user": rng.choice(USERS),
            "prompt": ", ".join(words), "model": rng.choice(MODELS), "image_size": rng.choice(IMAGE_SIZES),
            "seed": seed_value, "prompt_enhancement": rng.random() < 0.3, "inference": rng.randint(400, 9000),
            "file": f"{folder.name}/{name}", "starred": i in starred, "boards": [BOARD] if i in picked else [],
        })
        (folder / name).write_bytes(metadata.embed_record(png, record))
        records.append(record)
    index = HistoryIndex(outputs / INDEX_NAME)
    index.create()
    index.add_many(records)  # boards named in the records are made as they are on a rebuild
    index.close()
    # the first start records each folder's time; later starts only stat them
    from webui.storage import Storage
    Storage(outputs).open().close()


def fixture(images: int) -> Path:
    final = RESULTS / f"history-100k-v1-n{images}-schema{SCHEMA_VERSION}"
    if (final / "outputs" / INDEX_NAME).exists() and (final / "done").exists():
        print(f"  reusing {final.relative_to(ROOT)}")
        return final / "outputs"
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=RESULTS))
    t0 = time.perf_counter()
    build(scratch, images)
    (scratch / "done").write_text("")
    shutil.rmtree(final, ignore_errors=True)
    scratch.rename(final)
    print(f"  built {images:,} images in {time.perf_counter() - t0:.0f} s: {final.relative_to(ROOT)}")
    return final / "outputs"


class App(AppProcess):
    pass


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used: far less sensitive to a busy machine than the wall."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def launch(home: Path, outputs: Path) -> tuple[App, float, float]:
    """Start `launch.py` in demo mode; (app, wall seconds until GET / answered 200, CPU seconds by then)."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = clean_env({"GRADIO_TEMP_DIR": str(home / "gradio-cache")})
    t0 = time.perf_counter()
    app = App([sys.executable, str(LAUNCH), "--port", str(port), "--outputs", str(outputs)], cwd=home, port=port,
              env=env)
    with requests.Session() as session:
        while True:
            try:
                if session.get(app.url, timeout=5).status_code == 200:
                    return app, time.perf_counter() - t0, cpu_s(app.proc.pid)
            except requests.RequestException:
                pass
            if app.proc.poll() is not None or time.perf_counter() - t0 > 300:
                app.stop()
                raise RuntimeError("the app did not start")
            time.sleep(0.02)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="start-up rounds per folder")
    parser.add_argument("--calls", type=int, default=40, help="/history calls per query")
    args = parser.parse_args()
    outputs = fixture(args.images)
    work = Path(tempfile.mkdtemp(prefix="bench-100k-"))
    result: dict[str, Any] = {"images": args.images}
    try:
        starts: dict[str, list[float]] = {"empty": [], "indexed": []}
        cpus: dict[str, list[float]] = {"empty": [], "indexed": []}
        memory: dict[str, list[float]] = {"empty": [], "indexed": []}
        for rnd in range(args.rounds):
            for case in (["empty", "indexed"] if rnd % 2 == 0 else ["indexed", "empty"]):
                home = work / f"{case}-{rnd}"
                app, seconds, cpu = launch(home, home / "outputs" if case == "empty" else outputs)
                try:
                    starts[case].append(seconds)
                    cpus[case].append(cpu)
                    with requests.Session() as s:
                        gradio_call(s, app.url, "history", ["", 0, 50])
                    memory[case].append(rss_mb(app.proc.pid))
                    if case == "indexed" and rnd == 0:
                        result["latency_ms"] = latencies(app.url, args.calls)
                finally:
                    app.stop()
        result["startup_s"] = {k: statistics.median(v) for k, v in starts.items()}
        result["startup_cpu_s"] = {k: statistics.median(v) for k, v in cpus.items()}
        result["rss_mb"] = {k: statistics.median(v) for k, v in memory.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(result)


def latencies(url: str, calls: int) -> dict[str, dict[str, float]]:
    """Median and p90 of /history over HTTP per query, the queries interleaved."""
    times: dict[str, list[float]] = {name: [] for name, _ in QUERIES}
    rows: dict[str, int] = {}
    with requests.Session() as session:
        for i in range(calls + 5):
            for name, query in QUERIES:
                r = gradio_call(session, url, "history", [query, 0, 50])
                if r["event"] != "complete":
                    raise RuntimeError(f"/history {query!r}: {r['message']}")
                rows[name] = len(r["payload"][0])
                if i >= 5:
                    times[name].append((r["t_done"] - r["t0"]) * 1000)
    return {name: {"median": statistics.median(v), "p90": sorted(v)[int(len(v) * 0.9)], "rows": rows[name]}
            for name, v in times.items()}


def report(result: dict[str, Any]) -> None:
    start, cpu, rss = result["startup_s"], result["startup_cpu_s"], result["rss_mb"]
    print(f"\n(f) {result['images']:,} images")
    print(f"  start-up   empty {start['empty']:.2f} s   indexed {start['indexed']:.2f} s   "
          f"ratio {start['indexed'] / start['empty']:.2f}x (wall)")
    print(f"  start-up   empty {cpu['empty']:.2f} s   indexed {cpu['indexed']:.2f} s   "
          f"ratio {cpu['indexed'] / cpu['empty']:.2f}x (CPU; target <= 1.1x)")
    print(f"  memory     empty {rss['empty']:.0f} MB   indexed {rss['indexed']:.0f} MB   "
          f"ratio {rss['indexed'] / rss['empty']:.2f}x (target <= 1.2x)")
    for name, row in result["latency_ms"].items():
        verdict = "ok" if row["median"] <= TARGET_MS else "OVER"
        target = "" if "no trigram" in name else f"  {verdict} (<= {TARGET_MS:g})"
        print(f"  /history {name:<28} median {row['median']:6.1f} ms  p90 {row['p90']:6.1f} ms  "
              f"rows {row['rows']}{target}")
    out = RESULTS / "history-100k.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"  saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
