"""(a) Saving an image: `Storage.save` against writing the raw bytes (see bench/README.md)."""

from __future__ import annotations

import gc
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rig import ROOT, SIZE, paired_ratio, print_table, sample_fields, sample_png, summary, verdict  # noqa: E402

from webui import metadata  # noqa: E402
from webui.storage import Storage  # noqa: E402

SAVE_TARGET = 1.5  # Storage.save / raw write, medians

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
