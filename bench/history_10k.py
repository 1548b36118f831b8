"""The 10,000-image outputs folder for benchmark (e), built once and cached; plus an in-process
profile of what start-up and `/history` do with it.

    python bench/history_10k.py            # build (or find) the cached folder, print where it is
    python bench/history_10k.py --profile  # and time Storage.open() / Storage.history() on it

The folder is made exactly as the app makes it: every image goes through
`webui.storage.Storage.save` (files under `outputs/<YYYY-MM-DD>/`, `parameters` + `generation`
chunks, one index row each), with varied prompts, models, sizes, seeds and users, and a fake clock
that spreads the 10,000 saves over 30 days. The picture is one small 64x64 PNG: its bytes don't
matter for listing, searching or indexing, and small pictures make the build take seconds.

The result is cached in `bench/results/history-10k-<FIXTURE_VERSION>/` (git-ignored). Change
FIXTURE_VERSION when the recipe changes; the index schema version is part of the key, so a new
schema rebuilds it too.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from webui import storage as storage_module  # noqa: E402
from webui.db import database_files  # noqa: E402
from webui.history import SCHEMA_VERSION  # noqa: E402
from webui.service import IMAGE_SIZES, KNOWN_MODELS  # noqa: E402
from webui.storage import INDEX_NAME, Storage  # noqa: E402

RESULTS = ROOT / "bench" / "results"

IMAGES = 10_000
FIXTURE_RECIPE = "v1"  # bump when the recipe below changes
FIXTURE_VERSION = f"{FIXTURE_RECIPE}-n{IMAGES}-schema{SCHEMA_VERSION}"
RNG_SEED = 20260101
FIRST_DAY = datetime(2026, 1, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=30)

# Queries the benchmark sends: all images, a word in exactly 1% of the prompts, a word in none.
QUERY_ALL = ""
QUERY_RARE = "zeppelin"  # in exactly IMAGES // 100 prompts; no other prompt word contains it
QUERY_NONE = "xyzzy-no-such-prompt"

MODELS = (*KNOWN_MODELS, "FLUX.1-dev", "sdxl-turbo")
USERS = (None, None, None, "alice", "bob", "carol", "dave", "erin")  # about 3/8 anonymous
SUBJECTS = ("an island near sea", "a red fox", "an old castle", "a city street at night", "a bowl of ramen",
            "a mountain lake", "a robot gardener", "a cat on a windowsill", "a desert caravan",
            "a snowy forest", "a vintage car", "a jazz band", "a koi pond", "a space station", "a market stall")
DETAILS = ("with seagulls", "in the rain", "at golden hour", "under the moon", "with neon signs",
           "covered in moss", "seen from above", "with long shadows", "in thick fog", "with fireflies",
           "surrounded by flowers", "next to a river", "in early spring", "at dawn", "with boats in the background")
STYLES = ("oil painting", "watercolor", "photorealistic", "studio ghibli style", "isometric 3d render",
          "pencil sketch", "cinematic lighting", "low poly", "ukiyo-e print", "35mm film photo")


def small_png() -> bytes:
    """A 64x64 RGB PNG (a gradient), a few hundred bytes."""
    from PIL import Image

    img = Image.new("RGB", (64, 64))
    img.putdata([(x * 4, y * 4, 128) for y in range(64) for x in range(64)])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def plan(n: int = IMAGES, seed: int = RNG_SEED) -> Iterator[tuple[datetime, dict[str, Any]]]:
    """(moment, fields) of every save, oldest first, deterministic for a given seed."""
    rng = random.Random(seed)
    rare = set(rng.sample(range(n), n // 100))
    step = SPAN / n
    for i in range(n):
        moment = FIRST_DAY + step * i + timedelta(seconds=rng.uniform(0, step.total_seconds() * 0.9))
        words = [rng.choice(SUBJECTS), rng.choice(DETAILS)]
        if i in rare:
            words.append("a " + QUERY_RARE + " overhead")
        words.append(rng.choice(STYLES))
        yield moment, {
            "prompt": ", ".join(words),
            "model": rng.choice(MODELS),
            "image_size": rng.choice(IMAGE_SIZES),
            "prompt_enhancement": rng.random() < 0.3,
            "seed": rng.randrange(10_000_000_000),
            "inference": rng.randint(400, 9000),
            "user": rng.choice(USERS),
        }


def fixture_dir(version: str = FIXTURE_VERSION) -> Path:
    return RESULTS / f"history-10k-{version}"


def _build(target: Path) -> dict[str, Any]:
    """Save IMAGES pictures into target/outputs through Storage.save; returns the build facts."""
    png = small_png()
    now = [FIRST_DAY]
    outputs = target / "outputs"
    t0 = time.perf_counter()
    # Skip the per-save background fsync (10,000 fsyncs would make the build take minutes); the
    # files and the index are exactly the same with or without it.
    original_fsync = storage_module._fsync_file_and_folder
    storage_module._fsync_file_and_folder = lambda path: None
    try:
        storage = Storage(outputs, clock=lambda: now[0]).open()
        try:
            for moment, fields in plan():
                now[0] = moment
                storage.save(png, fields)
        finally:
            storage.close()  # the last connection's close checkpoints the WAL into the index file
    finally:
        storage_module._fsync_file_and_folder = original_fsync
    seconds = time.perf_counter() - t0
    days = sorted(p.name for p in outputs.iterdir() if p.is_dir() and not p.name.startswith("."))
    facts = {
        "version": FIXTURE_VERSION,
        "images": IMAGES,
        "png_bytes": len(png),
        "days": len(days),
        "first_day": days[0],
        "last_day": days[-1],
        "queries": {"all": QUERY_ALL, "rare": QUERY_RARE, "none": QUERY_NONE},
        "rare_matches": IMAGES // 100,
        "build_s": seconds,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (target / "fixture.json").write_text(json.dumps(facts, indent=2) + "\n")
    return facts


def ensure_fixture(log: Callable[[str], None] = print) -> tuple[Path, dict[str, Any], bool]:
    """The cached 10,000-image outputs folder: (outputs path, facts, built now?).

    Built into a scratch folder and renamed into place, so an interrupted build never leaves a
    half folder under the cached name; if another run finished first, its folder is used.
    """
    final = fixture_dir()
    facts_file = final / "fixture.json"
    if facts_file.exists() and (final / "outputs" / INDEX_NAME).exists():
        facts = json.loads(facts_file.read_text())
        log(f"  10,000-image folder: reusing {final.relative_to(ROOT)} (built once in {facts['build_s']:.1f} s)")
        return final / "outputs", facts, False
    RESULTS.mkdir(parents=True, exist_ok=True)
    log(f"  10,000-image folder: building {final.relative_to(ROOT)} through Storage.save ...")
    scratch = Path(tempfile.mkdtemp(prefix=f".building-{final.name}-", dir=RESULTS))
    try:
        facts = _build(scratch)
        if final.exists():  # a broken leftover (no fixture.json or no index): replace it
            shutil.rmtree(final, ignore_errors=True)
        try:
            scratch.rename(final)
        except OSError:  # a concurrent run put its own there first: use that one
            if not (final / "fixture.json").exists():
                raise
            facts = json.loads((final / "fixture.json").read_text())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log(f"  10,000-image folder: built in {facts['build_s']:.1f} s ({IMAGES} x Storage.save of a "
        f"{facts['png_bytes']}-byte 64x64 PNG, {facts['days']} day folders)")
    return final / "outputs", facts, True


def copy_without_index(outputs: Path, dest: Path) -> Path:
    """The same PNGs (hard links, else copies) in dest, without the index: the rebuild case."""
    for dirpath, dirnames, filenames in os.walk(outputs):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = Path(dirpath).relative_to(outputs)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            if not name.endswith(".png"):
                continue
            try:
                os.link(Path(dirpath, name), dest / rel / name)
            except OSError:
                shutil.copy2(Path(dirpath, name), dest / rel / name)
    return dest


def drop_index(outputs: Path) -> None:
    for path in database_files(outputs / INDEX_NAME):
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- in-process profile


class _Timers:
    """Exclusive wall time per label: a timed call nested in another timed call (relative()
    inside _record_from_file) counts only for itself, so the labels add up to the total."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[float] = []  # time spent in timed children, per open frame

    @contextlib.contextmanager
    def patch(self, cls: type, name: str, label: str) -> Iterator[None]:
        original = cls.__dict__[name]
        func = original.__func__ if isinstance(original, staticmethod) else original

        def wrapper(*args: Any, **kw: Any) -> Any:
            self._stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return func(*args, **kw)
            finally:
                spent = time.perf_counter() - t0
                children = self._stack.pop()
                self.seconds[label] = self.seconds.get(label, 0.0) + spent - children
                if self._stack:
                    self._stack[-1] += spent

        setattr(cls, name, staticmethod(wrapper) if isinstance(original, staticmethod) else wrapper)
        try:
            yield
        finally:
            setattr(cls, name, original)


