"""What keeps one instance fast for a team: lean Gradio sessions, no queue analytics, no busy
idle polling, browsing off the queue, cacheable thumbnails. Speed itself is measured in bench/scale.py."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from gradio.state_holder import SessionState

from tests.support.apps import launch
from tools.appprocess import free_port
from webui.app import App, create_app
from webui.config import Settings
from webui.gradio_speed import IDLE_POLL, PROGRESS_POLL, LeanSessionState, LeanStateHolder


def served(folder: Path) -> Iterator[App]:
    app = create_app(Settings(outputs=folder / "outputs", demo=True, port=free_port()))
    launch(app)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    """One app for the tests that only read it or make their own image."""
    yield from served(tmp_path_factory.mktemp("scale"))


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[App]:
    """An app no other test has called: its sessions and analytics are this test's alone."""
    yield from served(tmp_path)


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


def test_api_calls_open_lean_sessions_and_keep_no_analytics(fresh_app: App) -> None:
    app = fresh_app
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


def test_an_idle_queue_polls_every_ten_milliseconds_not_every_one(app: App) -> None:
    """Gradio's queue looks for work every 1 ms (its progress loop every 10 ms), busy or not;
    the app slows both (bench/idle.py measures what that saves). The loops must still read
    the attributes set, or a Gradio upgrade would bring the busy polling back unnoticed."""
    from gradio.queueing import Queue

    queue = app.blocks._queue
    assert (queue.sleep_when_free, queue.progress_update_sleep_when_free) == (IDLE_POLL, PROGRESS_POLL)
    assert "asyncio.sleep(self.sleep_when_free)" in inspect.getsource(Queue.start_processing)
    assert "asyncio.sleep(self.progress_update_sleep_when_free)" in inspect.getsource(Queue.start_progress_updates)


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


def test_gallery_files_are_cached_for_good_and_others_revalidate_with_304(app: App) -> None:
    path, record = call(app, "generate", ["a red fox", "FLUX.1-schnell", "1024x1024", False, 7])
    s = requests.Session()
    s.trust_env = False
    cached = s.get(url(app, path["url"].split("/", 3)[3]), timeout=30)  # Gradio's content-addressed copy
    assert cached.status_code == 200 and cached.headers["cache-control"] == "private, max-age=31536000, immutable"
    again = s.get(cached.url, headers={"If-None-Match": cached.headers["etag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    saved = app.storage.path_of(record)
    original = s.get(url(app, f"gradio_api/file={saved}"), timeout=30)
    assert original.status_code == 200 and original.headers["cache-control"] == "private, no-cache"
    assert s.get(original.url, headers={"If-None-Match": original.headers["etag"]}, timeout=30).status_code == 304
    changed = s.get(original.url, headers={"If-None-Match": '"something-else"'}, timeout=30)
    assert changed.status_code == 200 and changed.content == saved.read_bytes()


def test_browsing_events_skip_the_queue(app: App) -> None:
    """Paging, filters and selection answer over /run (no queue, no event stream)."""
    fns = app.blocks.fns.values()
    browse = [fn for fn in fns if getattr(fn.fn, "__name__", "") in ("page", "filters", "select", "recent")]
    assert browse and all(fn.queue is False for fn in browse)
    generation = [fn for fn in fns if getattr(fn.fn, "__name__", "") in ("run", "generate")]
    assert generation and all(fn.queue is not False for fn in generation)


def test_the_page_is_compressed_and_embeds_no_api_schemas(app: App) -> None:
    """The first visit's biggest download: the page with its config. Compressed like Gradio's
    scripts; the per-component API schemas stay in /config (gradio_client reads them) only."""
    import json

    s = requests.Session()
    s.trust_env = False
    page = s.get(url(app, "/"), headers={"Accept-Encoding": "br"}, timeout=30, stream=True)
    raw = page.raw.read(decode_content=False)
    assert page.headers["content-encoding"] == "br"
    import brotli

    html = brotli.decompress(raw).decode()
    assert len(raw) * 4 < len(html)
    start = html.index("window.gradio_config = ") + len("window.gradio_config = ")
    config, _ = json.JSONDecoder().raw_decode(html[start:])
    assert config["components"] and config["dependencies"]
    assert not any("api_info" in c or "example_inputs" in c for c in config["components"])
    assert "window.gradio_api_info = {" in html  # the page's API view has its own copy
    full = s.get(url(app, "config"), timeout=30).json()
    assert any("api_info" in c for c in full["components"])
    events = s.get(url(app, "gradio_api/info"), headers={"Accept-Encoding": "br, gzip"}, timeout=30)
    assert "content-encoding" not in events.headers  # Gradio's API answers as Gradio sends them
