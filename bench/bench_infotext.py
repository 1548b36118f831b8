"""(j) Reading hostile metadata: `parse_infotext` on 1 MB and 2 MB of the inputs that are
quadratic for A1111's pattern. Linear work means 2 MB costs about twice 1 MB; quadratic, four
times. The tests run the same 1 MB inputs (tests/test_metadata.py) without a clock."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rig import print_table, summary  # noqa: E402

from webui.metadata import parse_infotext  # noqa: E402

EXAMPLE_LINE = "Seed: 42, Size: 1024x1024, Model: FLUX.1-schnell, Prompt enhancement: False, Inference: 1234"
GROWTH_TARGET = 2.5  # time(2 MB) / time(1 MB), medians: linear is 2, quadratic 4

# Each builds about `n` characters of one hostile shape (the ids of the test's cases).
CASES = {
    "letters": lambda n: "a" * n,
    "keychars": lambda n: "ab cd-ef/" * (n // 9),
    "open-quote": lambda n: 'Key: "' + "x" * n,
    "escapes": lambda n: 'Kk: "\\", ' * (n // 9),
    "params": lambda n: "Model: a, " * (n // 10),
    "big-numbers": lambda n: "Seed: " + "9" * n + ", Size: 1x1, Inference: " + "1" * (n // 10),
    "lines": lambda n: "line\n" * (n // 5) + EXAMPLE_LINE,
    "neg": lambda n: "Negative prompt: x\n" * (n // 20) + EXAMPLE_LINE,
}


def time_parse(text: str) -> float:
    start = time.perf_counter()
    parse_infotext(text)
    return time.perf_counter() - start


def bench_infotext(reps: int) -> dict[str, Any]:
    """Interleaved: 1 MB then 2 MB of each case, `reps` times."""
    times: dict[str, dict[int, list[float]]] = {name: {1: [], 2: []} for name in CASES}
    for _ in range(reps):
        for name, build in CASES.items():
            for mb in (1, 2):
                times[name][mb].append(time_parse(build(mb * 1_000_000)))
    return {name: {"1mb": summary(t[1]), "2mb": summary(t[2])} for name, t in times.items()}


def report_infotext(res: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for name, stats in res.items():
        growth = stats["2mb"]["median_ms"] / max(stats["1mb"]["median_ms"], 1e-9)
        rows.append({"name": f"{name}, 1 MB", "stats": stats["1mb"], "note": "parse_infotext"})
        rows.append({"name": f"{name}, 2 MB", "stats": stats["2mb"], "ratio": growth,
                     "target": f"≤{GROWTH_TARGET}x", "verdict": "met" if growth <= GROWTH_TARGET else "MISSED",
                     "note": "ratio: 2 MB / 1 MB (linear 2, quadratic 4)"})
    return print_table("(j) parse_infotext on hostile 1 MB and 2 MB texts", rows)


if __name__ == "__main__":
    report_infotext(bench_infotext(5))
