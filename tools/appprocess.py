"""A web app run as a child process, as a person runs it: the tests, the benchmarks and
the screenshot tool all start `launch.py` (or the bench's naive app) this way.

Ready when `GET /` answers 200; stopped with Ctrl-C (SIGINT), killed only if that hangs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Mapping, Sequence


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different free ports (all held at once while chosen, so no two are the same)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the app's own settings (no stray key), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUNYX_")}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


class AppProcess:
    def __init__(self, argv: Sequence[str], *, cwd: Path, port: int, env: Mapping[str, str],
                 log_path: Path | None = None) -> None:
        self.url = f"http://127.0.0.1:{port}/"
        self.cwd = cwd
        self.log_path = log_path or cwd / f"app-{port}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120, fail: Callable[[str], BaseException] = RuntimeError) -> None:
        """Poll `GET /` until it answers 200; raise `fail(message with the log)` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise fail(f"the app exited with {self.proc.returncode}:\n{self.log()}")
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise fail(f"the app did not answer GET / within {timeout:g} s:\n{self.log()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout: float = 60) -> None:
        """Ctrl-C, as a person would; kill only if that doesn't work within `timeout` seconds
        (a clean stop takes about 1 s, but far longer on a machine busy with other work)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
