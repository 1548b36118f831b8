"""(g) Gradio's temp folder after 1,000 generations: how big it gets, and what the sweep leaves.

    python bench/temp_folder.py            # 1,000 generations
    python bench/temp_folder.py --count 200

Gradio copies every image it serves (each result, each thumbnail a gallery shows) into
its temp folder, `GRADIO_TEMP_DIR`. The app sweeps those copies (`delete_cache`: each
hour, copies older than a day; all of them at shutdown). This run points
`GRADIO_TEMP_DIR` at a fresh folder, serves the app in this process in demo mode,
makes `--count` generations over Gradio's HTTP API (4 clients) with a history page view
after every ten, and prints the folder's size against the baseline measured in the same
run: the outputs folder, which holds the images themselves. Then it runs the sweep as
it runs a day later (age 0) and stops the app. Nothing asserts: these are measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
(ROOT / "bench" / "results").mkdir(exist_ok=True)
SCRATCH = Path(tempfile.mkdtemp(prefix="temp-folder-", dir=ROOT / "bench" / "results"))
os.environ["GRADIO_TEMP_DIR"] = str(SCRATCH / "gradio")  # read by Gradio at each use

import requests  # noqa: E402
from gradio.route_utils import delete_files_created_by_app  # noqa: E402

from tests.support.apps import serve_app  # noqa: E402
from tests.support.events import Events  # noqa: E402


def size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under `folder`."""
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    return len(files), sum(p.stat().st_size for p in files)


def generate(url: str, n: int) -> None:
    s = requests.Session()
    event = s.post(url + "gradio_api/call/generate",
                   json={"data": [f"temp folder {n}", "FLUX.1-schnell", "768x512", False, n]}, timeout=60).json()
    text = s.get(f"{url}gradio_api/call/generate/{event['event_id']}", timeout=120).text
    assert "event: complete" in text, text[-300:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    app = serve_app(SCRATCH / "app", outputs=SCRATCH / "outputs")
    temp = Path(os.environ["GRADIO_TEMP_DIR"])
    rows = []
    try:
        events = Events(app.url)
        page = events.find(writes=("history-gallery",))
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            for first in range(0, args.count, 10):
                list(pool.map(lambda n: generate(app.url, n), range(first, min(first + 10, args.count))))
                events.call(page, ["", "", "", False, "", 1])
        took = time.perf_counter() - started
        outputs = size(app.outputs)
        rows.append((f"after {args.count} generations ({took:.0f} s)", *size(temp)))
        delete_files_created_by_app(app.app.blocks, age=0)
        rows.append(("after the sweep, a day later", *size(temp)))
    finally:
        app.stop()
    rows.append(("after the app stops", *size(temp)))
    print(f"baseline: the outputs folder, {outputs[0]} files, {outputs[1] / 1e6:.1f} MB\n")
    print("| moment | files in Gradio's temp folder | MB | × outputs folder |")
    print("| --- | --- | --- | --- |")
    for moment, files, total in rows:
        print(f"| {moment} | {files} | {total / 1e6:.1f} | {total / max(outputs[1], 1):.2f}× |")
    results = ROOT / "bench" / "results" / "temp_folder.json"
    results.write_text(json.dumps({"count": args.count, "outputs": outputs, "rows": rows}, indent=1))
    shutil.rmtree(SCRATCH, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
