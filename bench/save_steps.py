"""Where (a)'s `Storage.save` spends its time: each step timed inside real saves.

    python bench/save_steps.py [--reps 300]     # also printed by `python bench/run.py --only save`

Each step is wrapped (perf_counter around the real function) while `Storage.save` runs
on the sample answer, interleaved with the raw write it is compared with; "rest" is the
save's time outside the wrapped steps (the record, the uuid, Python glue). Medians per
step, so the steps need not add up to the median save exactly. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webui import metadata  # noqa: E402
from webui import storage as storage_module  # noqa: E402
from webui.history import HistoryIndex  # noqa: E402
from webui.provenance import Labeller  # noqa: E402

# (label, object, attribute): the steps of one save, in the order they run.
STEPS: tuple[tuple[str, Any, str], ...] = (
    ("labels: XMP + AIGC chunks built", Labeller, "chunks_for"),
    ("fresh name (counter, slug)", storage_module.Storage, "_next_name"),
    ("record chunks (JSON + infotext)", metadata, "text_chunks"),
    ("splice plan (pieces, no copy)", metadata, "text_pieces"),
    ("file: O_TMPFILE + writev + link", storage_module, "_link_unnamed"),
    ("background fsync handed over", storage_module.ThreadPoolExecutor, "submit"),
    ("SQLite index row (INSERT, WAL)", HistoryIndex, "add"),
)


@contextlib.contextmanager
def _timing(buckets: dict[str, list[float]]) -> Iterator[None]:
    originals = [(obj, attr, getattr(obj, attr)) for _, obj, attr in STEPS]
    for (label, obj, attr), (_, _, fn) in zip(STEPS, originals):
        setattr(obj, attr, _wrap(fn, buckets.setdefault(label, [])))
    try:
        yield
    finally:
        for obj, attr, fn in originals:
            setattr(obj, attr, fn)


def _wrap(fn: Callable, bucket: list[float]) -> Callable:
    def timed(*args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kw)
        finally:
            bucket.append(time.perf_counter() - t0)
    return timed


def profile_save(png: bytes, fields: Callable[[int], dict[str, Any]], reps: int, workdir: Path) -> dict[str, Any]:
    """Median ms per step of `Storage.save`, next to the raw write measured alongside."""
    root = Path(tempfile.mkdtemp(prefix="save-steps-", dir=workdir))
    try:
        store = storage_module.Storage(root / "outputs").open()
        raw_dir = root / "raw"
        raw_dir.mkdir()
        for i in range(10):  # warm-up: the first save scans the day folder
            store.save(png, fields(i))
        buckets: dict[str, list[float]] = {}
        raw: list[float] = []
        total: list[float] = []
        rest: list[float] = []  # per save: its time outside the wrapped steps
        raw_cpu: list[float] = []  # CPU time of this thread: what a busy machine's queueing leaves out
        save_cpu: list[float] = []
        with _timing(buckets):
            for i in range(reps):
                t0, c0 = time.perf_counter(), time.thread_time()
                with open(raw_dir / f"raw-{i}.png", "wb") as fh:
                    fh.write(png)
                raw.append(time.perf_counter() - t0)
                raw_cpu.append(time.thread_time() - c0)
                before = {label: len(v) for label, v in buckets.items()}
                t0, c0 = time.perf_counter(), time.thread_time()
                store.save(png, fields(100 + i))
                total.append(time.perf_counter() - t0)
                save_cpu.append(time.thread_time() - c0)
                inside = sum(sum(v[before[label]:]) for label, v in buckets.items())
                rest.append(total[-1] - inside)
        store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    steps = {label: statistics.median(v) * 1000 for label, v in buckets.items() if v}
    save_ms = statistics.median(total) * 1000
    return {
        "reps": reps,
        "raw_ms": statistics.median(raw) * 1000,
        "save_ms": save_ms,
        "steps_ms": steps,
        "rest_ms": statistics.median(rest) * 1000,
        "raw_cpu_ms": statistics.median(raw_cpu) * 1000,
        "save_cpu_ms": statistics.median(save_cpu) * 1000,
    }


def report(res: dict[str, Any]) -> None:
    raw = res["raw_ms"]
    print(f"\n(a) steps inside Storage.save, {res['reps']} saves, medians (raw write alongside: {raw:.3f} ms)")
    print(f"  {'step':40s} {'ms':>8s} {'x raw':>7s}")
    for label, ms in res["steps_ms"].items():
        print(f"  {label:40s} {ms:8.3f} {ms / raw:6.2f}x")
    print(f"  {'rest (record, uuid, glue)':40s} {res['rest_ms']:8.3f} {res['rest_ms'] / raw:6.2f}x")
    print(f"  {'Storage.save (whole)':40s} {res['save_ms']:8.3f} {res['save_ms'] / raw:6.2f}x")
    cpu_raw, cpu_save = res["raw_cpu_ms"], res["save_cpu_ms"]
    print(f"  CPU time of the calling thread (steadier on a busy machine): raw write {cpu_raw:.3f} ms, "
          f"Storage.save {cpu_save:.3f} ms, {cpu_save / cpu_raw:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import rig  # noqa: PLC0415  (the sample answer and fields of (a))

    workdir = rig.RESULTS
    workdir.mkdir(parents=True, exist_ok=True)
    report(profile_save(rig.sample_png(), rig.sample_fields, args.reps, workdir))


if __name__ == "__main__":
    main()
