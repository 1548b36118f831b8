"""Apps built in this process with create_app(settings) and launched on a free port.

Used by the traffic tests (flooding, logins, hosts, tokens); the suite-wide fixture in
conftest may replace it once it lands.
"""

from __future__ import annotations

import dataclasses
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import requests

from tests.support.apps import launch
from tools.appprocess import free_port
from webui.app import App, create_app
from webui.config import Settings

# Like tools.appprocess.clean_env for child apps: Gradio must not phone home from a test.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


@dataclasses.dataclass
class Served:
    app: App
    url: str  # ends with "/"

    @property
    def outputs(self) -> Path:
        return self.app.settings.outputs


@contextmanager
def served(outputs: Path, **settings: Any) -> Iterator[Served]:
    """create_app(Settings(outputs=..., **settings)) launched on 127.0.0.1 at a free port."""
    port = free_port()
    app = create_app(Settings(outputs=outputs, port=port, **settings))
    try:
        launch(app)
        yield Served(app, f"http://127.0.0.1:{port}/")
    finally:
        app.close()


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
