"""Apps built in this process with create_app(settings) and launched on a free port.

Used by the traffic tests (flooding, logins, hosts, tokens); the suite-wide fixture in
conftest may replace it once it lands.
"""

from __future__ import annotations

import dataclasses
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

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
        app.launch(prevent_thread_lock=True)
        yield Served(app, f"http://127.0.0.1:{port}/")
    finally:
        app.close()
