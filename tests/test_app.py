"""End to end: the app served in-process (and, for a restart, `python launch.py`), driven through
gradio_client and plain HTTP."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from webui.db import database_files
from webui.storage import INDEX_NAME

from .conftest import TEST_KEY, launch_app, pngs, token
from .support.apps import ServedApp, api_client, serve_app
from .support.fake_api import FakeApi

PROMPT = "an island near sea, with seagulls, moon shining over the sea, light house"


@pytest.fixture(scope="module")
def client(demo_app: ServedApp) -> Client:
    return api_client(demo_app.url)


def test_generate_returns_the_saved_png_and_its_record(client: Client, demo_app: ServedApp) -> None:
    path, record = client.predict(PROMPT, "FLUX.1-schnell", "768x512", True, 4242, api_name="/generate")
    assert record["seed"] == 4242 and record["prompt"] == PROMPT
    assert record["model"] == "FLUX.1-schnell" and record["image_size"] == "768x512"
    assert record["prompt_enhancement"] is True and isinstance(record["inference"], (int, float))
    assert record["created_at"].endswith(("Z", "+00:00")) and record["id"]
    saved = demo_app.outputs / record["file"]
    assert saved.is_file() and "4242" in saved.name
    copy = Path(path).read_bytes()
    assert copy == saved.read_bytes()  # the copy is the saved PNG, not a re-encode
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (768, 512)
        assert json.loads(img.text["generation"]) == record
        assert img.text["parameters"].splitlines()[-1].startswith("Seed: 4242, Size: 768x512, Model: FLUX.1-schnell")


@pytest.mark.parametrize("seed", [-1, None])
def test_random_seed_is_chosen_and_recorded(client: Client, demo_app: ServedApp, seed) -> None:
    _, record = client.predict("random seed test", "FLUX.1-schnell", "1024x576", False, seed, api_name="/generate")
    assert isinstance(record["seed"], int) and 0 <= record["seed"] <= 9_999_999_999
    assert str(record["seed"]) in Path(record["file"]).name


def test_history_lists_newest_first_and_searches(client: Client) -> None:
    word = f"zebra{token()}"  # the app is shared: only this test's images have this word
    _, first = client.predict(f"{word.title()} crossing at noon", "FLUX.1-schnell", "768x512", False, 1,
                              api_name="/generate")
    _, second = client.predict(f"{word} in a meadow", "stable-diffusion-3-5-large", "768x512", False, 2,
                               api_name="/generate")
    found = client.predict(word.upper(), 0, 10, api_name="/history")
    assert [r["id"] for r in found] == [second["id"], first["id"]]
    assert client.predict(word.upper(), 1, 1, api_name="/history") == [first]
    assert client.predict("", 0, 500, api_name="/history")[0]["id"] == second["id"]
    assert client.predict("no such prompt anywhere", 0, 10, api_name="/history") == []


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, 501)])
def test_history_rejects_bad_paging(client: Client, offset: int, limit: int) -> None:
    with pytest.raises(AppError, match="offset|limit"):
        client.predict("", offset, limit, api_name="/history")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("   ", "FLUX.1-schnell", "768x512", False, 1), "type a prompt"),
        (("x" * 2001, "FLUX.1-schnell", "768x512", False, 1), "too long"),
        (("cat", "FLUX.1-schnell", "768x512", False, 10_000_000_000), "0 to 9999999999"),
        (("cat", "FLUX.1-schnell", "768x512", False, 1.5), "0 to 9999999999"),
        (("cat", "no-such-model", "768x512", False, 1), "no-such-model"),
    ],
)
def test_failures_are_clear_errors_and_leave_nothing_behind(client: Client, demo_app: ServedApp, args, text) -> None:
    before_files, before_rows = pngs(demo_app.outputs), len(client.predict("", 0, 500, api_name="/history"))
    with pytest.raises(AppError, match=text):
        client.predict(*args, api_name="/generate")
    assert pngs(demo_app.outputs) == before_files
    assert len(client.predict("", 0, 500, api_name="/history")) == before_rows
    # and the app keeps serving
    _, record = client.predict("still alive", "FLUX.1-schnell", "768x512", False, 3, api_name="/generate")
    assert record["seed"] == 3


def test_unknown_size_is_refused(client: Client) -> None:
    with pytest.raises(AppError, match="999x999"):
        client.predict("cat", "FLUX.1-schnell", "999x999", False, 1, api_name="/generate")


LIBRARY_ENDPOINTS = {"/recipes", "/recipe_save", "/recipe_delete", "/recipe_fill", "/recipes_export",
                     "/recipes_import", "/matrix"}


CURATION_ENDPOINTS = {"/mark", "/board", "/boards", "/board_edit", "/board_delete", "/bulk", "/delete", "/restore",
                      "/trash", "/searches", "/search_save", "/search_delete", "/batch", "/compare", "/export",
                      "/png_info"}


def test_only_the_documented_endpoints_are_public(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/generate", "/history"} | LIBRARY_ENDPOINTS | CURATION_ENDPOINTS
    assert len(endpoints["/generate"]["returns"]) == 2


def banner(url: str) -> str:
    """The banner's value in the page config (an i18n key the browser translates)."""
    config = requests.get(url + "config", timeout=10).json()
    return next(c["props"]["value"] for c in config["components"] if c["props"].get("elem_id") == "banner")


