"""Issue 16.5 and 16.6 figures: a flooding client and a password guesser against the app.

    python bench/flood.py            # about two minutes
    python bench/flood.py --quick

(f) Flood: the app runs with `--concurrency 2` against the fake API with a 1 s delay.
    One client (one browser session) submits 150 `/generate` calls at once while a
    second client calls `/history` in a loop and asks for one image of its own. Both
    sides are measured twice in the same run: with the default `--visitor-queue 8` and
    with the cap out of the way (`--visitor-queue 1000`), and `/history` alone with no
    flood as the floor.
(g) Guessing: 400 wrong passwords from one address, 8 at a time, while another user's
    `/history` is timed; against the same user's `/history` with nobody guessing.

Everything runs offline (the fake API on loopback); nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.support.fake_api import FakeApi  # noqa: E402
from tools.appprocess import AppProcess, clean_env, free_port  # noqa: E402
from webui.accounts import add_user  # noqa: E402

LAUNCH = ROOT / "launch.py"
ARGS = ["FLUX.1-schnell", "768x512", False, 1]


def start(folder: Path, fake: FakeApi, key: str, *flags: str) -> AppProcess:
    port = free_port()
    argv = [sys.executable, str(LAUNCH), "--port", str(port), "--outputs", str(folder / "outputs"), *flags]
    env = clean_env({"YUNYX_API_KEY": key, "YUNYX_API_BASE": fake.base_url,
                     "GRADIO_TEMP_DIR": str(folder / "gradio-cache")})
    folder.mkdir(parents=True, exist_ok=True)
    app = AppProcess(argv, cwd=folder, port=port, env=env)
    app.wait_ready()
    return app


def call(session: requests.Session, url: str, api: str, data: list, session_hash: str | None = None) -> Any:
    """One call over Gradio's plain HTTP API; returns (status of the join, result or None)."""
    body: dict[str, Any] = {"data": data}
    if session_hash:
        body["session_hash"] = session_hash
    joined = session.post(f"{url}gradio_api/call/{api}", json=body, timeout=300)
    if joined.status_code != 200:
        return joined.status_code, None
    text = session.get(f"{url}gradio_api/call/{api}/{joined.json()['event_id']}", timeout=300).text
    return 200, text


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def history_loop(url: str, stop: threading.Event, out: list[float], session: requests.Session | None = None) -> None:
    s = session or requests.Session()
    while not stop.is_set():
        out.append(timed(lambda: call(s, url, "history", ["", 0, 24])))


def flood_case(url: str, jobs: int) -> dict[str, Any]:
    """150 jobs from one session; meanwhile another client's /history loop and one generation."""
    stop, latencies = threading.Event(), []
    watcher = threading.Thread(target=history_loop, args=(url, stop, latencies))
    watcher.start()
    flooder = "flood-" + secrets.token_hex(4)
    with ThreadPoolExecutor(max_workers=32) as pool:
        started = time.perf_counter()
        # the flood only joins (one session's results would all come over one stream)
        futures = [pool.submit(lambda i: requests.post(f"{url}gradio_api/call/generate", timeout=300, json={
            "data": [f"flood {i}", *ARGS], "session_hash": flooder}).status_code, i) for i in range(jobs)]
        statuses = [f.result() for f in futures]
        flood_wall = time.perf_counter() - started  # until every call was admitted or refused
        own = timed(lambda: call(requests.Session(), url, "generate", ["my own", *ARGS], "second-" + flooder))
    stop.set()
    watcher.join()
    return {"admitted": statuses.count(200), "refused_429": statuses.count(429), "flood_answered_s": flood_wall,
            "second_generation_s": own, "history_median_s": statistics.median(latencies),
            "history_p90_s": statistics.quantiles(latencies, n=10)[-1], "history_calls": len(latencies)}


def quiet_history(url: str, seconds: float) -> dict[str, Any]:
    stop, latencies = threading.Event(), []
    threading.Timer(seconds, stop.set).start()
    history_loop(url, stop, latencies)
    return {"history_median_s": statistics.median(latencies), "history_calls": len(latencies)}


def guessing(folder: Path, fake: FakeApi, key: str, guesses: int) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    users = folder / "users.txt"
    add_user(users, "ann", "ann-password-123")
    add_user(users, "bob", "bob-password-456")
    app = start(folder / "app", fake, key, "--users", str(users))
    try:
        bob = requests.Session()
        assert bob.post(app.url + "login", data={"username": "bob", "password": "bob-password-456"}, timeout=30).ok
        quiet = []
        stop = threading.Event()
        threading.Timer(5, stop.set).start()
        history_loop(app.url, stop, quiet, bob)
        stop, busy = threading.Event(), []
        watcher = threading.Thread(target=history_loop, args=(app.url, stop, busy, bob))
        watcher.start()

        def guess(i: int) -> int:
            return requests.post(app.url + "login", data={"username": "ann", "password": f"guess-{i}"},
                                 timeout=60).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            started = time.perf_counter()
            statuses = list(pool.map(guess, range(guesses)))
            wall = time.perf_counter() - started
        stop.set()
        watcher.join()
        return {"guesses": guesses, "wall_s": wall, "hashed_400": statuses.count(400),
                "throttled_429": statuses.count(429), "other_user_history_median_s": statistics.median(busy),
                "other_user_history_p90_s": statistics.quantiles(busy, n=10)[-1],
                "quiet_history_median_s": statistics.median(quiet)}
    finally:
        app.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 flood jobs and 100 guesses")
    args = parser.parse_args()
    jobs, guesses = (50, 100) if args.quick else (150, 400)
    key = "bench-" + secrets.token_hex(8)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="flood-") as tmp, FakeApi(api_key=key) as fake:
        root = Path(tmp)
        fake.set_faults(delay=1.0)
        for name, cap in (("capped (--visitor-queue 8)", "8"), ("uncapped (--visitor-queue 1000)", "1000")):
            app = start(root / cap, fake, key, "--concurrency", "2", "--visitor-queue", cap)
            try:
                if not results:
                    results["quiet"] = quiet_history(app.url, 5)
                results[name] = flood_case(app.url, jobs)
            finally:
                app.stop()
        fake.set_faults(delay=None)
        results["guessing"] = guessing(root / "guess", fake, key, guesses)
    print(json.dumps(results, indent=2))
    print()
    print(f"(f) flood of {jobs} jobs, API delay 1 s, --concurrency 2; /history floor without a flood: "
          f"{results['quiet']['history_median_s'] * 1000:.0f} ms")
    print("| app | admitted | refused at once (429) | second client's /history median (p90) | its own image |")
    print("| --- | --- | --- | --- | --- |")
    for name in ("capped (--visitor-queue 8)", "uncapped (--visitor-queue 1000)"):
        r = results[name]
        print(f"| {name} | {r['admitted']} | {r['refused_429']} | {r['history_median_s'] * 1000:.0f} ms "
              f"({r['history_p90_s'] * 1000:.0f} ms) | {r['second_generation_s']:.1f} s |")
    g = results["guessing"]
    print(f"\n(g) {g['guesses']} wrong passwords, 8 at a time: {g['hashed_400']} hashed, {g['throttled_429']} "
          f"answered 429 before any hash, in {g['wall_s']:.1f} s; another user's /history median "
          f"{g['other_user_history_median_s'] * 1000:.0f} ms (p90 {g['other_user_history_p90_s'] * 1000:.0f} ms) "
          f"against {g['quiet_history_median_s'] * 1000:.0f} ms with nobody guessing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
