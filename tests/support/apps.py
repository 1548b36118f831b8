"""The web app built in this process with `create_app(settings)` and served on a free port.

About 0.5 s to start, against 2.5-4 s for `python launch.py`; two side by side are fine.
Only tests about processes (restart, kill -9, two processes, SIGTERM) launch `launch.py`
(see `tests/conftest.py: launch_app`, marked `process`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import ssl
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import requests

from tools.appprocess import clean_env, free_port
from webui.app import App, create_app
from webui.config import Settings, load_settings

# Like tools.appprocess.clean_env for child apps: Gradio must not phone home from a test.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def wait_for_page(url: str, timeout: float = 60) -> None:
    """Poll `GET /` until it answers 200, as a person's browser would find the app ready."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the app at {url} did not answer GET / within {timeout:g} s")
        time.sleep(0.05)


def launch(app: App, **launch_overrides: Any) -> str:
    """Serve `app` (built by `create_app`) in this process; its URL, ending in "/", once `GET /` answers.

    `_frontend=False` skips Gradio's own one-shot check of `GET /` (a 3 s timeout that a busy
    CI machine can miss, then "localhost is not accessible"); we poll instead.
    """
    _, local_url, _ = app.launch(prevent_thread_lock=True, _frontend=False, **launch_overrides)
    url = local_url if local_url.endswith("/") else local_url + "/"
    wait_for_page(url)
    return url


# What a gradio_client waits for each HTTP request: its own 5 s failed CI-like runs, where 50
# jobs submitted at once each POST to join the queue and some answers came later than that.
CLIENT_TIMEOUT = 120


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every test client.

    gradio_client opens a new httpx client for each request (up to four per call), and
    each builds its own context from the CA bundle: 22 ms of CPU, about 28 CPU-seconds
    over the non-browser tests although every app here is plain HTTP. httpx takes a ready context
    where gradio_client passes `ssl_verify` on as `verify=`.
    """
    import httpx

    return httpx.create_ssl_context()


def api_client(url: str, **options: Any) -> Any:
    """A gradio_client on `url` that waits as long as a loaded machine needs (`options` go to Client)."""
    from gradio_client import Client

    options.setdefault("httpx_kwargs", {"timeout": CLIENT_TIMEOUT})
    options.setdefault("ssl_verify", _ssl_context())
    return Client(url, verbose=False, **options)


class LogCapture(logging.Handler):
    """Every log record while an app runs, formatted as `launch.py` would print it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._lock:
            self._lines.append(line)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self._lines)


class ServedApp:
    """An in-process app with the same face as a launched one: `url`, `outputs`, `cwd`, `log()`, `stop()`.

    `cwd` is the folder its settings were read in (`.env`, `--users` relative paths);
    `app` is the `webui.app.App`, for tests that look inside (its storage, its core).
    """

    def __init__(self, settings: Settings, cwd: Path, **launch_overrides: Any) -> None:
        self.settings = settings
        self.cwd = cwd
        self.outputs = settings.outputs
        self._log = LogCapture()
        logging.getLogger().addHandler(self._log)
        webui_log = logging.getLogger("webui")
        self._webui_level = webui_log.level
        if webui_log.getEffectiveLevel() > logging.INFO:
            webui_log.setLevel(logging.INFO)  # what launch.py shows
        try:
            self.app: App = create_app(settings)
            self.url = launch(self.app, **launch_overrides)
        except BaseException:
            self.stop()
            raise

    def log(self) -> str:
        return self._log.text()

    def stop(self) -> None:
        """Close the server, storage, service and demo backend; safe to call twice."""
        app = getattr(self, "app", None)
        try:
            if app is not None:
                app.close()
        finally:
            logging.getLogger().removeHandler(self._log)
            logging.getLogger("webui").setLevel(self._webui_level)


def settings_for(tmp: Path, *args: str, env: Mapping[str, str] | None = None, outputs: Path | None = None,
                 **overrides: Any) -> Settings:
    """Settings as `python launch.py *args` in `tmp` would read them (flags, environment, `tmp/.env`),
    on a free port, then `overrides` for what has no flag (e.g. `max_retry_wait`)."""
    argv: Sequence[str] = ["--port", str(free_port()), "--outputs", str(outputs or tmp / "outputs"), *args]
    settings = load_settings(argv, environ=clean_env(env), cwd=tmp)
    return dataclasses.replace(settings, **overrides) if overrides else settings


def serve_app(tmp: Path, *args: str, env: Mapping[str, str] | None = None, outputs: Path | None = None,
              **overrides: Any) -> ServedApp:
    """Build and serve an app as `python launch.py *args` run in `tmp` would; ready when it returns."""
    tmp.mkdir(parents=True, exist_ok=True)
    return ServedApp(settings_for(tmp, *args, env=env, outputs=outputs, **overrides), tmp)


@contextmanager
def served(outputs: Path, **settings: Any) -> Iterator[ServedApp]:
    """An app from `Settings(outputs=..., **settings)` directly (for what has no flag, e.g. a
    `Secret` key), on a free port; stopped when the block ends."""
    app = ServedApp(Settings(outputs=outputs, port=free_port(), **settings), outputs.parent)
    try:
        yield app
    finally:
        app.stop()


class CallFailed(Exception):
    """An endpoint answered with an error event; the message is what a visitor would read."""


def call(url: str, api_name: str, *data: Any, headers: dict[str, str] | None = None, timeout: float = 60) -> list:
    """One call through Gradio's plain HTTP API (`/gradio_api/call/<name>`), as any script makes it.

    The body is JSON with ASCII escapes, so text gradio_client can't send (a lone surrogate) arrives.
    """
    base = f"{url}gradio_api/call/{api_name.strip('/')}"
    body = json.dumps({"data": list(data)}).encode()
    sent = requests.post(base, data=body, headers={"Content-Type": "application/json", **(headers or {})},
                         timeout=timeout)
    if sent.status_code != 200:
        raise CallFailed(f"HTTP {sent.status_code}: {sent.text}")
    event_id = sent.json()["event_id"]
    with requests.get(f"{base}/{event_id}", headers=headers, stream=True, timeout=timeout) as stream:
        event = None
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line.partition(":")[2])
                if event == "error":
                    raise CallFailed(payload if isinstance(payload, str) else json.dumps(payload))
                return payload
    raise CallFailed("the stream ended without a result")