def test_page_says_demo_mode(demo_app: ServedApp) -> None:
    assert "demo_banner" in banner(demo_app.url)
    config = requests.get(demo_app.url + "config", timeout=10).text
    assert "Demo mode" in config and "YUNYX_API_KEY" in config
    assert "演示模式" in config  # the Chinese page says it too


def test_index_and_dotenv_are_never_served(demo_app: ServedApp) -> None:
    (demo_app.cwd / ".env").write_text(f"YUNYX_API_KEY={TEST_KEY}\n")
    index = demo_app.app.storage.index.path.resolve()
    for target in (index, demo_app.cwd / ".env", Path("/etc/passwd")):
        for prefix in ("gradio_api/file=", "file="):
            response = requests.get(f"{demo_app.url}{prefix}{target}", timeout=10)
            assert response.status_code != 200 or TEST_KEY not in response.text
            assert response.status_code in (403, 404), (target, response.status_code)


@pytest.mark.process
def test_history_survives_a_restart_and_a_deleted_index(tmp_path: Path) -> None:
    """The process stopped by SIGTERM (as `kill` or a service manager does) shuts down cleanly;
    the next app on the folder rebuilds the deleted index from the PNGs. (Ctrl-C is the stop of
    the two processes in test_resilience.py; the next app is built in-process: what it finds is
    files, not a process.)"""
    outputs = tmp_path / "outputs"
    first = launch_app(tmp_path, outputs=outputs)
    try:
        _, record = api_client(first.url).predict(
            "persistent lighthouse", "FLUX.1-schnell", "768x512", False, 77, api_name="/generate")
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(timeout=30) == 0
    finally:
        first.stop()
    assert "Stopped." in first.log()
    index, *journal = database_files(outputs / INDEX_NAME)
    index.unlink()
    for extra in journal:
        extra.unlink(missing_ok=True)
    second = serve_app(tmp_path, outputs=outputs)
    try:
        assert api_client(second.url).predict("lighthouse", 0, 10, api_name="/history") == [record]
    finally:
        second.stop()


def test_with_a_key_the_real_api_path_is_used_and_the_key_never_leaks(serve) -> None:
    """A key set: the app talks to the configured base (here a local fake) with the key."""
    with FakeApi(api_key=TEST_KEY) as backend:
        app = serve(env=backend.app_env())
        try:
            client = api_client(app.url)
            path, record = client.predict("keyed", "FLUX.1-schnell", "768x512", False, 5, api_name="/generate")
            assert backend.stats()["last_headers_auth_present"]
            backend.set_faults(status=401)
            with pytest.raises(AppError, match="YUNYX_API_KEY") as caught:
                client.predict("keyed", "FLUX.1-schnell", "768x512", False, 5, api_name="/generate")
            assert TEST_KEY not in str(caught.value)
            pages = [requests.get(app.url + p, timeout=10).text for p in ("", "config", "gradio_api/info")]
            assert "live_banner" in banner(app.url)
            for text in pages + [json.dumps(record), app.log()]:
                assert TEST_KEY not in text
            for file in app.outputs.rglob("*"):
                if file.is_file():
                    assert TEST_KEY.encode() not in file.read_bytes(), file
        finally:
            app.stop()
