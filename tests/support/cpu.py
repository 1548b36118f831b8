"""How much work a call is, whatever else the machine runs: for "parsed in linear time" checks.

Wall time on a shared 2-core machine stretches with the load (a 1 MB chunk took 3 s at load 20,
against a 2 s bound); the CPU time of the calling thread does not. A parser that backtracks
exponentially needs minutes of CPU either way.
"""

from __future__ import annotations

import time
from typing import Any, Callable


def cpu_seconds(fn: Callable[..., Any], *args: Any) -> float:
    """CPU seconds this thread spends in `fn(*args)`."""
    start = time.thread_time()
    fn(*args)
    return time.thread_time() - start
