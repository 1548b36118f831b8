"""(b) `/generate` end to end: this app against the naive app (see bench/README.md)."""

from __future__ import annotations

import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rig import (  # noqa: E402
    MODEL,
    PROMPT,
    SIZE,
    AppSpec,
    DirectClient,
    call_generate,
    generate_data,
    new_session,
    paired_ratio,
    percentile,
    print_table,
    running,
    sample_fields,
    summary,
    verdict,
)

from tests.support.fake_api import FakeApi  # noqa: E402
from webui.storage import Storage  # noqa: E402

GENERATE_TARGET = 0.7  # ours / naive, medians

# --------------------------------------------------------------------------- (b) /generate


def bench_generate(calls: int, warmup: int, workdir: Path, cold_fake: bool) -> dict[str, Any]:
    specs = [AppSpec("ours", "ours"), AppSpec("naive", "naive")]
    with running(workdir, "generate-", specs) as r:
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