OPEN_STEPS = (
    # (class, method, label); reconcile's own time is the set/dict work
    ("Storage", "_scan", "one walk of the folder (+ crash leftovers)"),
    ("HistoryIndex", "check", "index check (schema, BEGIN IMMEDIATE)"),
    ("HistoryIndex", "create", "index create"),
    ("Storage", "reconcile", "reconcile: set difference"),
    ("HistoryIndex", "files", "reconcile: SELECT file FROM images"),
    ("Storage", "_record_from_file", "reconcile: read records from PNGs"),
    ("HistoryIndex", "add_many", "reconcile: INSERT the rows"),
)


def profile_open(outputs: Path) -> dict[str, float]:
    """One Storage(outputs).open() with its steps timed (exclusive seconds, zeros left out), then close()."""
    from webui.history import HistoryIndex

    classes = {"Storage": Storage, "HistoryIndex": HistoryIndex}
    timers = _Timers()
    with contextlib.ExitStack() as stack:
        for cls, name, label in OPEN_STEPS:
            stack.enter_context(timers.patch(classes[cls], name, label))
        t0 = time.perf_counter()
        storage = Storage(outputs).open()
        total = time.perf_counter() - t0
    storage.close()
    steps = {label: timers.seconds[label] for _, _, label in OPEN_STEPS if timers.seconds.get(label, 0) >= 0.0005}
    steps["other"] = max(0.0, total - sum(steps.values()))
    steps["total Storage.open()"] = total
    return steps


