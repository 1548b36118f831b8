"""What keeps one instance fast for a team: lean Gradio sessions, no queue analytics,
browsing off the queue, cacheable thumbnails. Speed itself is measured in bench/scale.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from gradio.state_holder import SessionState

from tools.appprocess import free_port
from webui.app import App, create_app
from webui.config import Settings
from webui.gradio_speed import LeanSessionState, LeanStateHolder


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = create_app(Settings(outputs=tmp_path / "outputs", demo=True, port=free_port()))
    app.launch(prevent_thread_lock=True)
    try:
        yield app
    finally:
        app.close()


def url(app: App, path: str) -> str:
    return f"http://127.0.0.1:{app.settings.port}/{path.lstrip('/')}"


def call(app: App, api_name: str, data: list) -> list:
    """Gradio's plain HTTP call API: POST, then the SSE stream until `complete`."""
    with requests.Session() as s:
        s.trust_env = False
        event_id = s.post(url(app, f"gradio_api/call/{api_name}"), json={"data": data}, timeout=30).json()["event_id"]
        text = s.get(url(app, f"gradio_api/call/{api_name}/{event_id}"), timeout=30).text
    lines = text.splitlines()
    assert "event: complete" in lines, text
    import json

    return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data:"))


def test_api_calls_open_lean_sessions_and_keep_no_analytics(app: App) -> None:
    for _ in range(5):
        assert call(app, "history", ["", 0, 24]) == [[]]
    holder = app.blocks.server_app.state_holder
    assert isinstance(holder, LeanStateHolder)
    sessions = list(holder.session_data.values())
    assert len(sessions) >= 5
    # no session rendered the whole page's config (Gradio touches a few State entries)
    assert all(dict.__len__(s.config_values) < len(s.page_ids) / 10 for s in sessions)
    queue = app.blocks._queue
    assert len(queue.event_analytics) <= 1
    assert queue.cached_event_analytics_summary == {"functions": {}}


def test_lean_session_config_matches_gradios_when_read(app: App) -> None:
    blocks = app.blocks
    eager, lean = SessionState(blocks), LeanSessionState(blocks)
    assert dict.__len__(lean.config_values) == 0
    some_id = next(iter(eager.config_values))
    for state in (eager, lean):
        state._update_value_in_config(some_id, "changed")
    assert dict.__len__(lean.config_values) == 1  # only what was touched
    assert list(lean.components) == list(eager.components)  # a deep link sees the same page
    assert lean.config_values[some_id]["props"].get("value") == "changed"