def profile_history(outputs: Path, reps: int = 30) -> dict[str, float]:
    """Median seconds of Storage.history(query, 0, 50) for the three queries, in-process."""
    storage = Storage(outputs).open()
    out: dict[str, float] = {}
    try:
        for label, query in (("all", QUERY_ALL), ("rare", QUERY_RARE), ("none", QUERY_NONE)):
            times = []
            for _ in range(reps + 3):
                t0 = time.perf_counter()
                storage.index.search(query, 0, 50)
                times.append(time.perf_counter() - t0)
            times = sorted(times[3:])
            out[label] = times[len(times) // 2]
    finally:
        storage.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="store_true", help="time Storage.open() and Storage.history() on it")
    args = parser.parse_args(argv)
    outputs, facts, _ = ensure_fixture()
    print(f"  {outputs}")
    if args.profile:
        for name, seconds in profile_open(outputs).items():
            print(f"  open, index present: {name:<45} {seconds * 1000:8.1f} ms")
        with tempfile.TemporaryDirectory(prefix="rebuild-", dir=RESULTS) as tmp:
            copy = copy_without_index(outputs, Path(tmp) / "outputs")
            for name, seconds in profile_open(copy).items():
                print(f"  open, no index:      {name:<45} {seconds * 1000:8.1f} ms")
        for name, seconds in profile_history(outputs).items():
            print(f"  Storage.history({name!r}, 0, 50): {seconds * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
